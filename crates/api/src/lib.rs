//! Wire types for Atrium's `/api/v2`, shared by the server and the CLI so they cannot drift.
//! Field names and shapes follow Coder's `codersdk` (coder-api.md).

pub mod authcheck;
pub mod clients;
pub mod deployment;
#[cfg(feature = "openapi")]
pub mod enums;
pub mod go;
pub mod idpsync;
pub mod orgs;
pub mod templates;
pub mod users;
pub mod workspaces;

use serde::{Deserialize, Serialize};

/// Coder's generic body: `{"message", "detail"?, "validations"?}` (errors and plain replies).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Response {
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validations: Vec<ValidationError>,
}

impl Response {
    /// A reply with only a message.
    pub fn message(message: impl Into<String>) -> Self {
        Response { message: message.into(), ..Default::default() }
    }
}

/// One field-level validation failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationError {
    pub field: String,
    pub detail: String,
}

/// `GET /buildinfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildInfo {
    pub version: String,
    pub external_url: String,
    pub dashboard_url: String,
    pub deployment_id: String,
}

/// Coder formats times as RFC 3339 with up to nanoseconds, in UTC.
pub mod rfc3339 {
    pub use time::serde::rfc3339::{deserialize, serialize};
    /// For optional times.
    pub mod option {
        pub use time::serde::rfc3339::option::{deserialize, serialize};
    }
}
