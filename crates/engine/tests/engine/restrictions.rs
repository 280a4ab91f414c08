//! Restriction roles (issue 20): only owners define them, they hold only denies, and they are
//! evaluated like the built-in creation ban, named in explanations.

use atrium_engine::custom_role::{CustomRoleRequest, RawPermission, raw};
use atrium_engine::restriction::{RestrictionError, RestrictionScope, validate};
use atrium_engine::{Action, ActionSet, BuiltinRole, Object, ResourceType, Role, RoleOptions};
use atrium_engine::{Scope, Subject, Wild};
use uuid::Uuid;

const A: Uuid = Uuid::from_u128(0xa);
const B: Uuid = Uuid::from_u128(0xb);
const ME: Uuid = Uuid::from_u128(0x1);

fn builtin(role: BuiltinRole, org: Option<Uuid>) -> Role {
    role.expand(org, RoleOptions::default()).unwrap()
}

fn owner() -> Subject {
    Subject::new(ME, vec![builtin(BuiltinRole::Owner, None)], vec![], Scope::ALL)
}

fn request(name: &str, org: Vec<RawPermission>) -> CustomRoleRequest {
    CustomRoleRequest { name: name.into(), organization_permissions: org, ..Default::default() }
}

fn deny(t: &str, a: &str) -> RawPermission {
    RawPermission { negate: true, resource_type: t.into(), action: a.into() }
}

/// A member of A and B holding `extra` roles.
fn member_with(extra: Vec<Role>) -> Subject {
    let mut roles = vec![
        builtin(BuiltinRole::Member, None),
        builtin(BuiltinRole::OrganizationMember, Some(A)),
        builtin(BuiltinRole::OrganizationMember, Some(B)),
    ];
    roles.extend(extra);
    Subject::new(ME, roles, vec![], Scope::ALL)
}

fn my_workspace(org: Uuid) -> Object<'static> {
    Object::of(ResourceType::Workspace).in_org(org).with_owner(ME)
}

#[test]
fn only_owners_define_restriction_roles() {
    let org_admin = Subject::new(
        ME,
        vec![
            builtin(BuiltinRole::OrganizationMember, Some(A)),
            builtin(BuiltinRole::OrganizationAdmin, Some(A)),
        ],
        vec![],
        Scope::ALL,
    );
    let req = request("no-workspace-deletes", vec![deny("workspace", "delete")]);
    assert_eq!(
        validate(&req, RestrictionScope::Org(A), &org_admin),
        Err(RestrictionError::NotOwner)
    );
    assert!(validate(&req, RestrictionScope::Org(A), &owner()).is_ok());
}

#[test]
fn a_restriction_role_holds_only_denies() {
    let req = request(
        "mixed",
        vec![deny("workspace", "delete"), raw(false, ResourceType::Workspace, Action::Read)],
    );
    let err = validate(&req, RestrictionScope::Org(A), &owner()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid permission for action=\"read\" type=\"workspace\", a restriction role may only hold negative permissions"
    );
    let empty = request("empty", vec![]);
    assert_eq!(validate(&empty, RestrictionScope::Org(A), &owner()), Err(RestrictionError::Empty));
    let site_in_org = CustomRoleRequest {
        site_permissions: vec![deny("workspace", "delete")],
        ..request("x", vec![])
    };
    assert_eq!(
        validate(&site_in_org, RestrictionScope::Org(A), &owner()),
        Err(RestrictionError::SitePermissions)
    );
    let unknown = request("bad", vec![deny("workspace", "fly"), deny("spaceship", "read")]);
    assert_eq!(
        validate(&unknown, RestrictionScope::Org(A), &owner()).unwrap_err().to_string(),
        "org: invalid action \"fly\" for resource \"workspace\"\norg: invalid resource type \"spaceship\""
    );
    // Wildcards may only take away, so they are allowed in a deny.
    let wild = request("no-template-edits", vec![deny("template", "*")]);
    let role = validate(&wild, RestrictionScope::Org(A), &owner()).unwrap();
    assert_eq!(role.org_perms[0].action, Wild::Any);
}

