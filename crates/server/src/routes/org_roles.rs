//! An organization's roles: the built-ins with `assignable`, and custom roles — create, update,
//! delete — validated by the engine in Coder's order (rbac.md §4.3, §5). Custom roles are free
//! in Atrium; unknown type/action pairs are refused on update as on create.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::users::{AssignableRoles, Role as ApiRole};
use atrium_domain::org_roles;
use atrium_engine::custom_role::CustomRoleRequest;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_roles, create_role, update_role))
        .routes(routes!(delete_role))
}

/// Built-in org roles (those with a display name) and the org's custom roles, each with
/// whether the caller may assign it.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<AssignableRoles>)))]
async fn list_org_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &org_roles::list(&state, &actor, &param).await?))
}

/// Creates a custom role in the organization.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = ApiRole), (status = 400, body = Message)))]
async fn create_role(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &org_roles::create(&state, &actor, &param, &req).await?))
}

/// Replaces a custom role's display name and permissions.
#[utoipa::path(put, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = ApiRole), (status = 400, body = Message)))]
async fn update_role(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &org_roles::update(&state, &actor, &param, &req).await?))
}

/// Deletes a custom role (members keep the name, which then grants nothing).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}/members/roles/{roleName}", tag = "Members",
    params(("organization" = String, Path), ("roleName" = String, Path)), responses((status = 204), (status = 404, body = Message)))]
async fn delete_role(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    org_roles::delete(&state, &actor, &param, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
