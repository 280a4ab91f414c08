//! Build info and entitlements.

use std::collections::BTreeMap;

use atrium_api::BuildInfo;
use atrium_api::users::{Entitlements, Feature};
use atrium_store::users;

use crate::{Caller, Domain, Result};

/// Where Atrium lives (Coder's `external_url`, the update check's URL, the docs).
pub const EXTERNAL_URL: &str = "https://github.com/atrium-dev/atrium";

/// Atrium's own semantic version, as Coder writes versions (`v1.2.3`).
pub fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// Every feature name codersdk knows (`FeatureNames`), in its order.
pub const FEATURE_NAMES: [&str; 22] = [
    "user_limit",
    "audit_log",
    "connection_log",
    "browser_only",
    "scim",
    "template_rbac",
    "high_availability",
    "multiple_external_auth",
    "external_provisioner_daemons",
    "appearance",
    "advanced_template_scheduling",
    "workspace_proxy",
    "user_role_management",
    "external_token_encryption",
    "workspace_batch_actions",
    "access_control",
    "control_shared_ports",
    "custom_roles",
    "multiple_organizations",
    "workspace_prebuilds",
    "managed_agent_limit",
    "workspace_external_agent",
];

/// The features Atrium has (the rest are `not_entitled` and disabled).
pub const FEATURES_ATRIUM_HAS: [&str; 6] = [
    "user_limit",
    "audit_log",
    "template_rbac",
    "user_role_management",
    "custom_roles",
    "multiple_organizations",
];

/// The server's version and URLs; `dashboard_url` is the server's access URL. Public: needs no
/// caller.
pub fn build_info(dashboard_url: &str) -> BuildInfo {
    BuildInfo {
        version: version(),
        external_url: EXTERNAL_URL.into(),
        dashboard_url: dashboard_url.to_owned(),
        deployment_id: String::new(),
    }
}

/// Seats and features, for any authenticated caller (no permission needed): every feature
/// codersdk names, entitled and enabled when Atrium has it (free here), else `not_entitled`; `user_limit.actual` counts active users (dormant and
/// suspended users take no seat).
pub async fn entitlements(d: &Domain, _caller: &Caller) -> Result<Entitlements> {
    let active = users::count_active(d.store()).await?;
    let mut features = BTreeMap::new();
    for name in FEATURE_NAMES {
        let has = FEATURES_ATRIUM_HAS.contains(&name);
        features.insert(
            name.to_owned(),
            Feature {
                entitlement: if has { "entitled" } else { "not_entitled" }.into(),
                enabled: has,
                limit: None,
                actual: (name == "user_limit").then_some(active),
            },
        );
    }
    Ok(Entitlements {
        features,
        warnings: vec![],
        errors: vec![],
        has_license: false,
        trial: false,
        require_telemetry: false,
        refreshed_at: time::OffsetDateTime::now_utc(),
    })
}
