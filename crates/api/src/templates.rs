//! Files, template versions, provisioner jobs, templates and the template ACL
//! (coder-api.md §1.6), with `codersdk`'s field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::orgs::Group;
use crate::orgs::ReducedUser;
use crate::users::User;

/// `POST /files` → 201 (new) or 200 (the same bytes again). Coder calls the file id `hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    pub hash: Uuid,
}

/// `codersdk.MinimalUser`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinimalUser {
    pub id: Uuid,
    pub username: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub avatar_url: String,
}

/// `codersdk.ProvisionerJobInput`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionerJobInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_version_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_build_id: Option<Uuid>,
}

/// `codersdk.ProvisionerJobMetadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionerJobMetadata {
    pub template_version_name: String,
    pub template_id: Uuid,
    pub template_name: String,
    pub template_display_name: String,
    pub template_icon: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workspace_name: String,
}

/// `codersdk.ProvisionerJob`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionerJob {
    pub id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "crate::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub canceled_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// `pending`, `running`, `succeeded`, `canceling`, `canceled` or `failed`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::ProvisionerJobStatus))]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<Uuid>,
    pub file_id: Uuid,
    pub tags: BTreeMap<String, String>,
    /// 1-based position among pending jobs; 0 once the job has started.
    pub queue_position: i64,
    pub queue_size: i64,
    pub organization_id: Uuid,
    pub input: ProvisionerJobInput,
    /// `template_version_import` or `workspace_build`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::ProvisionerJobType))]
    pub job_type: String,
    pub metadata: ProvisionerJobMetadata,
    pub logs_overflowed: bool,
}

/// `codersdk.ProvisionerJobLog`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisionerJobLog {
    pub id: i64,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `provisioner` or `provisioner_daemon`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::LogSource))]
    pub log_source: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::LogLevel))]
    pub log_level: String,
    pub stage: String,
    pub output: String,
}

/// `POST /organizations/{organization}/templateversions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTemplateVersionRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::go::nil_uuid_as_none")]
    pub template_id: Option<Uuid>,
    /// Only `file`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::StorageMethod))]
    pub storage_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::go::nil_uuid_as_none")]
    pub file_id: Option<Uuid>,
    /// Not supported by Atrium (no bundled examples); refused when given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub example_id: String,
    /// `echo` or `terraform`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::ProvisionerType))]
    pub provisioner: String,
    /// Values for the template's Terraform variables (`coder templates push --variable`).
    #[serde(default, deserialize_with = "crate::go::null_as_empty")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_variable_values: Vec<crate::clients::VariableValue>,
}

/// `codersdk.TemplateVersionVariable`: a Terraform variable of a version and the value it got
/// at import (`*redacted*` for sensitive ones, value and default alike).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateVersionVariable {
    pub name: String,
    pub description: String,
    /// The declared type as written (`string`, `number`, `bool`, `list(string)`, ...), or empty.
    #[serde(rename = "type")]
    pub type_: String,
    pub value: String,
    pub default_value: String,
    pub required: bool,
    pub sensitive: bool,
}

/// `codersdk.TemplateVersion`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateVersion {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<Uuid>,
    pub organization_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub name: String,
    pub message: String,
    pub job: ProvisionerJob,
    pub readme: String,
    pub created_by: MinimalUser,
    pub archived: bool,
}

/// `codersdk.TemplateAutostopRequirement`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateAutostopRequirement {
    pub days_of_week: Vec<String>,
    pub weeks: i64,
}

/// `codersdk.TemplateAutostartRequirement`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateAutostartRequirement {
    pub days_of_week: Vec<String>,
}

/// `codersdk.Template`. Scheduling fields carry Coder's defaults: Atrium does not schedule
/// workspaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    pub id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub organization_display_name: String,
    pub organization_icon: String,
    pub name: String,
    pub display_name: String,
    /// The active version's provisioner.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::enums::ProvisionerType))]
    pub provisioner: String,
    pub active_version_id: Uuid,
    pub active_user_count: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub build_time_stats: serde_json::Value,
    pub description: String,
    pub deprecated: bool,
    pub deprecation_message: String,
    pub deleted: bool,
    pub icon: String,
    pub default_ttl_ms: i64,
    pub activity_bump_ms: i64,
    pub autostop_requirement: TemplateAutostopRequirement,
    pub autostart_requirement: TemplateAutostartRequirement,
    pub created_by_id: Uuid,
    pub created_by_name: String,
    pub allow_user_autostart: bool,
    pub allow_user_autostop: bool,
    pub allow_user_cancel_workspace_jobs: bool,
    pub failure_ttl_ms: i64,
    pub time_til_dormant_ms: i64,
    pub time_til_dormant_autodelete_ms: i64,
    pub require_active_version: bool,
    pub max_port_share_level: String,
    pub use_classic_parameter_flow: bool,
}

