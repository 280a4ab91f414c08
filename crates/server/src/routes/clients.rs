//! What Coder's own clients (the `coder` CLI, codersdk) call besides the resources proper:
//! auth methods, token config, examples, a user's organizations, a version's lists, a build's
//! parameters, cancelling an import, a version by name. The work is in
//! [`atrium_domain::clients`]. The literal paths here win over `{user}`, `{keyname}` and
//! `{template}` in the router.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use atrium_api::Response as Message;
use atrium_api::clients::{AuthMethods, TokenConfig};
use atrium_api::orgs::Organization;
use atrium_api::templates::{TemplateVersion as ApiVersion, TemplateVersionVariable};
use atrium_domain::clients::{self, VersionList};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(auth_methods))
        .routes(routes!(token_config))
        .routes(routes!(template_examples))
        .routes(routes!(user_organizations))
        .routes(routes!(version_presets))
        .routes(routes!(version_rich_parameters))
        .routes(routes!(version_external_auth))
        .routes(routes!(version_resources))
        .routes(routes!(version_variables))
        .routes(routes!(cancel_version))
        .routes(routes!(version_by_name))
        .routes(routes!(build_parameters))
}

/// How users may sign in (password unless disabled; OIDC when configured). Public.
#[utoipa::path(get, path = "/api/v2/users/authmethods", tag = "Users",
    responses((status = 200, body = AuthMethods)))]
async fn auth_methods(State(state): State<Shared>) -> Json<AuthMethods> {
    Json(clients::auth_methods(&state))
}

/// The longest lifetime a token of the user may ask for (nanoseconds).
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/tokens/tokenconfig", tag = "Users",
    params(("user" = String, Path)),
    responses((status = 200, body = TokenConfig), (status = 404, body = Message)))]
async fn token_config(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &clients::token_config(&state, &actor, &user).await?))
}

/// Starter templates (Atrium bundles none).
#[utoipa::path(get, path = "/api/v2/templates/examples", tag = "Templates",
    responses((status = 200, body = Vec<Object>)))]
async fn template_examples(actor: Actor) -> Json<Vec<serde_json::Value>> {
    Json(clients::template_examples(&actor))
}

/// The organizations the user is in that the caller may read.
#[utoipa::path(get, path = "/api/v2/users/{user}/organizations", tag = "Users",
    params(("user" = String, Path)),
    responses((status = 200, body = Vec<Organization>), (status = 400, body = Message)))]
async fn user_organizations(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &clients::user_organizations(&state, &actor, &user).await?))
}

async fn version_list(
    state: &Shared,
    actor: &Actor,
    version: &str,
    list: VersionList,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &clients::version_list(state, actor, version, list).await?))
}

/// The version's presets (none yet).
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/presets", tag = "Templates",
    params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Message)))]
async fn version_presets(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    version_list(&state, &actor, &version, VersionList::Presets).await
}

/// The version's rich parameters (none yet).
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/rich-parameters",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Message)))]
async fn version_rich_parameters(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    version_list(&state, &actor, &version, VersionList::RichParameters).await
}

/// The external auth providers the version needs (none).
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/external-auth",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Message)))]
async fn version_external_auth(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    version_list(&state, &actor, &version, VersionList::ExternalAuth).await
}

/// The resources the version's import planned, for the start and stop transitions.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/resources",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Message)))]
async fn version_resources(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    version_list(&state, &actor, &version, VersionList::Resources).await
}

/// The version's template variables (its Terraform `variable` blocks, with the values they got
/// at import; sensitive ones `*redacted*`).
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/variables",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Vec<TemplateVersionVariable>), (status = 400, body = Message),
        (status = 404, body = Message)))]
async fn version_variables(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    let variables = clients::version_variables(&state, &actor, &version).await?;
    Ok(json_response(StatusCode::OK, &variables))
}

/// Cancels the version's import job.
#[utoipa::path(patch, path = "/api/v2/templateversions/{templateversion}/cancel",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn cancel_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &clients::cancel_version(&state, &actor, &version).await?))
}

/// A version of the template by name.
#[utoipa::path(get, path = "/api/v2/templates/{template}/versions/{templateversionname}",
    tag = "Templates", params(("template" = Uuid, Path), ("templateversionname" = String, Path)),
    responses((status = 200, body = ApiVersion), (status = 404, body = Message)))]
async fn version_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((template, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let version = clients::version_by_name(&state, &actor, &template, &name).await?;
    Ok(json_response(StatusCode::OK, &version))
}

/// The parameter values the build used (none yet).
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}/parameters", tag = "Builds",
    params(("workspacebuild" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Message)))]
async fn build_parameters(
    State(state): State<Shared>,
    actor: Actor,
    Path(build): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &clients::build_parameters(&state, &actor, &build).await?))
}
