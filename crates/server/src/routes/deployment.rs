//! What Coder's web client reads about the deployment: appearance, experiments, regions, the
//! update check and the deployment config (coder-api.md; codersdk's shapes).

use crate::Shared;
use crate::actor::Actor;
use crate::error::ApiResult;
use atrium_api::Response as Message;
use atrium_api::deployment::{
    AppearanceConfig, DeploymentConfig, RegionsResponse, UpdateCheckResponse,
    UserAppearanceSettings,
};
use atrium_domain::deployment;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(appearance))
        .routes(routes!(user_appearance))
        .routes(routes!(experiments))
        .routes(routes!(regions))
        .routes(routes!(update_check))
        .routes(routes!(deployment_config))
}

/// The site's appearance (Coder's defaults: Atrium stores none).
#[utoipa::path(get, path = "/api/v2/appearance", tag = "Enterprise",
    responses((status = 200, body = AppearanceConfig)))]
async fn appearance(actor: Actor) -> Json<AppearanceConfig> {
    Json(deployment::appearance(&actor))
}

/// A user's appearance settings.
#[utoipa::path(get, path = "/api/v2/users/{user}/appearance", tag = "Users",
    params(("user" = String, Path, description = "id, username or `me`")),
    responses((status = 200, body = UserAppearanceSettings), (status = 403, body = Message)))]
async fn user_appearance(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Json<UserAppearanceSettings>> {
    Ok(Json(deployment::user_appearance(&state, &actor, &user).await?))
}

/// The experiments enabled on this deployment (none).
#[utoipa::path(get, path = "/api/v2/experiments", tag = "General",
    responses((status = 200, body = Vec<String>)))]
async fn experiments(actor: Actor) -> Json<Vec<String>> {
    Json(deployment::experiments(&actor))
}

/// The regions: only the primary one.
#[utoipa::path(get, path = "/api/v2/regions", tag = "WorkspaceProxies",
    responses((status = 200, body = RegionsResponse)))]
async fn regions(State(state): State<Shared>, actor: Actor) -> Json<RegionsResponse> {
    Json(deployment::regions(&actor, &state.access_url))
}

/// Whether this is the latest version (Atrium does not check: always current).
#[utoipa::path(get, path = "/api/v2/updatecheck", tag = "General",
    responses((status = 200, body = UpdateCheckResponse)))]
async fn update_check() -> Json<UpdateCheckResponse> {
    Json(deployment::update_check())
}

/// The deployment's settings, without secrets; needs `read` on `deployment_config`.
#[utoipa::path(get, path = "/api/v2/deployment/config", tag = "General",
    responses((status = 200, body = DeploymentConfig), (status = 403, body = Message)))]
async fn deployment_config(
    State(state): State<Shared>,
    actor: Actor,
) -> ApiResult<Json<DeploymentConfig>> {
    Ok(Json(deployment::config(&state, &actor, &state.access_url)?))
}
