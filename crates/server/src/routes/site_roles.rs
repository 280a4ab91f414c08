//! Site-wide custom and restriction roles (issue 20; Coder has none): `GET/POST/PUT
//! /api/v2/roles`, `DELETE /api/v2/roles/{name}`, in Coder's `Role` JSON. Defined by owners,
//! assigned through `PUT /users/{user}/roles`. The work is in [`atrium_domain::site_roles`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::users::{AssignableRoles, Role as ApiRole};
use atrium_domain::site_roles;
use atrium_engine::custom_role::CustomRoleRequest;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role, update_role))
        .routes(routes!(delete_role))
}

/// Site-wide custom and restriction roles, each with whether the caller may assign it.
#[utoipa::path(get, path = "/api/v2/roles", tag = "Members",
    responses((status = 200, body = Vec<AssignableRoles>), (status = 403, body = Message)))]
async fn list_roles(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &site_roles::list(&state, &actor).await?))
}

/// Creates a site-wide role (owners only): additive (`site_permissions`, `user_permissions`)
/// or, with `"restriction": true`, denies only.
#[utoipa::path(post, path = "/api/v2/roles", tag = "Members",
    responses((status = 200, body = ApiRole), (status = 400, body = Message), (status = 403, body = Message)))]
async fn create_role(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &site_roles::create(&state, &actor, &req).await?))
}

/// Replaces a site-wide role's definition (owners only).
#[utoipa::path(put, path = "/api/v2/roles", tag = "Members",
    responses((status = 200, body = ApiRole), (status = 400, body = Message), (status = 403, body = Message), (status = 404, body = Message)))]
async fn update_role(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &site_roles::update(&state, &actor, &req).await?))
}

/// Deletes a site-wide role (owners only); holders keep the name, which then grants nothing.
#[utoipa::path(delete, path = "/api/v2/roles/{roleName}", tag = "Members",
    params(("roleName" = String, Path)),
    responses((status = 204), (status = 403, body = Message), (status = 404, body = Message)))]
async fn delete_role(
    State(state): State<Shared>,
    actor: Actor,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    site_roles::delete(&state, &actor, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
