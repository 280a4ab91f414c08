//! Build info, health and entitlements.

use crate::Shared;
use crate::actor::Actor;
use crate::error::ApiResult;
use atrium_api::BuildInfo;
use atrium_api::users::{Entitlements, Feature};
#[allow(unused_imports)]
use atrium_domain::system::*;
use atrium_store::users;
use axum::Json;
use axum::extract::State;
use std::collections::BTreeMap;
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
    Json(BuildInfo {
        version: format!("v{}", env!("CARGO_PKG_VERSION")),
        external_url: "https://github.com/atrium-dev/atrium".into(),
        dashboard_url: state.access_url.clone(),
        deployment_id: String::new(),
    })
}

/// Seats and features. Everything Coder sells separately is free here; `user_limit.actual`
/// counts active users (dormant and suspended users take no seat).
#[utoipa::path(get, path = "/api/v2/entitlements", tag = "Enterprise", responses((status = 200, body = Entitlements)))]
async fn entitlements(State(state): State<Shared>, _actor: Actor) -> ApiResult<Json<Entitlements>> {
    let active = users::count_active(state.legacy_store()).await?;
    let mut features = BTreeMap::new();
    let entitled = |actual: Option<i64>| Feature {
        entitlement: "entitled".into(),
        enabled: true,
        limit: None,
        actual,
    };
    features.insert("user_limit".to_owned(), entitled(Some(active)));
    for name in [
        "audit_log",
        "custom_roles",
        "multiple_organizations",
        "template_rbac",
        "user_role_management",
    ] {
        features.insert(name.to_owned(), entitled(None));
    }
    Ok(Json(Entitlements {
        features,
        warnings: vec![],
        errors: vec![],
        has_license: false,
        trial: false,
        require_telemetry: false,
        refreshed_at: time::OffsetDateTime::now_utc(),
    }))
}
