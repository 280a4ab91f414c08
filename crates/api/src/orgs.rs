//! Organizations, members and groups (coder-api.md §1.3, §1.5).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::users::SlimRole;

/// Coder's `Organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub is_default: bool,
}

/// `POST /organizations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateOrganizationRequest {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
}

/// `PATCH /organizations/{org}`; absent fields stay. `is_default: true` (owners only) moves
/// the default here — an Atrium extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateOrganizationRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

/// Coder's `OrganizationMember`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationMember {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub roles: Vec<SlimRole>,
}

/// Coder's `OrganizationMemberWithUserData`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationMemberWithUserData {
    #[serde(flatten)]
    pub member: OrganizationMember,
    pub username: String,
    pub name: String,
    pub email: String,
    pub avatar_url: String,
    pub global_roles: Vec<SlimRole>,
}

/// `GET /organizations/{org}/paginated-members`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaginatedMembersResponse {
    pub members: Vec<OrganizationMemberWithUserData>,
    pub count: i64,
}

/// Coder's `ReducedUser`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReducedUser {
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
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::UserStatus))]
    pub status: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::LoginType))]
    pub login_type: String,
    pub theme_preference: String,
}

/// Coder's `Group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_display_name: String,
    pub members: Vec<ReducedUser>,
    pub total_member_count: i64,
    pub avatar_url: String,
    pub quota_allowance: i64,
    /// `user` or `oidc`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::GroupSource))]
    pub source: String,
}

/// `POST /organizations/{org}/groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateGroupRequest {
    pub name: String,
    pub display_name: String,
    pub avatar_url: String,
    pub quota_allowance: i64,
}

/// `PATCH /groups/{group}`. Member ids are strings so a bad one gets Coder's message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PatchGroupRequest {
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub add_users: Vec<String>,
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub remove_users: Vec<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_allowance: Option<i64>,
}
