//! Who may act on whose account, beyond RBAC.
//!
//! RBAC says what a role may do to users in general: `user-admin` may update and delete any
//! user. Left there, a user admin could set an owner's password and sign in as the owner. So
//! on top of RBAC:
//!
//! - **Owners' accounts are the owners' business** ([`AccountRefusal::OwnerOnly`]): only an
//!   owner may change another owner's password, profile (username) or roles, suspend,
//!   activate or delete an owner. User admins keep managing everyone else. (Stricter than
//!   Coder; `docs/ARCHITECTURE.md` lists it. `atrium reset-password` on the host recovers an
//!   owner.)
//! - **Your own account** keeps Coder's rules: you may change your password and profile, but
//!   not delete or suspend yourself nor change your own roles.
//! - **An owner always remains** ([`keep_an_owner`]): no action may leave the deployment with
//!   no owner able to act (not deleted, not suspended; a dormant owner counts, it reactivates
//!   at its next login), or nobody could assign `owner` or create organizations again. The
//!   store counts the other owners under a lock (`users::lock_owner_set`) so two owners
//!   demoting each other cannot both succeed.
//!
//! Role assignment itself stays with [`crate::assign`], which already lets only owners assign
//! or remove `owner`. [`permitted`] combines RBAC and these rules, so a UI can hide what the
//! server would refuse.

use uuid::Uuid;

use crate::authorize::Object;
use crate::resource::{Action, ResourceType};
use crate::role::BuiltinRole;
use crate::subject::Subject;

/// Something done to a user's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountAction {
    /// `PUT /users/{user}/password`.
    ChangePassword,
    /// `PUT /users/{user}/profile` (username, display name).
    ChangeProfile,
    /// `PUT /users/{user}/roles`.
    ChangeRoles,
    /// `PUT /users/{user}/status/suspend`.
    Suspend,
    /// `PUT /users/{user}/status/activate`.
    Activate,
    /// `DELETE /users/{user}`.
    Delete,
}

impl AccountAction {
    /// Every account action.
    pub const ALL: [AccountAction; 6] = [
        AccountAction::ChangePassword,
        AccountAction::ChangeProfile,
        AccountAction::ChangeRoles,
        AccountAction::Suspend,
        AccountAction::Activate,
        AccountAction::Delete,
    ];

    /// Whether RBAC lets `actor` do this to `target` at all (the routes' own checks).
    pub fn rbac_allows(self, actor: &Subject, target: Uuid) -> bool {
        let user = Object::of(ResourceType::User).with_id(target).with_owner(target);
        let assign = Object::of(ResourceType::AssignRole);
        match self {
            AccountAction::ChangePassword => actor.can(Action::UpdatePersonal, &user),
            AccountAction::ChangeProfile => {
                actor.can(Action::UpdatePersonal, &user) || actor.can(Action::Update, &user)
            }
            AccountAction::ChangeRoles => {
                actor.can(Action::Assign, &assign) || actor.can(Action::Unassign, &assign)
            }
            AccountAction::Suspend | AccountAction::Activate => actor.can(Action::Update, &user),
            AccountAction::Delete => actor.can(Action::Delete, &user),
        }
    }
}

/// The user acted on, as these rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountTarget {
    pub id: Uuid,
    /// Holds the site role `owner`.
    pub is_owner: bool,
}

impl AccountTarget {
    /// A target from its stored site role names.
    pub fn new<S: AsRef<str>>(id: Uuid, site_roles: &[S]) -> Self {
        let is_owner = site_roles.iter().any(|r| r.as_ref() == BuiltinRole::Owner.name());
        AccountTarget { id, is_owner }
    }
}

/// Why an account action is refused. The texts of the self and suspend-owner refusals are
/// Coder's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    /// A non-owner acting on an owner's account.
    #[error("{}", owner_only_text(*.0))]
    OwnerOnly(AccountAction),
    #[error("You cannot delete yourself!")]
    DeleteYourself,
    #[error("You cannot suspend yourself.")]
    SuspendYourself,
    #[error("You cannot change your own roles.")]
    ChangeOwnRoles,
    #[error("You cannot suspend a user with the \"owner\" role. You must remove the role first.")]
    SuspendOwner,
    /// The action would leave no owner able to act.
    #[error("{}", last_owner_text(*.0))]
    LastOwner(AccountAction),
}

fn owner_only_text(action: AccountAction) -> &'static str {
    match action {
        AccountAction::ChangePassword => "Only owners can change the password of an owner.",
        AccountAction::ChangeProfile => "Only owners can change the profile of an owner.",
        AccountAction::ChangeRoles => "Only owners can change the roles of an owner.",
        AccountAction::Suspend => "Only owners can suspend an owner.",
        AccountAction::Activate => "Only owners can activate an owner.",
        AccountAction::Delete => "Only owners can delete an owner.",
    }
}

