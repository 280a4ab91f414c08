//! Custom-role validation: order and exact texts (rbac.md §5).

use atrium_engine::custom_role::{CustomRoleError, CustomRoleRequest, RawPermission, raw};
use atrium_engine::{Action, BuiltinRole, ResourceType, RoleOptions, Scope, Subject};
use uuid::Uuid;

const ORG: Uuid = Uuid::from_u128(0xa);
const ME: Uuid = Uuid::from_u128(0xa1);

fn subject(roles: &[BuiltinRole]) -> Subject {
    let roles = roles
        .iter()
        .map(|r| r.expand(r.is_org_role().then_some(ORG), RoleOptions::default()).unwrap())
        .collect();
    Subject::new(ME, roles, vec![], Scope::ALL)
}

fn org_admin() -> Subject {
    subject(&[BuiltinRole::Member, BuiltinRole::OrganizationMember, BuiltinRole::OrganizationAdmin])
}

fn request(perms: Vec<RawPermission>) -> CustomRoleRequest {
    CustomRoleRequest {
        name: "cr-workspace-startstop".into(),
        organization_permissions: perms,
        ..Default::default()
    }
}

#[test]
fn negative_permission_is_refused_with_the_seed_text() {
    let err = request(vec![raw(true, ResourceType::Workspace, Action::Create)])
        .validate(ORG, &subject(&[BuiltinRole::Owner]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions"
    );
    let err = request(vec![
        raw(false, ResourceType::Workspace, Action::Read),
        raw(true, ResourceType::Template, Action::Delete),
    ])
    .validate(ORG, &subject(&[BuiltinRole::Owner]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid permission for action=\"delete\" type=\"template\", no negative permissions"
    );
}

#[test]
fn start_stop_role_is_accepted_for_an_org_admin() {
    let perms = [Action::Start, Action::Stop, Action::Update, Action::Read]
        .map(|a| raw(false, ResourceType::Workspace, a))
        .to_vec();
    let role = request(perms).validate(ORG, &org_admin()).unwrap();
    assert_eq!(role.org, Some(ORG));
    assert_eq!(role.org_perms.len(), 4);
}

#[test]
fn wildcards_are_refused_even_for_owners() {
    let perm =
        RawPermission { negate: false, resource_type: "workspace".into(), action: "*".into() };
    let err = request(vec![perm]).validate(ORG, &subject(&[BuiltinRole::Owner])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid permission for action=\"*\" type=\"workspace\", no wildcard symbols"
    );
}

#[test]
fn escalation_is_refused() {
    // An org admin lacks `ssh` on workspaces org-wide, so it may not grant it.
    let err = request(vec![raw(false, ResourceType::Workspace, Action::Ssh)])
        .validate(ORG, &org_admin())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid permission for action=\"ssh\" type=\"workspace\", not allowed to grant this permission"
    );
    assert!(
        request(vec![raw(false, ResourceType::Workspace, Action::Ssh)])
            .validate(ORG, &subject(&[BuiltinRole::Owner]))
            .is_ok()
    );
}

#[test]
fn unknown_pairs_are_listed_one_per_line() {
    let perms = vec![
        RawPermission { negate: false, resource_type: "spaceship".into(), action: "read".into() },
        RawPermission { negate: false, resource_type: "template".into(), action: "ssh".into() },
        RawPermission { negate: false, resource_type: "template".into(), action: "fly".into() },
    ];
    let err = request(perms).validate(ORG, &subject(&[BuiltinRole::Owner])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "org: invalid resource type \"spaceship\"\norg: invalid action \"ssh\" for resource \"template\"\norg: invalid action \"fly\" for resource \"template\""
    );
}

#[test]
fn name_and_scope_rules_come_first() {
    let owner = subject(&[BuiltinRole::Owner]);
    let mut req = request(vec![raw(true, ResourceType::Workspace, Action::Create)]);
    req.name = "bad name".into();
    assert!(matches!(req.validate(ORG, &owner), Err(CustomRoleError::InvalidName { .. })));
    req.name = "organization-admin".into();
    assert_eq!(
        req.validate(ORG, &owner).unwrap_err().to_string(),
        "\"organization-admin\" is a reserved role name, and not allowed to be used"
    );
    // Reserved names are case-sensitive (rbac.md §9.15).
    req.name = "Owner".into();
    req.organization_permissions = vec![];
    assert!(req.validate(ORG, &owner).is_ok());
    req.site_permissions = vec![raw(false, ResourceType::Workspace, Action::Read)];
    assert_eq!(req.validate(ORG, &owner).unwrap_err(), CustomRoleError::SitePermissions);
    req.site_permissions = vec![];
    req.user_permissions = vec![raw(false, ResourceType::Workspace, Action::Read)];
    assert_eq!(req.validate(ORG, &owner).unwrap_err(), CustomRoleError::UserPermissions);
}
