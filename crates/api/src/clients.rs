//! What Coder's own clients (the `coder` CLI, codersdk) read besides the resources proper.

use serde::{Deserialize, Serialize};

/// Coder's `AuthMethod`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthMethod {
    pub enabled: bool,
}

/// Coder's `GithubAuthMethod`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GithubAuthMethod {
    pub enabled: bool,
    pub default_provider_configured: bool,
}

/// Coder's `OIDCAuthMethod` (its field names are camel case on the wire).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcAuthMethod {
    pub enabled: bool,
    #[serde(rename = "signInText")]
    pub sign_in_text: String,
    #[serde(rename = "iconUrl")]
    pub icon_url: String,
}

/// `GET /users/authmethods`: Coder's `AuthMethods`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthMethods {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub terms_of_service_url: String,
    pub password: AuthMethod,
    pub github: GithubAuthMethod,
    pub oidc: OidcAuthMethod,
}

/// `GET /users/{user}/keys/tokens/tokenconfig`: Coder's `TokenConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenConfig {
    /// Nanoseconds, as Go's `time.Duration`.
    pub max_token_lifetime: i64,
}

/// `codersdk.WorkspaceBuildParameter`: a rich parameter's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceBuildParameter {
    pub name: String,
    pub value: String,
}

/// `codersdk.VariableValue`: a template variable's value at import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariableValue {
    pub name: String,
    pub value: String,
}

/// `POST /templateversions/{id}/dry-run`: `codersdk.CreateTemplateVersionDryRunRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTemplateVersionDryRunRequest {
    #[serde(default)]
    pub workspace_name: String,
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub rich_parameter_values: Vec<WorkspaceBuildParameter>,
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub user_variable_values: Vec<VariableValue>,
}

/// `codersdk.MatchedProvisioners`: the provisioners that could run a job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchedProvisioners {
    pub count: i64,
    pub available: i64,
    /// Null when none matched (Go's invalid `NullTime`).
    #[serde(default, with = "crate::rfc3339::option")]
    pub most_recently_seen: Option<time::OffsetDateTime>,
}
