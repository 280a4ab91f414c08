//! Uploads of template sources (coder-api.md §1.6): tar archives, stored once per content
//! hash, each owned by whoever uploaded it (rbac.md §2).

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use atrium_api::Response as Message;
use atrium_api::templates::UploadResponse;
#[allow(unused_imports)]
use atrium_domain::files::*;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{DbTime, FileId, files};
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An archive's bytes, as the OpenAPI document describes them (a binary string, not an array
/// of numbers).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Archive(Vec<u8>);

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(upload_file)).routes(routes!(download_file))
}

/// Uploads a tar archive; the same bytes again (by the same user) give the same id with 200.
#[utoipa::path(post, path = "/api/v2/files", tag = "Files",
    request_body(content = Archive, content_type = "application/x-tar"),
    responses((status = 201, body = UploadResponse), (status = 200, body = UploadResponse),
        (status = 400, body = Message), (status = 413, body = Message)))]
async fn upload_file(
    State(state): State<Shared>,
    actor: Actor,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "file").by(&actor);
    let result = async {
        // Any member may upload: the user level grants `create` on files they own.
        let own_file = Object::of(ResourceType::File).with_owner(actor.id().uuid());
        actor.require(Action::Create, &own_file)?;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if content_type != TAR {
            return Err(ApiError::bad_request(format!(
                "Unsupported content type header \"{content_type}\"."
            )));
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_FILE_BYTES) {
            return Err(too_large().into());
        }
        // Without a length header the limit is enforced while reading; the only way to fail
        // a read of a well-formed body is to pass it.
        let data = axum::body::to_bytes(body, MAX_FILE_BYTES).await.map_err(|_| too_large())?;
        let hash = hex(&Sha256::digest(&data));
        let mut tx = state.legacy_store().begin().await?;
        let upload = files::upload(
            &mut tx,
            &files::NewFile {
                id: FileId::new_v4(),
                hash: &hash,
                created_by: actor.id(),
                created_at: DbTime::now(),
                mimetype: &content_type,
                data: &data,
            },
        )
        .await?;
        let id = upload.file.id;
        let body = UploadResponse { hash: id.uuid() };
        if !upload.new_for_uploader {
            // Nothing changed: no audit row.
            tx.rollback().await?;
            return Ok(json_response(StatusCode::OK, &body));
        }
        entry.resource(id.uuid(), hash.clone());
        entry.changed(&json!({}), &json!({"id": id, "hash": hash, "size": data.len()}));
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::CREATED, &body))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// The uploaded bytes.
#[utoipa::path(get, path = "/api/v2/files/{fileID}", tag = "Files",
    params(("fileID" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "application/x-tar", body = Archive),
        (status = 404, body = Message)))]
async fn download_file(
    State(state): State<Shared>,
    actor: Actor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id: FileId = id.parse().map_err(|_| {
        ApiError::bad_request("Invalid file id.").detail(format!("\"{id}\" is not a valid uuid"))
    })?;
    let file = readable_file(&state, &actor, id).await?;
    let mut response = (StatusCode::OK, file.data).into_response();
    let mimetype = HeaderValue::from_str(&file.mimetype)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    response.headers_mut().insert(header::CONTENT_TYPE, mimetype);
    Ok(response)
}
