//! An organization's roles: the built-ins with `assignable`, and custom roles — create, update,
//! delete — validated by the engine in Coder's order (rbac.md §4.3, §5). Custom roles are free
//! in Atrium; unknown type/action pairs are refused on update as on create.

use crate::caller::parse_permission;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::users::Role as ApiRole;
use atrium_engine::custom_role::{CustomRoleError, CustomRoleRequest, RawPermission};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{OrgId, roles};

pub fn roles_object(org: OrgId) -> Object<'static> {
    Object::of(ResourceType::AssignOrgRole).in_org(org.uuid())
}

/// A stored custom role in Coder's `Role` JSON (permissions as stored, in order).
pub fn custom_api_role(r: &roles::CustomRole) -> ApiRole {
    let perms = |list: &[RawPermission]| {
        list.iter()
            .map(|p| atrium_api::users::Permission {
                negate: p.negate,
                resource_type: p.resource_type.clone(),
                action: p.action.clone(),
            })
            .collect()
    };
    ApiRole {
        name: r.name.clone(),
        organization_id: r.org_id.to_string(),
        display_name: r.display_name.clone(),
        site_permissions: perms(&r.site_permissions.0),
        organization_permissions: perms(&r.org_permissions.0),
        user_permissions: perms(&r.user_permissions.0),
    }
}

pub fn failed(detail: impl Into<String>) -> Error {
    Error::bad_request("Failed to update role permissions").detail(detail)
}

/// Shared by create and update: the engine's checks in Coder's order, with the RBAC check on
/// the role object between the request-shape checks and the permission checks (§5.2 step 8).
pub async fn validated(
    actor: &Caller,
    org: OrgId,
    req: &CustomRoleRequest,
    action: Action,
) -> Result<Vec<RawPermission>> {
    let checked = req.validate(org.uuid(), &actor.subject);
    match &checked {
        Err(CustomRoleError::InvalidName { name, .. }) => {
            return Err(Error::tag_failed("name", "username", name));
        }
        Err(e @ CustomRoleError::ReservedName(_)) => {
            return Err(Error::bad_request("Reserved role name").detail(e.to_string()));
        }
        Err(e @ CustomRoleError::SitePermissions) => {
            return Err(Error::bad_request(
                "Invalid request, not allowed to assign site wide permissions for an organization role.",
            )
            .detail(e.to_string()));
        }
        Err(e @ CustomRoleError::UserPermissions) => {
            return Err(Error::bad_request(
                "Invalid request, not allowed to assign user permissions for an organization role.",
            )
            .detail(e.to_string()));
        }
        Err(CustomRoleError::UnknownPairs(_) | CustomRoleError::Permission { .. }) | Ok(_) => {}
    }
    actor.require_or_404(action, &roles_object(org))?;
    match checked {
        Ok(_) => Ok(req.organization_permissions.clone()),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// Engine permissions of a stored role (used by the explain endpoint and the CLI).
pub fn engine_permissions(r: &roles::CustomRole) -> Vec<atrium_engine::Permission> {
    r.org_permissions.0.iter().filter_map(parse_permission).collect()
}
