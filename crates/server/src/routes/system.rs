//! Build info, health and entitlements.

use crate::Shared;
use crate::actor::Actor;
use crate::error::ApiResult;
use atrium_api::BuildInfo;
use atrium_api::users::Entitlements;
use atrium_domain::system;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(buildinfo)).routes(routes!(entitlements))
}

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "OK"
}

/// The server's version and URLs.
#[utoipa::path(get, path = "/api/v2/buildinfo", tag = "General", responses((status = 200, body = BuildInfo)))]
async fn buildinfo(State(state): State<Shared>) -> Json<BuildInfo> {
    Json(system::build_info(&state.access_url))
}

/// Seats and features. Everything Coder sells separately is free here; `user_limit.actual`
/// counts active users (dormant and suspended users take no seat).
#[utoipa::path(get, path = "/api/v2/entitlements", tag = "Enterprise", responses((status = 200, body = Entitlements)))]
async fn entitlements(State(state): State<Shared>, actor: Actor) -> ApiResult<Json<Entitlements>> {
    Ok(Json(system::entitlements(&state, &actor).await?))
}
