//! Who may hand out which role (rbac.md §4): the static table and the checked diff of a role
//! change.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::authorize::Object;
use crate::resource::{Action, ResourceType};
use crate::role::{BuiltinRole, Role};
use crate::subject::Subject;

/// A role that might be assigned: a built-in, or a custom role (mapped to Coder's pseudo-names
/// `custom-site-role` / `custom-organization-role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignable {
    Builtin(BuiltinRole),
    CustomSite,
    CustomOrg,
}

/// `can_assign(actor_roles, target)` (rbac.md §4.1): any of the actor's built-in roles maps to a
/// set containing the target; an actor role of org X counts only for targets in org X.
pub fn can_assign(actor_roles: &[Role], target: Assignable, target_org: Option<Uuid>) -> bool {
    use BuiltinRole as B;
    actor_roles.iter().any(|role| {
        let Some(builtin) = role.builtin else { return false };
        if role.org.is_some() && role.org != target_org {
            return false;
        }
        match builtin {
            B::Owner => true,
            B::UserAdmin => {
                matches!(target, Assignable::Builtin(B::Member | B::OrganizationMember))
            }
            B::OrganizationAdmin => matches!(
                target,
                Assignable::CustomOrg
                    | Assignable::Builtin(
                        B::OrganizationAdmin
                            | B::OrganizationMember
                            | B::OrganizationAuditor
                            | B::OrganizationUserAdmin
                            | B::OrganizationTemplateAdmin
                            | B::OrganizationWorkspaceCreationBan
                    )
            ),
            B::OrganizationUserAdmin => {
                matches!(target, Assignable::Builtin(B::OrganizationMember))
            }
            _ => false,
        }
    })
}

/// Where roles are being changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleScope {
    Site,
    Org(Uuid),
}

/// Why a role change is refused (texts are Coder's, rbac.md §4.2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    #[error("Must only update org roles")]
    NotAnOrgRole,
    #[error("Must only update site wide roles")]
    NotASiteRole,
    #[error("attempt to assign a role \"{0}\", remove the ':<organization_id> suffix")]
    Suffixed(String),
    #[error("\"{0}\" is not a supported role")]
    Unsupported(String),
    /// The actor lacks `assign`/`unassign` on the role object (HTTP 403 `Forbidden.`).
    #[error("forbidden")]
    Forbidden,
    #[error("not authorized to assign role \"{0}\"")]
    NotAuthorized(String),
}

/// The accepted change: names added and removed (implied roles excluded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl RoleChange {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// The role names to store: `current` without the removed ones, with the added ones
    /// (by their stored names), sorted and without repeats.
    pub fn apply(&self, current: &[String]) -> Vec<String> {
        let mut new: Vec<String> =
            current.iter().filter(|r| !self.removed.contains(r)).cloned().collect();
        new.extend(self.added.iter().cloned());
        new.sort();
        new.dedup();
        new
    }
}

/// Checks replacing `current` with `requested` (stored names, no `:org` suffix). `custom_role`
/// resolves a non-built-in name case-insensitively to the stored custom role's name.
pub fn check_role_change(
    actor: &Subject,
    scope: RoleScope,
    current: &[String],
    requested: &[String],
    custom_role: impl Fn(&str) -> Option<String>,
) -> Result<RoleChange, AssignError> {
    check_role_change_with(actor, scope, current, requested, |name| {
        custom_role(name).map(|name| CustomRoleInfo { name, assignable_by: Vec::new() })
    })
}

/// A stored custom (or restriction) role as role changes see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomRoleInfo {
    /// The stored name.
    pub name: String,
    /// Roles whose holders may assign it besides those rbac.md §4 allows (issue 20's
    /// "who may assign"; set by owners only).
    pub assignable_by: Vec<String>,
}

