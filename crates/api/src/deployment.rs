//! What Coder's web client reads about the deployment: appearance, experiments, regions, the
//! update check and the (redacted) deployment config, in codersdk's shapes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Coder's `BannerConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BannerConfig {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub background_color: String,
}

/// `GET /appearance` (Coder's `AppearanceConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppearanceConfig {
    pub application_name: String,
    pub logo_url: String,
    pub docs_url: String,
    pub service_banner: BannerConfig,
    pub announcement_banners: Vec<BannerConfig>,
}

/// `GET /users/{user}/appearance` (Coder's `UserAppearanceSettings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserAppearanceSettings {
    pub theme_preference: String,
    pub terminal_font: String,
}

/// One region (Coder's `Region`): Atrium has only the primary one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Region {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub icon_url: String,
    pub healthy: bool,
    pub path_app_url: String,
    pub wildcard_hostname: String,
}

/// `GET /regions` (Coder's `RegionsResponse[Region]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionsResponse {
    pub regions: Vec<Region>,
}

/// `GET /updatecheck` (Coder's `UpdateCheckResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateCheckResponse {
    pub current: bool,
    pub version: String,
    pub url: String,
}

/// Coder's `SessionLifetime`, durations in nanoseconds as Go marshals them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionLifetime {
    pub default_duration: i64,
    pub max_token_lifetime: i64,
}

/// The part of Coder's `ProvisionerConfig` Atrium has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionerConfig {
    pub daemons: i64,
}

/// The part of Coder's `DeploymentValues` Atrium has (no secrets: the database URL never
/// appears).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentValues {
    pub access_url: String,
    pub http_address: String,
    pub session_lifetime: SessionLifetime,
    pub provisioner: ProvisionerConfig,
    pub experiments: Vec<String>,
}

/// One option as Coder's `serpent.Option` describes it (the fields the web client shows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentOption {
    pub name: String,
    pub description: String,
    pub flag: String,
    pub env: String,
    pub value: serde_json::Value,
}

/// `GET /deployment/config` (Coder's `DeploymentConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentConfig {
    pub config: DeploymentValues,
    pub options: Vec<DeploymentOption>,
}
