//! Site roles of a user and the assignable role list (coder-api.md §1.2, rbac.md §4). The
//! work is in [`atrium_domain::user_roles`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::users::{AssignableRoles, UpdateRoles, UserRoles};
use atrium_domain::user_roles;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(get_user_roles, put_user_roles))
        .routes(routes!(list_site_roles))
}

/// `{roles, organization_roles}` of a user; org roles only in orgs whose members the caller
/// may read.
#[utoipa::path(get, path = "/api/v2/users/{user}/roles", tag = "Members",
    params(("user" = String, Path)), responses((status = 200, body = UserRoles)))]
async fn get_user_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &user_roles::get(&state, &actor, &user).await?))
}

/// Replaces a user's site roles (`member` is implicit).
#[utoipa::path(put, path = "/api/v2/users/{user}/roles", tag = "Members", request_body = UpdateRoles,
    params(("user" = String, Path)), responses((status = 200, body = atrium_api::users::User), (status = 400, body = Message)))]
async fn put_user_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<UpdateRoles>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &user_roles::update(&state, &actor, &user, &req).await?))
}

/// Site roles with whether the caller may assign each (the static table, rbac.md §4.3), then
/// the site-wide custom and restriction roles.
#[utoipa::path(get, path = "/api/v2/users/roles", tag = "Members", responses((status = 200, body = Vec<AssignableRoles>)))]
async fn list_site_roles(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &user_roles::list_site_roles(&state, &actor).await?))
}
