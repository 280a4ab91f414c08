//! Uploads of template sources (coder-api.md §1.6): tar archives, stored once per content
//! hash, each owned by whoever uploaded it (rbac.md §2).

use crate::templates::TemplateAuthz;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{FileId, StoreError, files, templates};

/// Coder's upload limit.
pub const MAX_FILE_BYTES: usize = 10 << 20;

/// Coder also takes zip archives (converting them to tar); Atrium takes tar only.
pub const TAR: &str = "application/x-tar";

/// The engine object of a file owned by `owner`: org-less, so a member's user-level grant
/// covers their own uploads and only site roles (owner, template-admin) reach others'.
pub fn file_object(id: FileId, owner: atrium_store::UserId) -> Object<'static> {
    Object::of(ResourceType::File).with_id(id.uuid()).with_owner(owner.uuid())
}

pub fn too_large() -> Error {
    Error::new(Kind::PayloadTooLarge, "File is too large.")
        .detail(format!("The maximum upload size is {} MiB.", MAX_FILE_BYTES >> 20))
}

/// Whether the actor may read the file: as one of its uploaders, through their role (its
/// first uploader's file, for site roles), or — as Coder allows — by being able to update a
/// template built from it.
pub async fn can_read(state: &Domain, actor: &Caller, file: &files::File) -> Result<bool> {
    if actor.can(Action::Read, &file_object(file.id, file.created_by)) {
        return Ok(true);
    }
    if files::is_uploader(state.legacy_store(), file.id, actor.id()).await?
        && actor.can(Action::Read, &file_object(file.id, actor.id()))
    {
        return Ok(true);
    }
    for template in templates::list_using_file(state.legacy_store(), file.id).await? {
        let authz = TemplateAuthz::load(state, &template).await?;
        if actor.can(Action::Update, &authz.object()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A file the actor may read, or 404.
pub async fn readable_file(state: &Domain, actor: &Caller, id: FileId) -> Result<files::File> {
    let file = match files::get(state.legacy_store(), id).await {
        Ok(f) => f,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    if can_read(state, actor, &file).await? { Ok(file) } else { Err(Error::not_found()) }
}
