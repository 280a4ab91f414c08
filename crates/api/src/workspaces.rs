//! Workspaces and builds (coder-api.md §1.7).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::templates::ProvisionerJob;

/// `POST /organizations/{org}/members/{user}/workspaces`, `POST /users/{user}/workspaces`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateWorkspaceRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::go::nil_uuid_as_none")]
    pub template_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::go::nil_uuid_as_none")]
    pub template_version_id: Option<Uuid>,
    pub name: String,
}

/// `POST /workspaces/{id}/builds`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateWorkspaceBuildRequest {
    /// `start`, `stop` or `delete`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::WorkspaceTransition))]
    pub transition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::go::nil_uuid_as_none")]
    pub template_version_id: Option<Uuid>,
}

/// `PATCH /workspaces/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateWorkspaceRequest {
    pub name: String,
}

/// Coder's `WorkspaceBuild` (without agents and resources).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceBuild {
    pub id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub workspace_id: Uuid,
    pub workspace_name: String,
    pub workspace_owner_id: Uuid,
    pub workspace_owner_name: String,
    pub template_version_id: Uuid,
    pub template_version_name: String,
    pub build_number: i32,
    /// `start`, `stop` or `delete`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::WorkspaceTransition))]
    pub transition: String,
    pub initiator_id: Uuid,
    pub initiator_name: String,
    pub job: ProvisionerJob,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::BuildReason))]
    pub reason: String,
    /// `pending`, `starting`, `running`, `stopping`, `stopped`, `failed`, `canceling`,
    /// `canceled`, `deleting` or `deleted`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::WorkspaceStatus))]
    pub status: String,
    pub resources: Vec<serde_json::Value>,
    pub daily_cost: i32,
}

/// Workspace health (Atrium has no agents yet: always healthy).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceHealth {
    pub healthy: bool,
    pub failing_agents: Vec<Uuid>,
}

/// Coder's `Workspace`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspace {
    pub id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub owner_avatar_url: String,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub template_id: Uuid,
    pub template_name: String,
    pub template_display_name: String,
    pub template_icon: String,
    pub template_active_version_id: Uuid,
    pub template_require_active_version: bool,
    pub latest_build: WorkspaceBuild,
    pub outdated: bool,
    pub name: String,
    #[serde(with = "crate::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(default, with = "crate::rfc3339::option")]
    pub dormant_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::rfc3339::option")]
    pub deleting_at: Option<OffsetDateTime>,
    pub automatic_updates: String,
    pub health: WorkspaceHealth,
    pub favorite: bool,
}

/// `GET /workspaces`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspacesResponse {
    pub workspaces: Vec<Workspace>,
    pub count: i64,
}

/// `PATCH /workspaces/{id}/acl`: user or group id → `admin`, `use` or `""` (remove).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UpdateWorkspaceAcl {
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub user_roles: std::collections::BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    pub group_roles: std::collections::BTreeMap<String, String>,
}

/// `codersdk.WorkspaceUser`: a user grantee (Coder's `MinimalUser`) and its role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceUser {
    pub id: Uuid,
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub avatar_url: String,
    /// `admin` or `use`.
    pub role: String,
}

/// `codersdk.WorkspaceGroup`: a group grantee (the full group) and its role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceGroup {
    #[serde(flatten)]
    pub group: crate::orgs::Group,
    /// `admin` or `use`.
    pub role: String,
}

/// `GET /workspaces/{id}/acl` (`codersdk.WorkspaceACL`); groups under `group`, as Coder has them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceAclResponse {
    pub users: Vec<WorkspaceUser>,
    pub group: Vec<WorkspaceGroup>,
}