/// `POST /organizations/{organization}/templates`. Coder's scheduling fields are accepted and
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTemplateRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub icon: String,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::go::nil_uuid_as_none")]
    pub template_version_id: Option<Uuid>,
    /// Give the Everyone group no access (the default unless the server runs with
    /// `--templates-closed-by-default`).
    #[serde(default)]
    pub disable_everyone_group_access: bool,
}

/// `PATCH /templates/{template}`: absent fields keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTemplateMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// `true` removes the Everyone group's entry from the ACL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_everyone_group_access: Option<bool>,
    /// Coder's settings Atrium does not store (scheduling, dormancy, deprecation, port
    /// sharing, ...): accepted only at the value the template reports (or Go's zero value, which
    /// codersdk leaves out), refused otherwise rather than silently ignored.
    #[serde(flatten)]
    pub unstored: UnstoredTemplateSettings,
}

/// The settings of `codersdk.UpdateTemplateMeta` Atrium does not store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnstoredTemplateSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ttl_ms: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_bump_ms: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autostop_requirement: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autostart_requirement: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_user_autostart: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_user_autostop: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_user_cancel_workspace_jobs: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_ttl_ms: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_til_dormant_ms: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_til_dormant_autodelete_ms: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_workspace_last_used_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_workspace_dormant_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_active_version: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_message: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_port_share_level: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_behavior: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_classic_parameter_flow: Option<serde_json::Value>,
}

impl UnstoredTemplateSettings {
    /// Each setting by its wire name, with the value sent (if any).
    pub fn sent(&self) -> [(&'static str, Option<&serde_json::Value>); 17] {
        [
            ("default_ttl_ms", self.default_ttl_ms.as_ref()),
            ("activity_bump_ms", self.activity_bump_ms.as_ref()),
            ("autostop_requirement", self.autostop_requirement.as_ref()),
            ("autostart_requirement", self.autostart_requirement.as_ref()),
            ("allow_user_autostart", self.allow_user_autostart.as_ref()),
            ("allow_user_autostop", self.allow_user_autostop.as_ref()),
            ("allow_user_cancel_workspace_jobs", self.allow_user_cancel_workspace_jobs.as_ref()),
            ("failure_ttl_ms", self.failure_ttl_ms.as_ref()),
            ("time_til_dormant_ms", self.time_til_dormant_ms.as_ref()),
            ("time_til_dormant_autodelete_ms", self.time_til_dormant_autodelete_ms.as_ref()),
            ("update_workspace_last_used_at", self.update_workspace_last_used_at.as_ref()),
            ("update_workspace_dormant_at", self.update_workspace_dormant_at.as_ref()),
            ("require_active_version", self.require_active_version.as_ref()),
            ("deprecation_message", self.deprecation_message.as_ref()),
            ("max_port_share_level", self.max_port_share_level.as_ref()),
            ("cors_behavior", self.cors_behavior.as_ref()),
            ("use_classic_parameter_flow", self.use_classic_parameter_flow.as_ref()),
        ]
    }
}

/// `PATCH /templates/{template}/acl`: id → `admin`, `use` or `""` (remove); entries not named
/// keep their role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTemplateAcl {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "crate::go::null_as_empty")]
    pub user_perms: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "crate::go::null_as_empty")]
    pub group_perms: BTreeMap<String, String>,
}

/// A user entry of the template ACL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateUser {
    #[serde(flatten)]
    pub user: User,
    /// `admin`, `use`, or `""` for an action set that is neither.
    pub role: String,
}

/// A group entry of the template ACL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateGroup {
    #[serde(flatten)]
    pub group: Group,
    pub role: String,
}

/// `GET /templates/{template}/acl`: Coder names the groups key `group` (singular).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateAcl {
    pub users: Vec<TemplateUser>,
    #[serde(rename = "group")]
    pub groups: Vec<TemplateGroup>,
}

/// `GET /templates/{template}/acl/available`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AclAvailable {
    pub users: Vec<ReducedUser>,
    pub groups: Vec<Group>,
}

/// `PATCH /templates/{template}/versions`: `{"id": <version>}`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateActiveTemplateVersion {
    #[serde(default, deserialize_with = "crate::go::nil_uuid_as_none")]
    pub id: Option<Uuid>,
}