#[test]
fn no_workspace_deletes_in_one_org_leaves_the_other_alone() {
    let req = request("no-workspace-deletes", vec![deny("workspace", "delete")]);
    let role = validate(&req, RestrictionScope::Org(A), &owner()).unwrap();
    let me = member_with(vec![role]);
    assert!(me.can(Action::Create, &my_workspace(A)));
    assert!(me.can(Action::Stop, &my_workspace(A)));
    assert!(!me.can(Action::Delete, &my_workspace(A)));
    assert!(me.can(Action::Delete, &my_workspace(B)));
    // The explanation names the role.
    let decision = me.authorize(Action::Delete, &my_workspace(A));
    let words = me.explain(&decision, Action::Delete, &my_workspace(A)).join(" ");
    assert!(words.contains("no-workspace-deletes"), "{words}");
}

#[test]
fn a_site_wide_restriction_blocks_every_level_even_for_owners() {
    let req = CustomRoleRequest {
        site_permissions: vec![deny("workspace", "delete")],
        ..request("no-deletes-anywhere", vec![])
    };
    let role = validate(&req, RestrictionScope::Site, &owner()).unwrap();
    let boss = Subject::new(ME, vec![builtin(BuiltinRole::Owner, None), role], vec![], Scope::ALL);
    assert!(!boss.can(Action::Delete, &my_workspace(A)));
    assert!(!boss.can(
        Action::Delete,
        &Object::of(ResourceType::Workspace).in_org(B).with_owner(Uuid::from_u128(9))
    ));
    assert!(boss.can(Action::Stop, &my_workspace(A)));
}

#[test]
fn an_explicit_acl_grant_still_passes_an_org_restriction() {
    // As with the ban (rbac.md §9.4): the deny removes the role's grant, not an ACL's.
    let req = request("no-template-use", vec![deny("template", "use")]);
    let role = validate(&req, RestrictionScope::Org(A), &owner()).unwrap();
    let me = member_with(vec![role]);
    let template = Object::of(ResourceType::Template).in_org(A);
    let acl =
        [(ME, [Wild::Is(Action::Read), Wild::Is(Action::Use)].into_iter().collect::<ActionSet>())];
    assert!(!me.can(Action::Use, &template));
    assert!(me.can(Action::Use, &template.with_user_acl(&acl)));
}

mod who_may_assign {
    use atrium_engine::assign::{AssignError, CustomRoleInfo, RoleScope, check_role_change_with};

    use super::*;

    fn user_admin_of(org: Uuid) -> Subject {
        Subject::new(
            ME,
            vec![
                builtin(BuiltinRole::Member, None),
                builtin(BuiltinRole::OrganizationMember, Some(org)),
                builtin(BuiltinRole::OrganizationUserAdmin, Some(org)),
            ],
            vec![],
            Scope::ALL,
        )
    }

    fn startstop(
        assignable_by: &'static [&'static str],
    ) -> impl Fn(&str) -> Option<CustomRoleInfo> {
        move |name: &str| {
            name.eq_ignore_ascii_case("cr-startstop").then(|| CustomRoleInfo {
                name: "cr-startstop".into(),
                assignable_by: assignable_by.iter().map(|s| (*s).to_owned()).collect(),
            })
        }
    }

    #[test]
    fn a_role_named_in_assignable_by_may_assign_it_in_its_own_org_only() {
        let want = vec!["cr-startstop".to_owned()];
        // Without the list, rbac.md §4: an org user admin assigns organization-member only.
        let refused = check_role_change_with(
            &user_admin_of(A),
            RoleScope::Org(A),
            &[],
            &want,
            startstop(&[]),
        );
        assert_eq!(refused, Err(AssignError::NotAuthorized(format!("cr-startstop:{A}"))));
        let allowed = check_role_change_with(
            &user_admin_of(A),
            RoleScope::Org(A),
            &[],
            &want,
            startstop(&["organization-user-admin"]),
        )
        .unwrap();
        assert_eq!(allowed.added, want);
        // Removing it is allowed the same way.
        let removed = check_role_change_with(
            &user_admin_of(A),
            RoleScope::Org(A),
            &want,
            &[],
            startstop(&["organization-user-admin"]),
        )
        .unwrap();
        assert_eq!(removed.removed, want);
        // A user admin of another org is not one here.
        let elsewhere = check_role_change_with(
            &user_admin_of(B),
            RoleScope::Org(A),
            &[],
            &want,
            startstop(&["organization-user-admin"]),
        );
        assert!(elsewhere.is_err(), "{elsewhere:?}");
    }
}

