//! Building a user's engine subject from stored roles (rbac.md §1.8): the stored site roles
//! plus `member`; per org membership, the stored org roles plus `organization-member`; custom
//! roles expanded by name (silently dropped when they no longer exist) — org custom and
//! restriction roles per membership, site-wide custom and restriction roles among the site
//! roles (issue 20); the user's groups; the key's scope.

use crate::{BuiltinRole, Permission, Role, RoleOptions, Scope, Subject};
use uuid::Uuid;

/// One org membership with its stored role names.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    pub org: Uuid,
    pub roles: Vec<String>,
}

/// A stored custom role.
#[derive(Clone, Debug)]
pub struct CustomRole {
    pub org: Uuid,
    pub name: String,
    pub display_name: String,
    pub org_permissions: Vec<Permission>,
}

impl CustomRole {
    pub fn to_role(&self) -> Role {
        Role {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            org: Some(self.org),
            site: Vec::new(),
            org_perms: self.org_permissions.clone(),
            user: Vec::new(),
            builtin: None,
        }
    }
}

/// Everything the engine needs about a user.
#[derive(Clone, Debug, Default)]
pub struct SubjectInput {
    pub user: Uuid,
    pub site_roles: Vec<String>,
    pub memberships: Vec<Membership>,
    /// Custom roles of the user's orgs (only those named by memberships are used).
    pub custom_roles: Vec<CustomRole>,
    /// Site-wide custom and restriction roles (only those named by `site_roles` are used).
    pub site_custom_roles: Vec<Role>,
    pub groups: Vec<Uuid>,
}

/// Expands roles into a compiled subject.
pub fn build(input: &SubjectInput, scope: Scope, options: RoleOptions) -> Subject {
    let mut roles = Vec::new();
    let site = input.site_roles.iter().map(String::as_str).chain([BuiltinRole::Member.name()]);
    for name in site {
        match BuiltinRole::parse(name) {
            Some(b) => roles.extend(b.expand(None, options).ok().filter(|_| !b.is_org_role())),
            None => roles.extend(
                input
                    .site_custom_roles
                    .iter()
                    .find(|c| c.org.is_none() && c.name.eq_ignore_ascii_case(name))
                    .cloned(),
            ),
        }
    }
    for m in &input.memberships {
        let names =
            m.roles.iter().map(String::as_str).chain([BuiltinRole::OrganizationMember.name()]);
        for name in names {
            match BuiltinRole::parse(name).filter(|b| b.is_org_role()) {
                Some(b) => roles.extend(b.expand(Some(m.org), options).ok()),
                None => roles.extend(
                    input
                        .custom_roles
                        .iter()
                        .find(|c| c.org == m.org && c.name.eq_ignore_ascii_case(name))
                        .map(CustomRole::to_role),
                ),
            }
        }
    }
    Subject::new(input.user, roles, input.groups.clone(), scope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Object, ResourceType};

    #[test]
    fn implied_roles_and_missing_custom_roles() {
        let org = Uuid::from_u128(7);
        let me = Uuid::from_u128(1);
        let input = SubjectInput {
            user: me,
            site_roles: vec!["owner-typo".into()],
            memberships: vec![Membership { org, roles: vec!["gone".into(), "starter".into()] }],
            custom_roles: vec![CustomRole {
                org,
                name: "Starter".into(),
                display_name: String::new(),
                org_permissions: vec![Permission::allow(ResourceType::Template, Action::Update)],
            }],
            groups: vec![],
            site_custom_roles: vec![],
        };
        let s = build(&input, Scope::ALL, RoleOptions::default());
        let names: Vec<&str> = s.roles().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["member", "Starter", "organization-member"]);
        assert!(
            s.can(Action::Create, &Object::of(ResourceType::Workspace).in_org(org).with_owner(me))
        );
        assert!(s.can(Action::Update, &Object::of(ResourceType::Template).in_org(org)));
    }

    #[test]
    fn site_wide_custom_and_restriction_roles_expand_by_name() {
        let me = Uuid::from_u128(1);
        let org = Uuid::from_u128(7);
        let site_role = |name: &str, p: Permission| Role {
            name: name.into(),
            display_name: String::new(),
            org: None,
            site: vec![p],
            org_perms: vec![],
            user: vec![],
            builtin: None,
        };
        let input = SubjectInput {
            user: me,
            site_roles: vec!["template-reader".into(), "NO-DELETES".into(), "unknown".into()],
            memberships: vec![Membership { org, roles: vec![] }],
            site_custom_roles: vec![
                site_role(
                    "template-reader",
                    Permission::allow(ResourceType::Template, Action::Read),
                ),
                site_role("no-deletes", Permission::deny(ResourceType::Workspace, Action::Delete)),
            ],
            ..SubjectInput::default()
        };
        let s = build(&input, Scope::ALL, RoleOptions::default());
        let names: Vec<&str> = s.roles().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["template-reader", "no-deletes", "member", "organization-member"]);
        let other_org = Uuid::from_u128(8);
        assert!(s.can(Action::Read, &Object::of(ResourceType::Template).in_org(other_org)));
        let mine = Object::of(ResourceType::Workspace).in_org(org).with_owner(me);
        assert!(s.can(Action::Create, &mine));
        assert!(!s.can(Action::Delete, &mine));
    }
}
