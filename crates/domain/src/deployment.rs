//! What Coder's web client reads about the deployment on first load: appearance (site and
//! per-user), experiments, regions, the update check and the deployment config. Atrium stores
//! no appearance, runs no experiments and has one region; the config shows only the settings
//! Atrium has, never a secret (the database URL never appears).

use std::time::Duration;

use atrium_api::deployment::{
    AppearanceConfig, BannerConfig, DeploymentConfig, DeploymentOption, DeploymentValues,
    ProvisionerConfig, Region, RegionsResponse, SessionLifetime, UpdateCheckResponse,
    UserAppearanceSettings,
};
use atrium_engine::{Action, Object, ResourceType};
use serde_json::json;
use uuid::Uuid;

use crate::system::{EXTERNAL_URL, version};
use crate::users::resolve_user;
use crate::{Caller, Domain, Result};

/// The site's appearance, for any authenticated caller: Coder's defaults (no name, logo or
/// banners), with the docs pointing at Atrium's.
pub fn appearance(_caller: &Caller) -> AppearanceConfig {
    AppearanceConfig {
        application_name: String::new(),
        logo_url: String::new(),
        docs_url: EXTERNAL_URL.to_owned(),
        service_banner: BannerConfig::default(),
        announcement_banners: vec![],
    }
}

/// A user's appearance settings (none are stored, so Coder's empty defaults). Needs `read` on
/// the user (404 otherwise) and `read_personal` (403), as Coder's store checks it.
pub async fn user_appearance(
    d: &Domain,
    caller: &Caller,
    user: &str,
) -> Result<UserAppearanceSettings> {
    let user = resolve_user(d, caller, user).await?;
    caller.require(Action::ReadPersonal, &Caller::user_object(user.id))?;
    Ok(UserAppearanceSettings::default())
}

/// The experiments enabled on this deployment: none.
pub fn experiments(_caller: &Caller) -> Vec<String> {
    vec![]
}

/// The regions, for any authenticated caller: only the primary one, at the access URL, healthy.
pub fn regions(_caller: &Caller, access_url: &str) -> RegionsResponse {
    RegionsResponse {
        regions: vec![Region {
            id: Uuid::nil(),
            name: "primary".into(),
            display_name: String::new(),
            icon_url: String::new(),
            healthy: true,
            path_app_url: access_url.to_owned(),
            wildcard_hostname: String::new(),
        }],
    }
}

/// The update check, public: Atrium does not phone home, so it answers as Coder does with
/// checking disabled — current, at its own version.
pub fn update_check() -> UpdateCheckResponse {
    UpdateCheckResponse { current: true, version: version(), url: EXTERNAL_URL.to_owned() }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// The deployment config without secrets. Needs `read` on `deployment_config` (403
/// otherwise), as Coder's `/deployment/config` does.
pub fn config(d: &Domain, caller: &Caller, access_url: &str) -> Result<DeploymentConfig> {
    caller.require(Action::Read, &Object::of(ResourceType::DeploymentConfig))?;
    let c = &d.config;
    let values = DeploymentValues {
        access_url: access_url.to_owned(),
        http_address: c.address.to_string(),
        session_lifetime: SessionLifetime {
            default_duration: nanos(c.session_duration),
            max_token_lifetime: nanos(c.max_token_lifetime),
        },
        provisioner: ProvisionerConfig {
            daemons: i64::try_from(c.provisioner_daemons).unwrap_or(i64::MAX),
        },
        experiments: vec![],
    };
    let option = |name: &str, flag: &str, env: &str, description: &str, value| DeploymentOption {
        name: name.into(),
        description: description.into(),
        flag: flag.into(),
        env: env.into(),
        value,
    };
    let options = vec![
        option(
            "Access URL",
            "access-url",
            "ATRIUM_ACCESS_URL",
            "The URL users reach the server at.",
            json!(values.access_url),
        ),
        option(
            "HTTP Address",
            "address",
            "ATRIUM_ADDRESS",
            "Address to listen on.",
            json!(values.http_address),
        ),
        option(
            "Session Duration",
            "session-duration",
            "ATRIUM_SESSION_DURATION",
            "Lifetime of a login session.",
            json!(values.session_lifetime.default_duration),
        ),
        option(
            "Maximum Token Lifetime",
            "max-token-lifetime",
            "ATRIUM_MAX_TOKEN_LIFETIME",
            "Longest lifetime an API token may ask for.",
            json!(values.session_lifetime.max_token_lifetime),
        ),
        option(
            "Provisioner Daemons",
            "provisioner-daemons",
            "ATRIUM_PROVISIONER_DAEMONS",
            "Built-in provisioner workers.",
            json!(values.provisioner.daemons),
        ),
        option(
            "User Dormancy Period",
            "user-dormancy-period",
            "ATRIUM_USER_DORMANCY_PERIOD",
            "Users with no activity for this long become dormant.",
            json!(nanos(c.user_dormancy_period)),
        ),
        option(
            "Database",
            "postgres-url",
            "ATRIUM_POSTGRES_URL",
            "Whether a PostgreSQL database is used (its URL is secret).",
            json!(if c.postgres_url.is_some() { "postgres" } else { "sqlite" }),
        ),
    ];
    Ok(DeploymentConfig { config: values, options })
}
