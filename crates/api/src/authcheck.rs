//! `POST /authcheck` (Coder's `AuthorizationRequest`) and Atrium's `POST /authcheck/explain`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Coder's `AuthorizationObject`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CheckObject {
    pub resource_type: String,
    /// A user id, or `me`.
    pub owner_id: String,
    pub organization_id: String,
    pub resource_id: String,
    pub any_org: bool,
}

/// One check.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Check {
    pub object: CheckObject,
    pub action: String,
}

/// `{"checks": {"<name>": Check}}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AuthorizationRequest {
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub checks: BTreeMap<String, Check>,
}

/// `POST /authcheck/explain`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ExplainRequest {
    pub object: CheckObject,
    pub action: String,
    /// Ask about this user instead of the caller.
    pub user_id: Option<String>,
}

/// The engine's answer in words.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplainResponse {
    pub allowed: bool,
    pub reasons: Vec<String>,
}
