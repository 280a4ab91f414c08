//! Who may assign which role (rbac.md §4).

use atrium_engine::assign::{AssignError, Assignable, RoleScope, can_assign, check_role_change};
use atrium_engine::{BuiltinRole as B, RoleOptions, Scope, Subject};
use uuid::Uuid;

const ORG: Uuid = Uuid::from_u128(0xa);
const OTHER_ORG: Uuid = Uuid::from_u128(0xb);

fn subject(roles: &[(B, Option<Uuid>)]) -> Subject {
    let mut all = vec![(B::Member, None)];
    all.extend_from_slice(roles);
    let roles = all.iter().map(|(r, o)| r.expand(*o, RoleOptions::default()).unwrap()).collect();
    Subject::new(Uuid::from_u128(1), roles, vec![], Scope::ALL)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn static_table_matches_coder() {
    let owner = subject(&[(B::Owner, None)]);
    let user_admin = subject(&[(B::UserAdmin, None)]);
    let org_admin =
        subject(&[(B::OrganizationMember, Some(ORG)), (B::OrganizationAdmin, Some(ORG))]);
    let org_user_admin =
        subject(&[(B::OrganizationMember, Some(ORG)), (B::OrganizationUserAdmin, Some(ORG))]);
    for r in B::ALL {
        let org = r.is_org_role().then_some(ORG);
        assert!(can_assign(owner.roles(), Assignable::Builtin(r), org), "{r:?}");
        let ua = matches!(r, B::Member | B::OrganizationMember);
        assert_eq!(can_assign(user_admin.roles(), Assignable::Builtin(r), org), ua, "{r:?}");
        assert_eq!(
            can_assign(org_admin.roles(), Assignable::Builtin(r), org),
            r.is_org_role(),
            "{r:?}"
        );
        assert_eq!(
            can_assign(org_user_admin.roles(), Assignable::Builtin(r), org),
            r == B::OrganizationMember
        );
    }
    assert!(can_assign(org_admin.roles(), Assignable::CustomOrg, Some(ORG)));
    assert!(!can_assign(org_admin.roles(), Assignable::CustomOrg, Some(OTHER_ORG)));
    assert!(!can_assign(
        org_admin.roles(),
        Assignable::Builtin(B::OrganizationAuditor),
        Some(OTHER_ORG)
    ));
}

#[test]
fn org_admin_assigns_the_ban_and_custom_roles_in_its_org() {
    let org_admin =
        subject(&[(B::OrganizationMember, Some(ORG)), (B::OrganizationAdmin, Some(ORG))]);
    let change = check_role_change(
        &org_admin,
        RoleScope::Org(ORG),
        &[],
        &names(&["organization-workspace-creation-ban", "Start-Stop"]),
        |n| n.eq_ignore_ascii_case("start-stop").then(|| "start-stop".to_owned()),
    )
    .unwrap();
    // Custom names are stored as the role is spelled, whatever case the request used.
    assert_eq!(change.added, names(&["start-stop", "organization-workspace-creation-ban"]));
    let err = check_role_change(
        &org_admin,
        RoleScope::Org(OTHER_ORG),
        &[],
        &names(&["organization-auditor"]),
        |_| None,
    )
    .unwrap_err();
    assert_eq!(err, AssignError::Forbidden);
}

#[test]
fn refusals_use_coder_texts() {
    let owner = subject(&[(B::Owner, None)]);
    let site =
        |req: &[&str]| check_role_change(&owner, RoleScope::Site, &[], &names(req), |_| None);
    assert_eq!(
        site(&["organization-admin"]).unwrap_err().to_string(),
        "Must only update site wide roles"
    );
    assert_eq!(site(&["nope"]).unwrap_err().to_string(), "\"nope\" is not a supported role");
    assert!(site(&["member", "auditor"]).unwrap().added == names(&["auditor"]));
    let org =
        |req: &[&str]| check_role_change(&owner, RoleScope::Org(ORG), &[], &names(req), |_| None);
    assert_eq!(org(&["owner"]).unwrap_err().to_string(), "Must only update org roles");
    assert_eq!(
        org(&["organization-admin:x"]).unwrap_err().to_string(),
        "attempt to assign a role \"organization-admin:x\", remove the ':<organization_id> suffix"
    );
    assert_eq!(
        org(&["nope"]).unwrap_err().to_string(),
        format!("\"nope:{ORG}\" is not a supported role")
    );

    let user_admin = subject(&[(B::UserAdmin, None)]);
    let err = check_role_change(&user_admin, RoleScope::Site, &[], &names(&["auditor"]), |_| None)
        .unwrap_err();
    assert_eq!(err.to_string(), "not authorized to assign role \"auditor\"");
    let member = subject(&[]);
    let err = check_role_change(&member, RoleScope::Site, &[], &names(&["auditor"]), |_| None)
        .unwrap_err();
    assert_eq!(err, AssignError::Forbidden);
    // Only the difference is checked: re-sending the current set is always fine.
    assert!(
        check_role_change(
            &member,
            RoleScope::Site,
            &names(&["auditor"]),
            &names(&["auditor"]),
            |_| None
        )
        .unwrap()
        .is_empty()
    );
}
