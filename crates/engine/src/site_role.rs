//! Site-wide custom roles (issue 20): additive roles with site and user permissions, defined
//! and assigned by owners (Coder's custom roles are org-scoped only, coder#13226). Validated
//! like organization custom roles (rbac.md §5): no negative permission, no wildcard, no
//! permission the definer lacks — with a `site: ` / `user: ` prefix where org roles say `org: `.

use crate::authorize::Object;
use crate::custom_role::{CustomRoleRequest, parse_level};
use crate::name::{NameError, validate_name};
use crate::resource::Wild;
use crate::restriction::is_owner;
use crate::role::{BuiltinRole, Role};
use crate::subject::Subject;

/// Why a site-wide custom role is refused. `Display` gives the text the API returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SiteRoleError {
    #[error("only owners may define site-wide roles")]
    NotOwner,
    #[error("Validation failed for tag \"username\" with value: \"{name}\"")]
    InvalidName { name: String, reason: NameError },
    #[error("\"{0}\" is a reserved role name, and not allowed to be used")]
    ReservedName(String),
    #[error("site wide roles may not contain organization permissions")]
    OrganizationPermissions,
    /// Unknown types or actions, one line each.
    #[error("{}", .0.join("\n"))]
    UnknownPairs(Vec<String>),
    /// The first offending permission (`level` is `site` or `user`).
    #[error(
        "{level}: invalid permission for action=\"{action}\" type=\"{resource_type}\", {problem}"
    )]
    Permission { level: &'static str, action: String, resource_type: String, problem: &'static str },
}

/// Validates `req` as a site-wide additive role defined by `actor`, returning the role to store.
pub fn validate(req: &CustomRoleRequest, actor: &Subject) -> Result<Role, SiteRoleError> {
    if !is_owner(actor) {
        return Err(SiteRoleError::NotOwner);
    }
    validate_name(&req.name)
        .map_err(|reason| SiteRoleError::InvalidName { name: req.name.clone(), reason })?;
    if BuiltinRole::parse(&req.name).is_some() {
        return Err(SiteRoleError::ReservedName(req.name.clone()));
    }
    if !req.organization_permissions.is_empty() {
        return Err(SiteRoleError::OrganizationPermissions);
    }
    let mut unknown = Vec::new();
    let site = parse_level("site", &req.site_permissions, &mut unknown);
    let user = parse_level("user", &req.user_permissions, &mut unknown);
    if !unknown.is_empty() {
        return Err(SiteRoleError::UnknownPairs(unknown));
    }
    let me = actor.id();
    let levels = site.iter().map(|p| ("site", p)).chain(user.iter().map(|p| ("user", p)));
    for (level, p) in levels {
        let problem = if p.negate {
            Some("no negative permissions")
        } else {
            match (p.resource_type, p.action) {
                (Wild::Is(t), Wild::Is(a)) => {
                    // The definer must hold what it hands out, at the level it is handed out.
                    let object =
                        if level == "site" { Object::of(t) } else { Object::of(t).with_owner(me) };
                    (!actor.can(a, &object)).then_some("not allowed to grant this permission")
                }
                _ => Some("no wildcard symbols"),
            }
        };
        if let Some(problem) = problem {
            return Err(SiteRoleError::Permission {
                level,
                action: p.action.to_string(),
                resource_type: p.resource_type.to_string(),
                problem,
            });
        }
    }
    Ok(Role {
        name: req.name.clone(),
        display_name: req.display_name.clone(),
        org: None,
        site,
        org_perms: Vec::new(),
        user,
        builtin: None,
    })
}
