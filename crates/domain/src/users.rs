//! Users: create, list, get, profile, password, delete, suspend and activate
//! (coder-api.md §1.2, §3).

use crate::convert::time;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::users::{SlimRole, User as ApiUser};
use atrium_engine::account::{self, AccountAction, AccountRefusal, AccountTarget};
use atrium_engine::name::validate_name;
use atrium_engine::{Action, BuiltinRole};
use atrium_store::{DbTime, OrgId, StoreError, Tx, UserId, UserStatus, orgs, users};
use serde_json::{Value, json};

pub const USER_PARAM: &str = "\"user\" must be an existing uuid or username.";

/// Resolves `{user}` (`me`, a uuid or a username) to a live user the actor may read. Missing
/// and unreadable users get the same answer, so existence does not leak.
pub async fn resolve_user(state: &Domain, actor: &Caller, param: &str) -> Result<users::User> {
    // `me` still goes through the read check: a scoped token (application_connect) may not
    // read even its own user.
    let found = if param == "me" {
        Ok(actor.user.clone())
    } else {
        users::get_by_id_or_username(state.legacy_store(), param).await
    };
    let user = match found {
        Ok(u) if !u.deleted => u,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::bad_request(USER_PARAM)),
        Err(e) => return Err(e.into()),
    };
    if !actor.can(Action::Read, &crate::Caller::user_object(user.id)) {
        return Err(Error::bad_request(USER_PARAM));
    }
    Ok(user)
}

/// The user as audit diffs see it (no secrets).
pub fn user_json(u: &users::User, site_roles: &[String]) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "name": u.name,
        "login_type": u.login_type.as_str(), "status": u.status.as_str(), "roles": site_roles,
    })
}

/// The wire `User`, with its site roles and the ids of its orgs that `actor` may read (an org
/// admin of A does not learn that the user is also in B).
pub async fn to_api(state: &Domain, actor: &Caller, u: &users::User) -> Result<ApiUser> {
    let roles = users::get_site_roles(state.legacy_store(), u.id).await?;
    let orgs = orgs::list_memberships(state.legacy_store(), u.id).await?;
    Ok(api_user(u, &roles, readable_orgs(actor, orgs.into_iter().map(|m| m.org_id))))
}

/// The ids of `orgs` that `actor` may read.
pub fn readable_orgs(actor: &Caller, orgs: impl IntoIterator<Item = OrgId>) -> Vec<uuid::Uuid> {
    orgs.into_iter()
        .filter(|org| actor.can(Action::Read, &crate::orgs::org_object(*org)))
        .map(OrgId::uuid)
        .collect()
}

/// An account refusal (engine `account`) in Coder's shape: acting on an owner without being
/// one, deleting yourself and removing the last owner are 403; the other self rules 400.
pub fn account_error(e: AccountRefusal) -> Error {
    let status = match e {
        AccountRefusal::OwnerOnly(_)
        | AccountRefusal::DeleteYourself
        | AccountRefusal::LastOwner(_) => Kind::Forbidden,
        AccountRefusal::SuspendYourself
        | AccountRefusal::ChangeOwnRoles
        | AccountRefusal::SuspendOwner => Kind::BadRequest,
    };
    Error::new(status, e.to_string())
}

/// The account rules for `actor` doing `action` to `user`, on its current site roles: a fast
/// refusal before slow work (hashing). [`guard_account`] decides again inside the write.
pub async fn precheck_account(
    state: &Domain,
    actor: &Caller,
    user: UserId,
    action: AccountAction,
) -> Result<()> {
    let roles = users::get_site_roles(state.legacy_store(), user).await?;
    account::check(&actor.subject, AccountTarget::new(user.uuid(), &roles), action)
        .map_err(account_error)
}

/// Inside the write transaction: takes the owner-set lock, reads `user`'s site roles, applies
/// the account rules, and refuses deleting or suspending the last active owner. Returns the
/// target and its roles as read under the lock.
pub async fn guard_account(
    tx: &mut Tx<'_>,
    actor: &Caller,
    user: UserId,
    action: AccountAction,
) -> Result<(AccountTarget, Vec<String>)> {
    users::lock_owner_set(tx).await?;
    let roles = users::get_site_roles(&mut *tx, user).await?;
    let target = AccountTarget::new(user.uuid(), &roles);
    account::check(&actor.subject, target, action).map_err(account_error)?;
    if account::removes_an_owner(target, action, false) {
        keep_an_owner(tx, user, action).await?;
    }
    Ok((target, roles))
}

/// The last-owner rule: refuses unless another owner able to act remains (count under the
/// owner-set lock, which [`guard_account`] took).
pub async fn keep_an_owner(tx: &mut Tx<'_>, user: UserId, action: AccountAction) -> Result<()> {
    let others = users::count_active_owners_except(&mut *tx, user).await?;
    account::keep_an_owner(action, others).map_err(account_error)
}

pub fn api_user(u: &users::User, roles: &[String], organization_ids: Vec<uuid::Uuid>) -> ApiUser {
    ApiUser {
        id: u.id.uuid(),
        username: u.username.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        avatar_url: u.avatar_url.clone(),
        created_at: time(u.created_at),
        updated_at: time(u.updated_at),
        last_seen_at: u.last_seen_at.map(time),
        status: u.status.as_str().to_owned(),
        login_type: u.login_type.as_str().to_owned(),
        theme_preference: String::new(),
        organization_ids,
        roles: roles
            .iter()
            .map(|r| SlimRole {
                name: r.clone(),
                display_name: BuiltinRole::parse(r)
                    .map_or("", BuiltinRole::display_name)
                    .to_owned(),
                organization_id: String::new(),
            })
            .collect(),
    }
}

/// Email, username and display-name rules shared by setup and user creation.
pub fn validate_new_user(email: &str, username: &str, name: &str) -> Result<()> {
    crate::validate::email(email)?;
    if username.is_empty() {
        return Err(Error::required("username"));
    }
    if validate_name(username).is_err() {
        return Err(Error::tag_failed("username", "username", username));
    }
    validate_real_name(name)
}

pub fn validate_real_name(name: &str) -> Result<()> {
    if name.chars().count() > 128 || name.trim() != name {
        return Err(Error::tag_failed("name", "user_real_name", name));
    }
    Ok(())
}

pub fn conflict_user() -> Error {
    Error::conflict("User already exists.")
}

/// Moves `user` to `status` from the status read in `tx`, conditionally on that status, so a
/// concurrent change (a dormant user's reactivation, the dormancy sweep) is never overwritten:
/// when one lands between the read and the write, read again and decide again. Returns the
/// status before and the row after (unchanged when it already had `status`).
pub async fn change_status(
    tx: &mut Tx<'_>,
    user: UserId,
    status: UserStatus,
) -> Result<(UserStatus, users::User)> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let current = users::get(&mut *tx, user).await?;
        if current.deleted {
            return Err(Error::bad_request(USER_PARAM));
        }
        if current.status == status {
            return Ok((status, current));
        }
        let now = DbTime::now();
        if let Some(updated) =
            users::update_status_from(&mut *tx, user, current.status, status, now).await?
        {
            return Ok((current.status, updated));
        }
    }
    Err(Error::conflict("The user's status changed during the request; try again."))
}
