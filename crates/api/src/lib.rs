//! Wire types for Atrium's `/api/v2`, shared by the server and the CLI so they cannot drift.

use serde::{Deserialize, Serialize};

/// Coder's error body: `{"message", "detail"?, "validations"?}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validations: Vec<ValidationError>,
}

/// One field-level validation failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    pub field: String,
    pub detail: String,
}