/// Whether one of `actor_roles` is named in `assignable_by` and applies where the role is
/// assigned: a site role anywhere, an org role in its own org only.
pub fn assignable_by_allows(
    actor_roles: &[Role],
    assignable_by: &[String],
    target_org: Option<Uuid>,
) -> bool {
    actor_roles.iter().any(|role| {
        (role.org.is_none() || role.org == target_org)
            && assignable_by.iter().any(|n| n.eq_ignore_ascii_case(&role.name))
    })
}

/// [`check_role_change`] with each custom role's "who may assign" list: a holder of a role it
/// names may assign or unassign it even where rbac.md §4 alone would refuse.
pub fn check_role_change_with(
    actor: &Subject,
    scope: RoleScope,
    current: &[String],
    requested: &[String],
    custom_role: impl Fn(&str) -> Option<CustomRoleInfo>,
) -> Result<RoleChange, AssignError> {
    let implied = match scope {
        RoleScope::Site => BuiltinRole::Member,
        RoleScope::Org(_) => BuiltinRole::OrganizationMember,
    };
    let old: BTreeSet<&str> =
        current.iter().map(String::as_str).filter(|n| *n != implied.name()).collect();
    let new: BTreeSet<&str> =
        requested.iter().map(String::as_str).filter(|n| *n != implied.name()).collect();
    let org = match scope {
        RoleScope::Site => None,
        RoleScope::Org(org) => Some(org),
    };
    let qualified = |name: &str| org.map_or_else(|| name.to_owned(), |o| format!("{name}:{o}"));

    let mut change = RoleChange::default();
    let mut targets = Vec::new();
    for (name, added) in
        new.difference(&old).map(|n| (*n, true)).chain(old.difference(&new).map(|n| (*n, false)))
    {
        if name.contains(':') {
            return Err(match scope {
                RoleScope::Site => AssignError::NotASiteRole,
                RoleScope::Org(_) => AssignError::Suffixed(name.to_owned()),
            });
        }
        let target = match BuiltinRole::parse(name) {
            Some(b) if b.is_org_role() != org.is_some() => {
                return Err(match scope {
                    RoleScope::Site => AssignError::NotASiteRole,
                    RoleScope::Org(_) => AssignError::NotAnOrgRole,
                });
            }
            Some(b) => Assignable::Builtin(b),
            // Removing a custom role that no longer exists is allowed: it expands to nothing.
            None if !added => match scope {
                RoleScope::Site => Assignable::CustomSite,
                RoleScope::Org(_) => Assignable::CustomOrg,
            },
            None => match (custom_role(name), scope) {
                (Some(_), RoleScope::Site) => Assignable::CustomSite,
                (Some(_), RoleScope::Org(_)) => Assignable::CustomOrg,
                (None, _) => return Err(AssignError::Unsupported(qualified(name))),
            },
        };
        let info = match target {
            Assignable::Builtin(_) => None,
            _ => custom_role(name),
        };
        let stored = match (&info, added) {
            (Some(info), true) => info.name.clone(),
            _ => name.to_owned(),
        };
        let assignable_by = info.map(|i| i.assignable_by).unwrap_or_default();
        targets.push((stored.clone(), target, assignable_by));
        if added { change.added.push(stored) } else { change.removed.push(stored) }
    }

    let object = match org {
        None => Object::of(ResourceType::AssignRole),
        Some(org) => Object::of(ResourceType::AssignOrgRole).in_org(org),
    };
    if !change.added.is_empty() && !actor.can(Action::Assign, &object) {
        return Err(AssignError::Forbidden);
    }
    if !change.removed.is_empty() && !actor.can(Action::Unassign, &object) {
        return Err(AssignError::Forbidden);
    }
    for (name, target, assignable_by) in targets {
        if !can_assign(actor.roles(), target, org)
            && !assignable_by_allows(actor.roles(), &assignable_by, org)
        {
            return Err(AssignError::NotAuthorized(qualified(&name)));
        }
    }
    Ok(change)
}
