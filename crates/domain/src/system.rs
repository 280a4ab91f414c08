//! Build info and entitlements.

use std::collections::BTreeMap;

use atrium_api::BuildInfo;
use atrium_api::users::{Entitlements, Feature};
use atrium_store::users;

use crate::{Caller, Domain, Result};

/// The server's version and URLs; `dashboard_url` is the server's access URL. Public: needs no
/// caller.
pub fn build_info(dashboard_url: &str) -> BuildInfo {
    BuildInfo {
        version: format!("v{}", env!("CARGO_PKG_VERSION")),
        external_url: "https://github.com/atrium-dev/atrium".into(),
        dashboard_url: dashboard_url.to_owned(),
        deployment_id: String::new(),
    }
}

/// Seats and features, for any authenticated caller (no permission needed). Everything Coder
/// sells separately is free here; `user_limit.actual` counts active users (dormant and
/// suspended users take no seat).
pub async fn entitlements(d: &Domain, _caller: &Caller) -> Result<Entitlements> {
    let active = users::count_active(d.store()).await?;
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
