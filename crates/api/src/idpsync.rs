//! IdP sync settings (codersdk's `GroupSyncSettings`, `RoleSyncSettings`,
//! `OrganizationSyncSettings` and their config and mapping patches; coder-api.md §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// `null` read as the default (Go's nil maps and slices arrive as `null`).
fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An organization's group sync: the claim (`""` = off), claim values to group ids, a regular
/// expression the claimed names must match, and whether missing groups are created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupSyncSettings {
    #[serde(default)]
    pub field: String,
    #[serde(default, deserialize_with = "null_default")]
    pub mapping: BTreeMap<String, Vec<Uuid>>,
    #[serde(default)]
    pub regex_filter: Option<String>,
    #[serde(default)]
    pub auto_create_missing_groups: bool,
    /// Deprecated in Coder; refused when set.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub legacy_group_name_mapping: BTreeMap<String, String>,
}

/// An organization's role sync: the claim (`""` = off) and claim values to org role names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleSyncSettings {
    #[serde(default)]
    pub field: String,
    #[serde(default, deserialize_with = "null_default")]
    pub mapping: BTreeMap<String, Vec<String>>,
}

/// Organization sync (deployment-wide): the claim (`""` = off), claim values to organization
/// ids, and whether everyone stays in the default organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationSyncSettings {
    #[serde(default)]
    pub field: String,
    #[serde(default, deserialize_with = "null_default")]
    pub mapping: BTreeMap<String, Vec<Uuid>>,
    #[serde(default)]
    pub organization_assign_default: bool,
}

impl Default for OrganizationSyncSettings {
    /// Off, keeping everyone in the default organization (Coder's flag default).
    fn default() -> Self {
        OrganizationSyncSettings {
            field: String::new(),
            mapping: BTreeMap::new(),
            organization_assign_default: true,
        }
    }
}

/// `PATCH .../idpsync/groups/config`: everything but the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatchGroupIdpSyncConfigRequest {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub regex_filter: Option<String>,
    #[serde(default)]
    pub auto_create_missing_groups: bool,
}

/// `PATCH .../idpsync/roles/config`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatchRoleIdpSyncConfigRequest {
    #[serde(default)]
    pub field: String,
}

/// `PATCH /settings/idpsync/organization/config`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatchOrganizationIdpSyncConfigRequest {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub assign_default: bool,
}

/// One mapping entry: the claim value the user has, and what it gets. Coder's type has no JSON
/// tags, so its names are capitalized (lower case is accepted too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSyncMapping<T> {
    #[serde(rename = "Given", alias = "given")]
    pub given: String,
    #[serde(rename = "Gets", alias = "gets")]
    pub gets: T,
}

/// `PATCH .../mapping`: entries to add, then entries to remove (removal wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct PatchIdpSyncMappingRequest<T> {
    #[serde(rename = "Add", alias = "add", default, deserialize_with = "null_default")]
    pub add: Vec<IdpSyncMapping<T>>,
    #[serde(rename = "Remove", alias = "remove", default, deserialize_with = "null_default")]
    pub remove: Vec<IdpSyncMapping<T>>,
}

/// Applies a mapping patch as Coder does: existing entries kept, additions appended unless
/// present, then removals dropped; a claim value left with nothing stays as an empty list.
pub fn apply_mapping_patch<T: Clone + PartialEq>(
    mapping: &BTreeMap<String, Vec<T>>,
    patch: &PatchIdpSyncMappingRequest<T>,
) -> BTreeMap<String, Vec<T>> {
    let mut next = mapping.clone();
    for m in &patch.add {
        let list = next.entry(m.given.clone()).or_default();
        if !list.contains(&m.gets) {
            list.push(m.gets.clone());
        }
    }
    for m in &patch.remove {
        next.entry(m.given.clone()).or_default().retain(|g| *g != m.gets);
    }
    next
}
