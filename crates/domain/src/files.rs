//! Uploads of template sources (coder-api.md §1.6): tar archives, stored once per content
//! hash, each owned by whoever uploaded it (rbac.md §2).

use std::future::Future;

use crate::audit::{self, Entry};
use crate::templates::TemplateAuthz;
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::templates::UploadResponse;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{DbTime, FileId, StoreError, files, templates};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Coder's upload limit.
pub const MAX_FILE_BYTES: usize = 10 << 20;

/// Archives are stored as tar; zip uploads are converted ([`crate::files_zip`]), as Coder does.
const TAR: &str = "application/x-tar";

/// The engine object of a file owned by `owner`: org-less, so a member's user-level grant
/// covers their own uploads and only site roles (owner, template-admin) reach others'.
fn file_object(id: FileId, owner: atrium_store::UserId) -> Object<'static> {
    Object::of(ResourceType::File).with_id(id.uuid()).with_owner(owner.uuid())
}

/// 413: the upload is larger than [`MAX_FILE_BYTES`].
fn too_large() -> Error {
    Error::new(Kind::PayloadTooLarge, "File is too large.")
        .detail(format!("The maximum upload size is {} MiB.", MAX_FILE_BYTES >> 20))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A stored upload: its id, and whether it is new for this uploader (201) or the same bytes
/// they uploaded before (200, nothing written).
pub struct Uploaded {
    pub response: UploadResponse,
    pub created: bool,
}

/// Uploads a tar archive; the same bytes again (by the same user) give the same id. Needs
/// `create` on a file the caller owns (any member's user-level grant). Checked in this order,
/// each refusal audited: the grant, the content type (`TAR` only), the declared length, then
/// `body` is awaited — it yields the bytes, or `None` when they exceed [`MAX_FILE_BYTES`].
pub async fn upload<B: AsRef<[u8]>>(
    d: &Domain,
    caller: &Caller,
    content_type: &str,
    declared_len: Option<usize>,
    body: impl Future<Output = Option<B>>,
) -> Result<Uploaded> {
    let mut entry = Entry::new("create", "file").by(caller);
    let result = async {
        // Any member may upload: the user level grants `create` on files they own.
        let own_file = Object::of(ResourceType::File).with_owner(caller.id().uuid());
        caller.require(Action::Create, &own_file)?;
        let zip = crate::files_zip::ZIP_TYPES.contains(&content_type);
        if content_type != TAR && !zip {
            return Err(Error::bad_request(format!(
                "Unsupported content type header \"{content_type}\"."
            )));
        }
        if declared_len.is_some_and(|n| n > MAX_FILE_BYTES) {
            return Err(too_large());
        }
        let body = body.await.ok_or_else(too_large)?;
        let converted;
        let data = if zip {
            let bytes = body.as_ref();
            converted = crate::files_zip::zip_to_tar(bytes, MAX_FILE_BYTES)?;
            converted.as_slice()
        } else {
            body.as_ref()
        };
        let hash = hex(&Sha256::digest(data));
        let mut tx = d.store().begin().await?;
        let upload = files::upload(
            &mut tx,
            &files::NewFile {
                id: FileId::new_v4(),
                hash: &hash,
                created_by: caller.id(),
                created_at: DbTime::now(),
                mimetype: TAR,
                data,
            },
        )
        .await?;
        let id = upload.file.id;
        let response = UploadResponse { hash: id.uuid() };
        if !upload.new_for_uploader {
            // Nothing changed: no audit row.
            tx.rollback().await?;
            return Ok(Uploaded { response, created: false });
        }
        entry.resource(id.uuid(), hash.clone());
        entry.changed(&json!({}), &json!({"id": id, "hash": hash, "size": data.len()}));
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Ok(Uploaded { response, created: true })
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// An upload's bytes and the content type it was uploaded with.
pub struct Download {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The bytes of a file the caller may read ([`readable_file`]); 400 for a malformed id, 404
/// for a missing or unreadable file.
pub async fn download(d: &Domain, caller: &Caller, id: &str) -> Result<Download> {
    let id: FileId = id.parse().map_err(|_| {
        Error::bad_request("Invalid file id.").detail(format!("\"{id}\" is not a valid uuid"))
    })?;
    let file = readable_file(d, caller, id).await?;
    Ok(Download { content_type: file.mimetype, data: file.data })
}

/// Whether the actor may read the file: as one of its uploaders, through their role (its
/// first uploader's file, for site roles), or — as Coder allows — by being able to update a
/// template built from it.
async fn can_read(state: &Domain, actor: &Caller, file: &files::File) -> Result<bool> {
    if actor.can(Action::Read, &file_object(file.id, file.created_by)) {
        return Ok(true);
    }
    if files::is_uploader(state.store(), file.id, actor.id()).await?
        && actor.can(Action::Read, &file_object(file.id, actor.id()))
    {
        return Ok(true);
    }
    for template in templates::list_using_file(state.store(), file.id).await? {
        let authz = TemplateAuthz::load(state, &template).await?;
        if actor.can(Action::Update, &authz.object()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A file the actor may read, or 404.
pub async fn readable_file(state: &Domain, actor: &Caller, id: FileId) -> Result<files::File> {
    let file = match files::get(state.store(), id).await {
        Ok(f) => f,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    if can_read(state, actor, &file).await? { Ok(file) } else { Err(Error::not_found()) }
}
