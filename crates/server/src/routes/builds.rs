//! Workspace builds (coder-api.md §1.7): start, stop and delete as provisioner jobs, the build
//! list, cancel, and logs with a follow mode (a WebSocket) that streams until the job ends.
//!
//! Authorization as Coder decides it, with one deliberate difference: start and stop need only
//! the `start` / `stop` actions (Coder's builder also pre-checks `update`), so a role that grants
//! start/stop alone works. Delete needs `delete`.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::routes::logstream::{self, Upgrade};
use atrium_api::Response as Message;
use atrium_api::templates::ProvisionerJobLog;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, WorkspaceBuild};
use atrium_domain::builds;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
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

/// The build's log (the lines so far as JSON); with `follow` a WebSocket that sends each new
/// line as a JSON message and closes when the job ends, or when the reader may no longer read
/// the workspace.
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}/logs", tag = "Builds",
    params(("workspacebuild" = String, Path), ("after" = Option<i64>, Query),
        ("follow" = Option<bool>, Query, description = "Upgrade to a WebSocket streaming each line as a JSON message (present without a value, as codersdk sends it).")),
    responses((status = 200, body = Vec<ProvisionerJobLog>, description = "The lines so far."),
        (status = 101, description = "With `follow`: a WebSocket sending one `ProvisionerJobLog` JSON text message per line."),
        (status = 400, body = Message), (status = 404, body = Message)))]
async fn build_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
    upgrade: Upgrade,
) -> ApiResult<Response> {
    let log = builds::open_log(&state, &actor, &param).await?;
    let after = match params.single("after")? {
        Some(a) => a.parse::<i64>().map_err(|_| {
            ApiError::bad_request("Query parameters have invalid values.")
                .validation("after", "Query param \"after\" must be a valid integer")
        })?,
        None => 0,
    };
    logstream::respond(&state, log, after, &params, upgrade).await
}
