//! Template versions (coder-api.md §1.6): an uploaded source plus a provisioner; creating one
//! queues an import job, whose status and logs the version shows.
//!
//! A version is checked as its template (rbac.md §2); a version not yet attached to a
//! template (the first one, before `POST .../templates`) as an org-wide template object.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::routes::logstream::{self, Upgrade};
use atrium_api::Response as Message;
use atrium_api::templates::{
    CreateTemplateVersionRequest, ProvisionerJobLog, TemplateVersion as ApiVersion,
    UpdateActiveTemplateVersion,
};
use atrium_domain::template_versions as versions;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_version))
        .routes(routes!(get_version))
        .routes(routes!(get_version_logs))
        .routes(routes!(list_template_versions, set_active_version))
}

/// Queues an import of an uploaded source with the `echo` or `terraform` provisioner.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/templateversions",
    tag = "Templates", params(("organization" = String, Path)),
    request_body = CreateTemplateVersionRequest,
    responses((status = 201, body = ApiVersion), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn create_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<CreateTemplateVersionRequest>,
) -> ApiResult<Response> {
    let version = versions::create(&state, &actor, &org, req).await?;
    Ok(json_response(StatusCode::CREATED, &version))
}

/// A template version, with its import job's status.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}", tag = "Templates",
    params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = ApiVersion), (status = 404, body = Message)))]
async fn get_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let version = versions::get(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &version))
}

/// The import job's log lines after line `after` (JSON); with `follow` a WebSocket that sends
/// each new line as a JSON message and closes when the import ends.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/logs", tag = "Templates",
    params(("templateversion" = Uuid, Path), ("after" = Option<i64>, Query),
        ("follow" = Option<bool>, Query, description = "Upgrade to a WebSocket streaming each line as a JSON message (present without a value, as codersdk sends it).")),
    responses((status = 200, body = Vec<ProvisionerJobLog>, description = "The lines so far."),
        (status = 101, description = "With `follow`: a WebSocket sending one `ProvisionerJobLog` JSON text message per line."),
        (status = 400, body = Message), (status = 404, body = Message)))]
async fn get_version_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
    upgrade: Upgrade,
) -> ApiResult<Response> {
    let after = match params.single("after")? {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|e| {
            ApiError::bad_request("Query parameters have invalid values.").validation(
                "after",
                format!("Query param \"after\" must be a valid 64-bit integer: {e}"),
            )
        })?,
    };
    let log = versions::open_log(&state, &actor, &param).await?;
    logstream::respond(&state, log, after, &params, upgrade).await
}

/// A template's versions, oldest first; `after_id` keeps those after that version.
#[utoipa::path(get, path = "/api/v2/templates/{template}/versions", tag = "Templates",
    params(("template" = Uuid, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
        ("after_id" = Option<Uuid>, Query)),
    responses((status = 200, body = Vec<ApiVersion>), (status = 400, body = Message), (status = 404, body = Message)))]
async fn list_template_versions(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: crate::extract::QueryParams,
) -> ApiResult<Response> {
    let page = crate::extract::Page::from_query(&params)?;
    let out = versions::list(&state, &actor, &param, page.limits(), page.after_id).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// Makes one of the template's successfully imported versions the active one.
#[utoipa::path(patch, path = "/api/v2/templates/{template}/versions", tag = "Templates",
    params(("template" = Uuid, Path)), request_body = UpdateActiveTemplateVersion,
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn set_active_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateActiveTemplateVersion>,
) -> ApiResult<Response> {
    let message = versions::set_active(&state, &actor, &param, req).await?;
    Ok(json_response(StatusCode::OK, &message))
}