fn last_owner_text(action: AccountAction) -> &'static str {
    match action {
        AccountAction::Delete => "You cannot delete the last active owner.",
        AccountAction::Suspend => "You cannot suspend the last active owner.",
        AccountAction::ChangeRoles => {
            "You cannot remove the owner role from the last active owner."
        }
        AccountAction::ChangePassword | AccountAction::ChangeProfile | AccountAction::Activate => {
            "This change would leave no active owner."
        }
    }
}

/// Whether the subject holds the site role `owner`.
pub fn is_owner(actor: &Subject) -> bool {
    actor.roles().iter().any(|r| r.org.is_none() && r.builtin == Some(BuiltinRole::Owner))
}

/// The account rules for `actor` doing `action` to `target` (RBAC is checked separately, see
/// [`AccountAction::rbac_allows`]).
pub fn check(
    actor: &Subject,
    target: AccountTarget,
    action: AccountAction,
) -> Result<(), AccountRefusal> {
    if actor.id() == target.id {
        return match action {
            AccountAction::Delete => Err(AccountRefusal::DeleteYourself),
            AccountAction::Suspend => Err(AccountRefusal::SuspendYourself),
            AccountAction::ChangeRoles => Err(AccountRefusal::ChangeOwnRoles),
            AccountAction::ChangePassword
            | AccountAction::ChangeProfile
            | AccountAction::Activate => Ok(()),
        };
    }
    if target.is_owner && !is_owner(actor) {
        return Err(AccountRefusal::OwnerOnly(action));
    }
    if target.is_owner && action == AccountAction::Suspend {
        return Err(AccountRefusal::SuspendOwner);
    }
    Ok(())
}

/// Whether `action` takes `target` out of the owners able to act: deleting or suspending an
/// owner, or a role change that removes `owner` (`removes_owner_role`).
pub fn removes_an_owner(
    target: AccountTarget,
    action: AccountAction,
    removes_owner_role: bool,
) -> bool {
    target.is_owner
        && match action {
            AccountAction::Delete | AccountAction::Suspend => true,
            AccountAction::ChangeRoles => removes_owner_role,
            AccountAction::ChangePassword
            | AccountAction::ChangeProfile
            | AccountAction::Activate => false,
        }
}

/// Refuses an action that [`removes_an_owner`] when no other owner able to act remains.
/// `other_active_owners` must be counted under the store's owner-set lock.
pub fn keep_an_owner(
    action: AccountAction,
    other_active_owners: i64,
) -> Result<(), AccountRefusal> {
    if other_active_owners > 0 { Ok(()) } else { Err(AccountRefusal::LastOwner(action)) }
}

/// RBAC and the account rules together: what a UI should offer. (The last-owner rule needs
/// the store and is not included.)
pub fn permitted(actor: &Subject, target: AccountTarget, action: AccountAction) -> bool {
    action.rbac_allows(actor, target.id) && check(actor, target, action).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::RoleOptions;
    use crate::subject::Scope;

    fn subject(id: u128, roles: &[BuiltinRole]) -> Subject {
        let roles = std::iter::once(BuiltinRole::Member)
            .chain(roles.iter().copied())
            .map(|r| r.expand(None, RoleOptions::default()).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        Subject::new(Uuid::from_u128(id), roles, vec![], Scope::ALL)
    }

    #[test]
    fn texts_are_pinned() {
        assert_eq!(
            AccountRefusal::OwnerOnly(AccountAction::ChangePassword).to_string(),
            "Only owners can change the password of an owner."
        );
        assert_eq!(
            AccountRefusal::LastOwner(AccountAction::Delete).to_string(),
            "You cannot delete the last active owner."
        );
        assert_eq!(AccountRefusal::DeleteYourself.to_string(), "You cannot delete yourself!");
    }

    #[test]
    fn user_admin_acts_on_members_but_not_owners() {
        let ua = subject(1, &[BuiltinRole::UserAdmin]);
        let member = AccountTarget { id: Uuid::from_u128(2), is_owner: false };
        let owner = AccountTarget { id: Uuid::from_u128(3), is_owner: true };
        for action in AccountAction::ALL {
            assert_eq!(check(&ua, member, action), Ok(()), "{action:?}");
            assert_eq!(check(&ua, owner, action), Err(AccountRefusal::OwnerOnly(action)));
            assert!(!permitted(&ua, owner, action), "{action:?}");
        }
        assert!(permitted(&ua, member, AccountAction::ChangePassword));
        assert!(permitted(&ua, member, AccountAction::Delete));
    }
}
