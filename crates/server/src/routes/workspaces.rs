//! Workspaces (coder-api.md §1.7, §2.3): create (also on a user's behalf), list with `q`, get,
//! rename. Builds live in [`super::builds`]. The work is in [`atrium_domain::workspaces`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_bytes_response, json_response};
use crate::extract::{Body, Page, QueryParams};
use atrium_api::Response as Message;
use atrium_api::workspaces::{
    CreateWorkspaceRequest, UpdateWorkspaceRequest, Workspace, WorkspacesResponse,
};
use atrium_domain::workspaces;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_in_org))
        .routes(routes!(create_for_user))
        .routes(routes!(list_workspaces))
        .routes(routes!(get_workspace, rename_workspace))
        .routes(routes!(get_by_owner_and_name))
}

/// Creates a workspace in an org for `{user}` (`me`, or anyone the caller may create for).
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/members/{user}/workspaces", tag = "Workspaces",
    request_body = CreateWorkspaceRequest, params(("organization" = String, Path), ("user" = String, Path)),
    responses((status = 201, body = Workspace), (status = 404, body = Message), (status = 409, body = Message)))]
async fn create_in_org(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
    Body(req): Body<CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    let ws = workspaces::create(&state, &actor, Some(&org), &user, req).await?;
    Ok(json_response(StatusCode::CREATED, &ws))
}

/// Creates a workspace for `{user}` in the template's org.
#[utoipa::path(post, path = "/api/v2/users/{user}/workspaces", tag = "Workspaces",
    request_body = CreateWorkspaceRequest, params(("user" = String, Path)),
    responses((status = 201, body = Workspace)))]
async fn create_for_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    let ws = workspaces::create(&state, &actor, None, &user, req).await?;
    Ok(json_response(StatusCode::CREATED, &ws))
}

/// Workspaces the caller may read, filtered by `q`.
#[utoipa::path(get, path = "/api/v2/workspaces", tag = "Workspaces",
    params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = WorkspacesResponse), (status = 400, body = Message)))]
async fn list_workspaces(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let q = params.single("q")?.unwrap_or_default();
    let page = Page::from_query(&params)?;
    let page = atrium_domain::Page { limit: page.limit, offset: page.offset };
    let listed = workspaces::list_json(&state, &actor, q, page).await?;
    Ok(json_bytes_response(StatusCode::OK, listed))
}

/// A workspace by id.
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 200, body = Workspace), (status = 404, body = Message)))]
async fn get_workspace(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let json = workspaces::get_json(&state, &actor, &param).await?;
    Ok(json_bytes_response(StatusCode::OK, axum::body::Bytes::from_owner(json)))
}

/// A workspace by owner and name.
#[utoipa::path(get, path = "/api/v2/users/{user}/workspace/{workspacename}", tag = "Workspaces",
    params(("user" = String, Path), ("workspacename" = String, Path)), responses((status = 200, body = Workspace)))]
async fn get_by_owner_and_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ws = workspaces::get_by_owner_and_name(&state, &actor, &user, &name).await?;
    Ok(json_response(StatusCode::OK, &ws))
}

/// Renames a workspace.
#[utoipa::path(patch, path = "/api/v2/workspaces/{workspace}", tag = "Workspaces", request_body = UpdateWorkspaceRequest,
    params(("workspace" = String, Path)), responses((status = 204), (status = 409, body = Message)))]
async fn rename_workspace(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateWorkspaceRequest>,
) -> ApiResult<Response> {
    workspaces::rename(&state, &actor, &param, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
