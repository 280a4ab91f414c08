//! Site roles of a user and the assignable role list (coder-api.md §1.2, rbac.md §4).

#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::users::{Permission as ApiPermission, Role as ApiRole};
use atrium_engine::assign::AssignError;
use atrium_engine::{Permission, Role};

pub fn api_permission(p: &Permission) -> ApiPermission {
    ApiPermission {
        negate: p.negate,
        resource_type: p.resource_type.to_string(),
        action: p.action.to_string(),
    }
}

/// An engine role in Coder's `Role` JSON.
pub fn api_role(role: &Role) -> ApiRole {
    ApiRole {
        name: role.name.clone(),
        organization_id: role.org.map(|o| o.to_string()).unwrap_or_default(),
        display_name: role.display_name.clone(),
        site_permissions: role.site.iter().map(api_permission).collect(),
        organization_permissions: role.org_perms.iter().map(api_permission).collect(),
        user_permissions: role.user.iter().map(api_permission).collect(),
    }
}

/// Maps an assignment refusal to Coder's statuses: RBAC denial → 403, the rest → 400 with the
/// error text as message.
pub fn assign_error(e: AssignError) -> Error {
    match e {
        AssignError::Forbidden => Error::forbidden(),
        e @ (AssignError::NotAnOrgRole
        | AssignError::NotASiteRole
        | AssignError::Suffixed(_)
        | AssignError::Unsupported(_)
        | AssignError::NotAuthorized(_)) => Error::bad_request(e.to_string()),
    }
}
