//! Workspace builds (coder-api.md §1.7): start, stop and delete as provisioner jobs, the build
//! list, cancel, and logs with a follow mode that streams until the job ends.
//!
//! Authorization as Coder decides it, with one deliberate difference: start and stop need only
//! the `start` / `stop` actions (Coder's builder also pre-checks `update`), so a role that grants
//! start/stop alone works. Delete needs `delete`.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::templates::ProvisionerJobLog;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, WorkspaceBuild};
use atrium_domain::builds::{self, Follow};
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_builds, create_build))
        .routes(routes!(get_build))
        .routes(routes!(cancel_build))
        .routes(routes!(build_logs))
}

/// Starts, stops or deletes a workspace.
#[utoipa::path(post, path = "/api/v2/workspaces/{workspace}/builds", tag = "Builds",
    request_body = CreateWorkspaceBuildRequest, params(("workspace" = String, Path)),
    responses((status = 201, body = WorkspaceBuild), (status = 400, body = Message), (status = 403, body = Message),
        (status = 406, body = Message), (status = 409, body = Message)))]
async fn create_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CreateWorkspaceBuildRequest>,
) -> ApiResult<Response> {
    let build = builds::create_build(&state, &actor, &param, req).await?;
    Ok(json_response(StatusCode::CREATED, &build))
}

/// The workspace's builds, newest first; `after_id` keeps those numbered after that build's.
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}/builds", tag = "Builds",
    params(("workspace" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
        ("after_id" = Option<uuid::Uuid>, Query)),
    responses((status = 200, body = Vec<WorkspaceBuild>), (status = 400, body = Message)))]
async fn list_builds(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let page = crate::extract::Page::from_query(&params)?;
    let out = builds::list_builds(&state, &actor, &param, page.limits(), page.after_id).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// One build.
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}", tag = "Builds",
    params(("workspacebuild" = String, Path)), responses((status = 200, body = WorkspaceBuild)))]
async fn get_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &builds::get_build(&state, &actor, &param).await?))
}

/// Asks the build's job to stop; the worker ends it as canceled.
#[utoipa::path(patch, path = "/api/v2/workspacebuilds/{workspacebuild}/cancel", tag = "Builds",
    params(("workspacebuild" = String, Path)), responses((status = 200, body = Message)))]
async fn cancel_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &builds::cancel_build(&state, &actor, &param).await?))
}

/// The build's log; `?follow=true` streams newline-delimited JSON lines until the job ends, or
/// until the reader may no longer read the workspace (checked every
/// [`builds::FOLLOW_RECHECK`]).
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}/logs", tag = "Builds",
    params(("workspacebuild" = String, Path), ("after" = Option<i64>, Query), ("follow" = Option<bool>, Query)),
    responses((status = 200, description = "The lines so far (JSON), or with `follow` one JSON line each (NDJSON).",
        content((Vec<ProvisionerJobLog> = "application/json"), (ProvisionerJobLog = "application/x-ndjson")))))]
async fn build_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let log = builds::open_log(&state, &actor, &param).await?;
    let after = match params.single("after")? {
        Some(a) => a.parse::<i64>().map_err(|_| {
            ApiError::bad_request("Query parameters have invalid values.")
                .validation("after", "Query param \"after\" must be a valid integer")
        })?,
        None => 0,
    };
    if !params.bool("follow")?.unwrap_or(false) {
        return Ok(json_response(StatusCode::OK, &log.lines(&state, after).await?));
    }
    let follow = log.follow(state.domain.clone(), after);
    let stream = futures_util::stream::unfold(follow, next_chunk);
    let mut response = HttpBody::from_stream(stream).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}

/// The follow's next batch as NDJSON (one line per log line), or the end of the stream.
async fn next_chunk(mut f: Follow) -> Option<(Result<Vec<u8>, std::io::Error>, Follow)> {
    let batch = match f.next_batch().await? {
        Ok(lines) => lines,
        Err(e) => return Some((Err(std::io::Error::other(e.to_string())), f)),
    };
    let mut chunk = Vec::new();
    for l in batch {
        if let Ok(mut bytes) = serde_json::to_vec(&l) {
            bytes.push(b'\n');
            chunk.extend(bytes);
        }
    }
    Some((Ok(chunk), f))
}
