//! Who may act on whose account (crates/engine/src/account.rs): owners' accounts are the
//! owners' business, your own account keeps Coder's self rules, and an owner always remains.

use atrium_engine::account::{
    AccountAction as A, AccountRefusal as R, AccountTarget, check, keep_an_owner, permitted,
    removes_an_owner,
};
use atrium_engine::assign::{AssignError, Assignable, RoleScope, can_assign, check_role_change};
use atrium_engine::{BuiltinRole as B, RoleOptions, Scope, Subject};
use uuid::Uuid;

const ORG: Uuid = Uuid::from_u128(0xa);
const OWNER_ID: Uuid = Uuid::from_u128(1);
const OTHER_OWNER_ID: Uuid = Uuid::from_u128(2);
const USER_ADMIN_ID: Uuid = Uuid::from_u128(3);
const MEMBER_ID: Uuid = Uuid::from_u128(4);

fn subject(id: Uuid, roles: &[(B, Option<Uuid>)]) -> Subject {
    let mut all = vec![(B::Member, None)];
    all.extend_from_slice(roles);
    let roles = all.iter().map(|(r, o)| r.expand(*o, RoleOptions::default()).unwrap()).collect();
    Subject::new(id, roles, vec![], Scope::ALL)
}

fn owner_target(id: Uuid) -> AccountTarget {
    AccountTarget::new(id, &["owner"])
}

fn member_target(id: Uuid) -> AccountTarget {
    AccountTarget::new(id, &[] as &[&str])
}

#[test]
fn only_owners_act_on_owners() {
    let owner = subject(OWNER_ID, &[(B::Owner, None)]);
    let user_admin = subject(USER_ADMIN_ID, &[(B::UserAdmin, None)]);
    let org_user_admin = subject(
        MEMBER_ID,
        &[(B::OrganizationMember, Some(ORG)), (B::OrganizationUserAdmin, Some(ORG))],
    );
    let other_owner = owner_target(OTHER_OWNER_ID);
    for action in A::ALL {
        // A user admin passes RBAC on users but is refused on an owner's account…
        assert_eq!(check(&user_admin, other_owner, action), Err(R::OwnerOnly(action)));
        assert!(!permitted(&user_admin, other_owner, action), "{action:?}");
        assert!(!permitted(&org_user_admin, other_owner, action), "{action:?}");
        // …and keeps managing everyone else.
        assert_eq!(check(&user_admin, member_target(MEMBER_ID), action), Ok(()), "{action:?}");
    }
    for action in [A::ChangePassword, A::ChangeProfile, A::Delete, A::Activate] {
        assert!(permitted(&user_admin, member_target(MEMBER_ID), action), "{action:?}");
        assert!(permitted(&owner, other_owner, action), "{action:?}");
    }
    // Owners may not suspend owners either (Coder's rule: remove the role first).
    assert_eq!(check(&owner, other_owner, A::Suspend), Err(R::SuspendOwner));
    assert_eq!(
        R::OwnerOnly(A::ChangePassword).to_string(),
        "Only owners can change the password of an owner."
    );
    assert_eq!(R::OwnerOnly(A::Delete).to_string(), "Only owners can delete an owner.");
    assert_eq!(R::OwnerOnly(A::Suspend).to_string(), "Only owners can suspend an owner.");
}

#[test]
fn your_own_account_keeps_the_self_rules() {
    let user_admin = subject(USER_ADMIN_ID, &[(B::UserAdmin, None)]);
    let owner = subject(OWNER_ID, &[(B::Owner, None)]);
    let me = member_target(USER_ADMIN_ID);
    assert_eq!(check(&user_admin, me, A::ChangePassword), Ok(()));
    assert_eq!(check(&user_admin, me, A::ChangeProfile), Ok(()));
    assert_eq!(check(&user_admin, me, A::Delete), Err(R::DeleteYourself));
    assert_eq!(check(&user_admin, me, A::Suspend), Err(R::SuspendYourself));
    assert_eq!(check(&user_admin, me, A::ChangeRoles), Err(R::ChangeOwnRoles));
    let me = owner_target(OWNER_ID);
    assert_eq!(check(&owner, me, A::ChangePassword), Ok(()));
    assert_eq!(check(&owner, me, A::Delete), Err(R::DeleteYourself));
    assert_eq!(check(&owner, me, A::Suspend), Err(R::SuspendYourself));
    assert_eq!(check(&owner, me, A::ChangeRoles), Err(R::ChangeOwnRoles));
    assert_eq!(R::DeleteYourself.to_string(), "You cannot delete yourself!");
    assert_eq!(R::ChangeOwnRoles.to_string(), "You cannot change your own roles.");
}

#[test]
fn the_last_active_owner_stays() {
    let owner = owner_target(OWNER_ID);
    let member = member_target(MEMBER_ID);
    assert!(removes_an_owner(owner, A::Delete, false));
    assert!(removes_an_owner(owner, A::Suspend, false));
    assert!(removes_an_owner(owner, A::ChangeRoles, true));
    assert!(!removes_an_owner(owner, A::ChangeRoles, false));
    assert!(!removes_an_owner(owner, A::ChangePassword, false));
    assert!(!removes_an_owner(member, A::Delete, false));
    assert_eq!(keep_an_owner(A::Delete, 1), Ok(()));
    assert_eq!(keep_an_owner(A::Delete, 0), Err(R::LastOwner(A::Delete)));
    assert_eq!(
        R::LastOwner(A::ChangeRoles).to_string(),
        "You cannot remove the owner role from the last active owner."
    );
    assert_eq!(R::LastOwner(A::Delete).to_string(), "You cannot delete the last active owner.");
}

/// The assignment table agrees: only owners hand out or take away `owner`, so a user admin
/// can neither promote itself a path to owners' accounts nor demote an owner.
#[test]
fn only_owners_assign_or_remove_owner() {
    let user_admin = subject(USER_ADMIN_ID, &[(B::UserAdmin, None)]);
    let owner = subject(OWNER_ID, &[(B::Owner, None)]);
    assert!(!can_assign(user_admin.roles(), Assignable::Builtin(B::Owner), None));
    assert!(can_assign(owner.roles(), Assignable::Builtin(B::Owner), None));
    let promote = check_role_change(&user_admin, RoleScope::Site, &[], &["owner".into()], |_| None);
    assert_eq!(promote, Err(AssignError::NotAuthorized("owner".into())));
    let demote = check_role_change(&user_admin, RoleScope::Site, &["owner".into()], &[], |_| None);
    assert_eq!(demote, Err(AssignError::NotAuthorized("owner".into())));
    let demote = check_role_change(&owner, RoleScope::Site, &["owner".into()], &[], |_| None);
    assert_eq!(demote.map(|c| c.removed), Ok(vec!["owner".to_owned()]));
}
