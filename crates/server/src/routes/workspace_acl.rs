//! Workspace sharing (rbac.md §7.2): a workspace's user and group ACL. `admin` grants every
//! workspace action but `delete`; `use` grants `read`, `start`, `stop`, `ssh` and
//! `application_connect`. Changing the ACL needs `create` on the workspace, so the
//! creation-ban role also blocks sharing in its org (rbac.md §9.8).
//!
//! Granting cannot escalate (Atrium's rule; Coder's experimental sharing has none): a grantor
//! may only grant a role whose every action it holds on the workspace itself, and grantees
//! must belong to the workspace's organization (users as members, groups as its groups or its
//! Everyone group). Removing a grant needs only `create`.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::workspaces::{UpdateWorkspaceAcl, WorkspaceAclResponse};
use atrium_domain::workspace_acl;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(get_acl, patch_acl, delete_acl))
}

/// Who the workspace is shared with; needs `create` on the workspace (403 otherwise, where
/// Coder answers 500).
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 200, body = WorkspaceAclResponse)))]
async fn get_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &workspace_acl::get_acl(&state, &actor, &param).await?))
}

/// Shares the workspace with users and groups (merged: unnamed grantees keep their role).
#[utoipa::path(patch, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces", request_body = UpdateWorkspaceAcl,
    params(("workspace" = String, Path)), responses((status = 204), (status = 400, body = Message), (status = 403, body = Message)))]
async fn patch_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateWorkspaceAcl>,
) -> ApiResult<Response> {
    workspace_acl::patch_acl(&state, &actor, &param, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Stops sharing the workspace with anyone.
#[utoipa::path(delete, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 204)))]
async fn delete_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    workspace_acl::delete_acl(&state, &actor, &param).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
