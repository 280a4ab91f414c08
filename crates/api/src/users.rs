//! Users, sessions, tokens, roles, audit and entitlements (coder-api.md §1.1, §1.2, §1.8).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// `{name, display_name, organization_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlimRole {
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organization_id: String,
}

/// Coder's `User`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub name: String,
    pub email: String,
    pub avatar_url: String,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "crate::rfc3339::option")]
    pub last_seen_at: Option<OffsetDateTime>,
    /// `active`, `dormant` or `suspended`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::UserStatus))]
    pub status: String,
    /// `password`, `github`, `oidc`, `none`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::LoginType))]
    pub login_type: String,
    pub theme_preference: String,
    pub organization_ids: Vec<Uuid>,
    /// Site roles only; `member` is implicit and not listed.
    pub roles: Vec<SlimRole>,
    /// A headless account for a machine (login type `none`, no email).
    #[serde(default)]
    pub is_service_account: bool,
}

/// `GET /users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetUsersResponse {
    pub users: Vec<User>,
    pub count: i64,
}

/// `POST /users/first`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateFirstUserRequest {
    pub email: String,
    pub username: String,
    #[serde(default)]
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub trial: bool,
}

/// `POST /users/first` → 201.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateFirstUserResponse {
    pub user_id: Uuid,
    pub organization_id: Uuid,
}

/// `POST /users`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    /// Empty for service accounts.
    #[serde(default)]
    pub email: String,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
    /// `password` (default), `none` or `oidc`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::CreateUserLoginType))]
    pub login_type: String,
    /// Optional initial status (`active` or `dormant`, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::enums::InitialUserStatus>))]
    pub user_status: Option<String>,
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub organization_ids: Vec<Uuid>,
    /// A service account: login type `none`, no email, no password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_account: bool,
}

/// `POST /users/login`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginWithPasswordRequest {
    pub email: String,
    pub password: String,
}

/// `POST /users/login` → 201.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginWithPasswordResponse {
    pub session_token: String,
}

/// `PUT /users/{user}/profile`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserProfileRequest {
    pub username: String,
    #[serde(default)]
    pub name: String,
}

/// `PUT /users/{user}/password`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserPasswordRequest {
    #[serde(default)]
    pub old_password: String,
    pub password: String,
}

/// `PUT /users/{user}/roles`, `PUT /organizations/{org}/members/{user}/roles`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateRoles {
    #[serde(deserialize_with = "crate::go::null_as_empty")]
    pub roles: Vec<String>,
}

/// `GET /users/{user}/roles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRoles {
    pub roles: Vec<String>,
    pub organization_roles: BTreeMap<Uuid, Vec<String>>,
}

/// `{negate, resource_type, action}` as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Permission {
    #[serde(default)]
    pub negate: bool,
    pub resource_type: String,
    pub action: String,
}

/// Coder's `Role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organization_id: String,
    pub display_name: String,
    pub site_permissions: Vec<Permission>,
    pub organization_permissions: Vec<Permission>,
    pub user_permissions: Vec<Permission>,
    /// Atrium (issue 20): a role that only takes permissions away (shown when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restriction: bool,
    /// Atrium (issue 20): roles whose holders may assign this one besides rbac.md §4's (shown
    /// when set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignable_by: Vec<String>,
}

/// Coder's `AssignableRoles`: a role plus whether the caller may assign it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignableRoles {
    #[serde(flatten)]
    pub role: Role,
    pub assignable: bool,
    pub built_in: bool,
}

/// `POST /users/{user}/keys` and `/keys/tokens` → 201.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerateApiKeyResponse {
    pub key: String,
}

/// `POST /users/{user}/keys/tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    /// Nanoseconds, as Go's `time.Duration`; 0 = the default lifetime.
    #[serde(default)]
    pub lifetime: i64,
    /// `all` (default) or `application_connect`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::CreateTokenScope))]
    pub scope: String,
    #[serde(default)]
    pub token_name: String,
}

/// Coder's `APIKey` (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: String,
    pub user_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub last_used: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::LoginType))]
    pub login_type: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::ApiKeyScope))]
    pub scope: String,
    pub token_name: String,
    pub lifetime_seconds: i64,
}

/// `codersdk.APIKeyWithOwner`: a token in a token list, with its owner's username.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyWithOwner {
    #[serde(flatten)]
    pub key: ApiKey,
    pub username: String,
}

/// One changed field of an audited resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditDiffField {
    /// Any JSON value (a string, a number, a list…), `null` when the field was unset.
    pub old: serde_json::Value,
    /// Any JSON value, as `old`.
    pub new: serde_json::Value,
    pub secret: bool,
}

/// Coder's `AuditLog`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLog {
    pub id: Uuid,
    pub request_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub time: OffsetDateTime,
    pub ip: String,
    pub user_agent: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub resource_target: String,
    pub resource_icon: String,
    pub action: String,
    pub diff: BTreeMap<String, AuditDiffField>,
    pub status_code: i32,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub additional_fields: serde_json::Value,
    pub description: String,
    pub resource_link: String,
    pub is_deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub organization: Option<MinimalOrganization>,
    #[serde(default)]
    pub user: Option<User>,
}

/// `{id, name, display_name, icon}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinimalOrganization {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub icon: String,
}

/// `GET /audit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLogResponse {
    pub audit_logs: Vec<AuditLog>,
    pub count: i64,
}

/// One entitlement feature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feature {
    /// `entitled`, `grace_period` or `not_entitled`.
    pub entitlement: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<i64>,
}

/// `GET /entitlements`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlements {
    pub features: BTreeMap<String, Feature>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub has_license: bool,
    pub trial: bool,
    pub require_telemetry: bool,
    #[serde(with = "crate::rfc3339")]
    pub refreshed_at: OffsetDateTime,
}
