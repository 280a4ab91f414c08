//! Restriction roles (issue 20): roles that only take permissions away, like the built-in
//! `organization-workspace-creation-ban`, but defined by an owner. They hold negative
//! permissions only (a deny may use `*` for the type or the action: it can only take away),
//! per organization or site-wide, and are evaluated exactly as the ban is (rbac.md §1.4): an
//! org-level deny blocks the org and user levels of that org, a site-level deny blocks all
//! three, and an explicit ACL grant on one object still passes (rbac.md §9.4).
//!
//! Additive custom roles stay additive: [`crate::custom_role`] still refuses any negative
//! permission with the seed's text; a restriction role holding an allow is refused here.

use uuid::Uuid;

use crate::custom_role::{CustomRoleRequest, RawPermission, parse_level};
use crate::name::{NameError, validate_name};
use crate::role::{BuiltinRole, Permission, Role};
use crate::subject::Subject;

/// Where a restriction role applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestrictionScope {
    /// One organization: its denies are org-level.
    Org(Uuid),
    /// Every organization: its denies are site-level (and user-level, when given).
    Site,
}

impl RestrictionScope {
    const fn prefix(self) -> &'static str {
        match self {
            RestrictionScope::Org(_) => "org",
            RestrictionScope::Site => "site",
        }
    }
}

/// Why a restriction role is refused. `Display` gives the text the API returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestrictionError {
    /// Only holders of the site `owner` role define restriction roles (org admins may assign
    /// an org restriction role, never define one).
    #[error("only owners may define restriction roles")]
    NotOwner,
    #[error("Validation failed for tag \"username\" with value: \"{name}\"")]
    InvalidName { name: String, reason: NameError },
    #[error("\"{0}\" is a reserved role name, and not allowed to be used")]
    ReservedName(String),
    #[error("organization scoped roles may not contain site wide permissions")]
    SitePermissions,
    #[error("organization scoped roles may not contain user permissions")]
    UserPermissions,
    #[error("a restriction role needs at least one permission to take away")]
    Empty,
    /// Unknown types or actions, one line each.
    #[error("{}", .0.join("\n"))]
    UnknownPairs(Vec<String>),
    /// The first allow in the request.
    #[error(
        "{prefix}: invalid permission for action=\"{action}\" type=\"{resource_type}\", a restriction role may only hold negative permissions"
    )]
    HoldsAllow { prefix: &'static str, action: String, resource_type: String },
}

/// Whether `actor` holds the site `owner` role.
pub fn is_owner(actor: &Subject) -> bool {
    actor.roles().iter().any(|r| r.builtin == Some(BuiltinRole::Owner) && r.org.is_none())
}

/// Validates `req` as a restriction role defined by `actor` in `scope`, returning the role to
/// store (and to expand into subjects): its permissions, all negative.
pub fn validate(
    req: &CustomRoleRequest,
    scope: RestrictionScope,
    actor: &Subject,
) -> Result<Role, RestrictionError> {
    if !is_owner(actor) {
        return Err(RestrictionError::NotOwner);
    }
    validate_name(&req.name)
        .map_err(|reason| RestrictionError::InvalidName { name: req.name.clone(), reason })?;
    if BuiltinRole::parse(&req.name).is_some() {
        return Err(RestrictionError::ReservedName(req.name.clone()));
    }
    let prefix = scope.prefix();
    let (site, org_perms, user) = match scope {
        RestrictionScope::Org(_) => {
            if !req.site_permissions.is_empty() {
                return Err(RestrictionError::SitePermissions);
            }
            if !req.user_permissions.is_empty() {
                return Err(RestrictionError::UserPermissions);
            }
            (Vec::new(), parse_all(prefix, &req.organization_permissions)?, Vec::new())
        }
        RestrictionScope::Site => {
            if !req.organization_permissions.is_empty() {
                return Err(RestrictionError::UnknownPairs(vec![
                    "site: a site-wide role has no organization permissions".to_owned(),
                ]));
            }
            (
                parse_all(prefix, &req.site_permissions)?,
                Vec::new(),
                parse_all(prefix, &req.user_permissions)?,
            )
        }
    };
    let all = site.iter().chain(&org_perms).chain(&user);
    if let Some(allow) = all.clone().find(|p| !p.negate) {
        return Err(RestrictionError::HoldsAllow {
            prefix,
            action: allow.action.to_string(),
            resource_type: allow.resource_type.to_string(),
        });
    }
    if all.count() == 0 {
        return Err(RestrictionError::Empty);
    }
    Ok(Role {
        name: req.name.clone(),
        display_name: req.display_name.clone(),
        org: match scope {
            RestrictionScope::Org(org) => Some(org),
            RestrictionScope::Site => None,
        },
        site,
        org_perms,
        user,
        builtin: None,
    })
}

/// Parses every permission, reporting all unknown type/action pairs at once.
fn parse_all(prefix: &str, raws: &[RawPermission]) -> Result<Vec<Permission>, RestrictionError> {
    let mut unknown = Vec::new();
    let parsed = parse_level(prefix, raws, &mut unknown);
    if unknown.is_empty() { Ok(parsed) } else { Err(RestrictionError::UnknownPairs(unknown)) }
}
