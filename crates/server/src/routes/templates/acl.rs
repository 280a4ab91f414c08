//! The template ACL (rbac.md §7.1): who besides their roles may read, use or administer a
//! template. Roles on the wire are `admin` (every action, `["*"]`), `use` (`read`, `use`) and
//! `""` (remove); the Everyone group is addressed by the org id. Editing needs `create` on
//! the template — "only those who may create the template edit its ACL".

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::templates::{AclAvailable, TemplateAcl, UpdateTemplateAcl};
use atrium_domain::template_acl;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(get_acl, update_acl)).routes(routes!(acl_available))
}

/// The template's ACL entries the caller may see (users and groups they may read); needs
/// `update` on the template (403 otherwise, where Coder answers 500).
#[utoipa::path(get, path = "/api/v2/templates/{template}/acl", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)),
    responses((status = 200, body = TemplateAcl), (status = 404, body = Message)))]
async fn get_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let acl = template_acl::get(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &acl))
}

/// Grants, changes or removes ACL entries.
#[utoipa::path(patch, path = "/api/v2/templates/{template}/acl", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)), request_body = UpdateTemplateAcl,
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn update_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateTemplateAcl>,
) -> ApiResult<Response> {
    let message = template_acl::update(&state, &actor, &param, req).await?;
    Ok(json_response(StatusCode::OK, &message))
}

/// The users and groups of the template's org that could be added to its ACL.
#[utoipa::path(get, path = "/api/v2/templates/{template}/acl/available", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)),
    responses((status = 200, body = AclAvailable), (status = 404, body = Message)))]
async fn acl_available(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let available = template_acl::available(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &available))
}
