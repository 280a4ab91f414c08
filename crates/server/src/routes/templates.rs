//! Templates (coder-api.md §1.6): create from an imported version, list by what you may read,
//! get, update, delete; the ACL lives in [`acl`].
//!
//! A template is checked as rbac.md §2 says: type `template`, its id, its org, no owner, and
//! its user and group ACL — so an Everyone entry (keyed by the org id) lets every org member
//! read and use it, and an `admin` entry is every template action.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::templates::{CreateTemplateRequest, Template as ApiTemplate, UpdateTemplateMeta};
use atrium_domain::templates;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod acl;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_templates, create_template))
        .routes(routes!(get_template_by_name))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, update_template, delete_template))
        .merge(acl::routes())
}

/// Creates a template from an imported version; Everyone gets `use` unless asked otherwise
/// (or the server closes new templates by default).
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/templates", tag = "Templates",
    params(("organization" = String, Path)), request_body = CreateTemplateRequest,
    responses((status = 201, body = ApiTemplate), (status = 400, body = Message),
        (status = 403, body = Message), (status = 409, body = Message)))]
async fn create_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<CreateTemplateRequest>,
) -> ApiResult<Response> {
    let template = templates::create(&state, &actor, &org, req).await?;
    Ok(json_response(StatusCode::CREATED, &template))
}

/// `q` and the page of a template list.
fn list_params(params: &QueryParams) -> ApiResult<(String, atrium_domain::Page)> {
    let q = params.single("q")?.unwrap_or_default().to_owned();
    let page = crate::extract::Page::from_query(params)?;
    Ok((q, atrium_domain::Page { limit: page.limit, offset: page.offset }))
}

/// The org's templates the caller may read, by name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/templates", tag = "Templates",
    params(("organization" = String, Path), ("q" = Option<String>, Query)),
    responses((status = 200, body = Vec<ApiTemplate>), (status = 404, body = Message)))]
async fn list_org_templates(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (q, page) = list_params(&params)?;
    let out = templates::list_in_org(&state, &actor, &org, &q, page).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// Every template the caller may read, across orgs.
#[utoipa::path(get, path = "/api/v2/templates", tag = "Templates",
    params(("q" = Option<String>, Query)),
    responses((status = 200, body = Vec<ApiTemplate>), (status = 400, body = Message)))]
async fn list_templates(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let (q, page) = list_params(&params)?;
    let out = templates::list_all(&state, &actor, &q, page).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// A template by org and name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/templates/{templatename}",
    tag = "Templates", params(("organization" = String, Path), ("templatename" = String, Path)),
    responses((status = 200, body = ApiTemplate), (status = 404, body = Message)))]
async fn get_template_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let template = templates::get_by_name(&state, &actor, &org, &name).await?;
    Ok(json_response(StatusCode::OK, &template))
}

/// A template by id.
#[utoipa::path(get, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)),
    responses((status = 200, body = ApiTemplate), (status = 404, body = Message)))]
async fn get_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(template): Path<String>,
) -> ApiResult<Response> {
    let template = templates::get(&state, &actor, &template).await?;
    Ok(json_response(StatusCode::OK, &template))
}

/// Changes name, display name, description or icon (absent fields keep their value);
/// `disable_everyone_group_access: true` also drops the Everyone group's ACL entry.
#[utoipa::path(patch, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)), request_body = UpdateTemplateMeta,
    responses((status = 200, body = ApiTemplate), (status = 403, body = Message),
        (status = 409, body = Message)))]
async fn update_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateTemplateMeta>,
) -> ApiResult<Response> {
    let template = templates::update(&state, &actor, &param, req).await?;
    Ok(json_response(StatusCode::OK, &template))
}

/// Deletes a template; refused while any live workspace uses it.
#[utoipa::path(delete, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message)))]
async fn delete_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let message = templates::delete(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &message))
}