mod site_wide_roles {
    use atrium_engine::site_role::{SiteRoleError, validate};

    use super::*;

    fn allow(t: &str, a: &str) -> RawPermission {
        RawPermission { negate: false, resource_type: t.into(), action: a.into() }
    }

    fn site_request(site: Vec<RawPermission>) -> CustomRoleRequest {
        CustomRoleRequest {
            name: "auditor-lite".into(),
            site_permissions: site,
            ..Default::default()
        }
    }

    #[test]
    fn owners_define_additive_site_roles_that_apply_in_every_org() {
        let role = validate(&site_request(vec![allow("audit_log", "read")]), &owner()).unwrap();
        let me = member_with(vec![role]);
        assert!(me.can(Action::Read, &Object::of(ResourceType::AuditLog).in_org(A)));
        assert!(me.can(Action::Read, &Object::of(ResourceType::AuditLog).in_org(B)));
    }

    #[test]
    fn site_roles_refuse_non_owners_negatives_wildcards_and_org_permissions() {
        let me = member_with(vec![]);
        assert_eq!(
            validate(&site_request(vec![allow("audit_log", "read")]), &me),
            Err(SiteRoleError::NotOwner)
        );
        let negative =
            validate(&site_request(vec![deny("workspace", "delete")]), &owner()).unwrap_err();
        assert_eq!(
            negative.to_string(),
            "site: invalid permission for action=\"delete\" type=\"workspace\", no negative permissions"
        );
        let wild = validate(&site_request(vec![allow("*", "read")]), &owner()).unwrap_err();
        assert!(wild.to_string().ends_with("no wildcard symbols"), "{wild}");
        let org = CustomRoleRequest {
            organization_permissions: vec![allow("workspace", "read")],
            ..site_request(vec![])
        };
        assert_eq!(validate(&org, &owner()), Err(SiteRoleError::OrganizationPermissions));
    }
}

/// `atrium authz check` input: an inline role marked `restriction` must hold only denies; the
/// built-in ban is the one built-in restriction role.
#[test]
fn the_check_format_knows_restriction_roles() {
    use atrium_engine::request::RawRequest;
    let compile = |role: serde_json::Value| {
        let raw: RawRequest = serde_json::from_value(serde_json::json!({
            "subject": {"id": ME, "roles": [{"name": "member"}, role]},
            "action": "delete",
            "object": {"type": "workspace", "owner_id": ME, "org_id": A},
        }))
        .unwrap();
        raw.compile().map(|c| c.subject.can(c.action, &c.object.as_object()))
    };
    let no_deletes = serde_json::json!({"name": "no-deletes", "restriction": true,
        "site_permissions": [{"negate": true, "resource_type": "workspace", "action": "delete"}]});
    assert!(!compile(no_deletes).unwrap());
    let mixed = serde_json::json!({"name": "mixed", "restriction": true, "organization_id": A,
        "organization_permissions": [{"negate": false, "resource_type": "workspace", "action": "read"}]});
    let err = compile(mixed).unwrap_err();
    assert_eq!(err.field, "subject.roles[1].restriction");
    assert!(err.message.contains("only hold negative permissions"), "{}", err.message);
    let ban = serde_json::json!({"name": "organization-workspace-creation-ban", "organization_id": A, "restriction": true});
    assert!(compile(ban).is_ok());
    let auditor = serde_json::json!({"name": "auditor", "restriction": true});
    assert!(compile(auditor).is_err());
}
