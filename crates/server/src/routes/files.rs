//! Uploads of template sources (coder-api.md §1.6): tar archives, stored once per content
//! hash, each owned by whoever uploaded it (rbac.md §2).

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use atrium_api::Response as Message;
use atrium_api::templates::UploadResponse;
use atrium_domain::files::{self, MAX_FILE_BYTES};
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An archive's bytes, as the OpenAPI document describes them (a binary string, not an array
/// of numbers).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Archive(Vec<u8>);

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(upload_file)).routes(routes!(download_file))
}

/// Uploads a tar or zip archive (a zip is stored as its tar form, as Coder does); the same
/// bytes again (by the same user) give the same id with 200.
#[utoipa::path(post, path = "/api/v2/files", tag = "Files",
    request_body(content((Archive = "application/x-tar"), (Archive = "application/zip"),
        (Archive = "application/x-zip-compressed"))),
    responses((status = 201, body = UploadResponse), (status = 200, body = UploadResponse),
        (status = 400, body = Message), (status = 413, body = Message)))]
async fn upload_file(
    State(state): State<Shared>,
    actor: Actor,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // Read only once the domain has accepted the caller, the type and the declared length.
    // Without a length header the limit is enforced while reading; the only way to fail a read
    // of a well-formed body is to pass it.
    let read = async { axum::body::to_bytes(body, MAX_FILE_BYTES).await.ok() };
    let uploaded = files::upload(&state, &actor, content_type, declared, read).await?;
    let status = if uploaded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, &uploaded.response))
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
    let file = files::download(&state, &actor, &id).await?;
    let mut response = (StatusCode::OK, file.data).into_response();
    let mimetype = HeaderValue::from_str(&file.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    response.headers_mut().insert(header::CONTENT_TYPE, mimetype);
    Ok(response)
}
