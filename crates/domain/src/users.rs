//! Users: create, list, get, profile, password, delete, suspend and activate
//! (coder-api.md §1.2, §3), and the user helpers other areas share (resolving `{user}`, the
//! wire view, the account rules under the owner-set lock).

use std::collections::HashMap;

use uuid::Uuid;

use atrium_api::users::{
    CreateUserRequest, GetUsersResponse, SlimRole, UpdateUserPasswordRequest,
    UpdateUserProfileRequest, User as ApiUser,
};
use atrium_engine::account::{self, AccountAction, AccountRefusal, AccountTarget};
use atrium_engine::name::validate_name;
use atrium_engine::password::validate_password;
use atrium_engine::query::UserQuery;
use atrium_engine::{Action, BuiltinRole, Object, ResourceType};
use atrium_store::{
    DbTime, LoginType, OrgId, StoreError, Tx, UserId, UserStatus, api_keys, lists, orgs,
    password_resets, users, workspaces,
};
use serde_json::{Value, json};

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::{Caller, Domain, Error, Kind, Page, Result, passwords};

/// Creates a user (in the default org unless orgs are given). Authorizes creating users and,
/// for every org the user joins, creating members there; the row is audited as `create user`.
pub async fn create(d: &Domain, caller: &Caller, req: &CreateUserRequest) -> Result<ApiUser> {
    let mut entry = Entry::new("create", "user").by(caller);
    entry.resource_target = req.username.clone();
    let result = async {
        if !caller.can(Action::Create, &Object::of(ResourceType::User)) {
            return Err(Error::forbidden_with("You are not authorized to create users."));
        }
        let login_type = new_user_login_type(req)?;
        if req.service_account {
            validate_new_service_account(&req.username, &req.name)?;
        } else {
            validate_new_user(&req.email, &req.username, &req.name)?;
        }
        if login_type == LoginType::Password && d.config.oidc.disable_password_auth {
            return Err(Error::forbidden_with(
                "Password based authentication is disabled! Unable to provision new users with password authentication.",
            ));
        }
        let hashed = match login_type {
            LoginType::Password => {
                if req.password.is_empty() {
                    return Err(Error::required("password"));
                }
                validate_password(&req.password).map_err(|e| {
                    Error::bad_request("Password not strong enough!")
                        .validation("password", e.to_string())
                })?;
                Some(passwords::hash(req.password.clone()).await?)
            }
            _ if !req.password.is_empty() => {
                return Err(Error::bad_request(format!(
                    "Password cannot be set for non-password (\"{}\") authentication.",
                    login_type.as_str()
                )));
            }
            _ => None,
        };
        let status = match req.user_status.as_deref() {
            None | Some("") | Some("dormant") => UserStatus::Dormant,
            Some("active") => UserStatus::Active,
            Some(other) => return Err(Error::tag_failed("user_status", "oneof", other)),
        };
        // No org, or the nil UUID Coder's UI sends, means the current default org.
        let mut org_ids: Vec<OrgId> =
            req.organization_ids.iter().filter(|o| !o.is_nil()).map(|o| OrgId(*o)).collect();
        if org_ids.is_empty() {
            org_ids.push(orgs::get_default(d.store()).await?.id);
        }
        org_ids.sort();
        org_ids.dedup();
        for org in &org_ids {
            match orgs::get(d.store(), *org).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => return Err(org_missing(*org)),
                Err(e) => return Err(e.into()),
            }
            let member = Object::of(ResourceType::OrganizationMember).in_org(org.uuid());
            if !caller.can(Action::Create, &member) {
                return Err(Error::forbidden());
            }
        }
        let now = DbTime::now();
        let mut tx = d.store().begin().await?;
        let user = users::insert(
            &mut tx,
            &users::NewUser {
                id: UserId::new_v4(),
                username: &req.username,
                email: &req.email,
                name: &req.name,
                avatar_url: "",
                hashed_password: hashed.as_deref(),
                login_type,
                status,
                created_at: now,
                is_service_account: req.service_account,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { .. } => conflict_user(),
            e => e.into(),
        })?;
        for org in &org_ids {
            orgs::add_member(&mut tx, *org, user.id, now).await.map_err(|e| match e {
                // Deleted since it was read above (the user was inserted in this transaction).
                StoreError::ForeignKey { .. } => org_missing(*org),
                e => e.into(),
            })?;
        }
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({}), &user_json(&user, &[]));
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Ok(api_user(&user, &[], readable_orgs(caller, org_ids.iter().copied())))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The users the caller may read (the engine's list filter), matching the user search query
/// `q` (coder-api.md §2.2), one page of them and the total count.
pub async fn list(
    d: &Domain,
    caller: &Caller,
    q: &str,
    page: Page,
    after_id: Option<Uuid>,
) -> Result<GetUsersResponse> {
    let query = UserQuery::parse(q)
        .map_err(|errors| Error::invalid_query("Invalid user search query.", errors))?;
    let filter = caller.subject().list_filter_for(Action::Read);
    // `after_id`, as Coder pages users: those whose username sorts after that user's (none if
    // there is no such user); the count is of the rows after it too.
    let after = after_id.map(UserId::from);
    let listed = lists::users(d.store(), &query, &filter, page, after).await?;
    let users = to_api_many(d, caller, &listed.rows).await?;
    Ok(GetUsersResponse { users, count: listed.count })
}

/// A user by id, username or `me`, if the caller may read it ([`resolve_user`]).
pub async fn get(d: &Domain, caller: &Caller, user: &str) -> Result<ApiUser> {
    let me = user == "me";
    let user = resolve_user(d, caller, user).await?;
    if me {
        // From the session's own reads: no statement while it is cached.
        let own = &caller.own;
        return Ok(api_user(&user, &own.site_roles, readable_orgs(caller, own.orgs.clone())));
    }
    to_api(d, caller, &user).await
}

/// Soft-deletes a user. Authorizes deleting the user and the account rules (only owners
/// delete owners, never yourself nor the last owner); refused (417) while the user owns
/// workspaces, counted without the caller's filter.
pub async fn delete(d: &Domain, caller: &Caller, user: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "user").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        precheck_account(d, caller, user.id, AccountAction::Delete).await?;
        caller.require(Action::Delete, &Caller::user_object(user.id))?;
        let mut tx = d.store().begin().await?;
        // Decided again under the owner-set lock: only owners delete owners, never the last.
        guard_account(&mut tx, caller, user.id, AccountAction::Delete).await?;
        // The store counts the user's workspaces without the caller's filter (a user admin
        // must not delete users whose workspaces it cannot see, Coder bug #19209), under a
        // lock a racing workspace creation also takes.
        users::soft_delete(&mut tx, user.id, DbTime::now()).await.map_err(|e| match e {
            StoreError::ForeignKey { constraint } if constraint == workspaces::OWNER_HAS_WORKSPACES => {
                Error::new(
                    Kind::ExpectationFailed,
                    "You cannot delete a user that has workspaces. Delete their workspaces and try again!",
                )
            }
            e => e.into(),
        })?;
        entry.changed(&json!({"deleted": false}), &json!({"deleted": true}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Updates username and display name. Authorizes updating the user (or its personal fields)
/// and the account rules for profile changes.
pub async fn update_profile(
    d: &Domain,
    caller: &Caller,
    user: &str,
    req: &UpdateUserProfileRequest,
) -> Result<ApiUser> {
    let mut entry = Entry::new("write", "user").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        let object = Caller::user_object(user.id);
        if !caller.can(Action::UpdatePersonal, &object) && !caller.can(Action::Update, &object) {
            return Err(Error::forbidden());
        }
        precheck_account(d, caller, user.id, AccountAction::ChangeProfile).await?;
        if req.username.is_empty() {
            return Err(Error::required("username"));
        }
        if validate_name(&req.username).is_err() {
            return Err(Error::tag_failed("username", "username", &req.username));
        }
        validate_real_name(&req.name)?;
        let mut tx = d.store().begin().await?;
        guard_account(&mut tx, caller, user.id, AccountAction::ChangeProfile).await?;
        let update = users::ProfileUpdate {
            username: &req.username,
            name: &req.name,
            avatar_url: &user.avatar_url,
        };
        let updated = users::update_profile(&mut tx, user.id, &update, DbTime::now())
            .await
            .map_err(|e| match e {
                StoreError::Unique { .. } => conflict_user()
                    .validation("username", "this value is already in use and should be unique"),
                e => e.into(),
            })?;
        entry.changed(&user_json(&user, &[]), &user_json(&updated, &[]));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        to_api(d, caller, &updated).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Suspends a user: their sessions and tokens stop working at once and their running
/// workspaces are stopped. Authorizes updating the user and the account rules (not yourself,
/// only owners suspend owners, never the last owner).
pub async fn suspend(d: &Domain, caller: &Caller, user: &str) -> Result<ApiUser> {
    set_status(d, caller, user, UserStatus::Suspended).await
}

/// Reactivates a user (their workspaces stay stopped). Authorizes updating the user and the
/// account rules.
pub async fn activate(d: &Domain, caller: &Caller, user: &str) -> Result<ApiUser> {
    set_status(d, caller, user, UserStatus::Active).await
}

async fn set_status(
    d: &Domain,
    caller: &Caller,
    param: &str,
    status: UserStatus,
) -> Result<ApiUser> {
    let mut entry = Entry::new("write", "user").by(caller);
    let result = async {
        let user = resolve_user(d, caller, param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        let action = match status {
            UserStatus::Suspended => AccountAction::Suspend,
            UserStatus::Active | UserStatus::Dormant => AccountAction::Activate,
        };
        precheck_account(d, caller, user.id, action).await?;
        caller.require(Action::Update, &Caller::user_object(user.id))?;
        let mut tx = d.store().begin().await?;
        guard_account(&mut tx, caller, user.id, action).await?;
        let (before, updated) = change_status(&mut tx, user.id, status).await?;
        // A suspended user's running workspaces are stopped (activation does not restart them).
        let stopped = if status == UserStatus::Suspended && before != status {
            crate::builds::stop_running_workspaces(&mut tx, user.id, caller.id()).await?
        } else {
            0
        };
        entry.changed(&json!({"status": before.as_str()}), &json!({"status": status.as_str()}));
        if stopped > 0 {
            entry.additional_fields = json!({"workspaces_stopped": stopped});
        }
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        if stopped > 0 {
            d.jobs.wake();
        }
        to_api(d, caller, &updated).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Changes a password and revokes every session and token of that user. Authorizes updating
/// the user's personal fields (else not found) and the account rules; your own password
/// needs the old one, and every check of it counts against the user's password limit.
pub async fn update_password(
    d: &Domain,
    caller: &Caller,
    user: &str,
    req: &UpdateUserPasswordRequest,
) -> Result<()> {
    let mut entry = Entry::new("write", "user").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        if !caller.can(Action::UpdatePersonal, &Caller::user_object(user.id)) {
            return Err(Error::not_found());
        }
        precheck_account(d, caller, user.id, AccountAction::ChangePassword).await?;
        if user.login_type != LoginType::Password {
            return Err(Error::bad_request(
                "Users without password login type cannot change their password.",
            ));
        }
        validate_password(&req.password).map_err(|e| {
            Error::bad_request("Invalid password.").validation("password", e.to_string())
        })?;
        // Every check of this user's password counts against their limit (Argon2 is costly).
        d.password_limiter.limit(user.id)?;
        // Changing your own password needs the old one; an admin resetting someone else's does not.
        if user.id == caller.id() || !req.old_password.is_empty() {
            if req.old_password.is_empty() {
                return Err(Error::required("old_password"));
            }
            if !passwords::verify(req.old_password.clone(), user.hashed_password.clone()).await {
                return Err(Error::bad_request("Old password is incorrect.")
                    .validation("old_password", "Old password is incorrect."));
            }
        }
        if passwords::verify(req.password.clone(), user.hashed_password.clone()).await {
            return Err(Error::bad_request("New password cannot match old password."));
        }
        let hashed = passwords::hash(req.password.clone()).await?;
        let mut tx = d.store().begin().await?;
        guard_account(&mut tx, caller, user.id, AccountAction::ChangePassword).await?;
        users::update_password(&mut tx, user.id, Some(&hashed), DbTime::now()).await?;
        // A password set by someone else is temporary: its user must choose their own.
        if user.id == caller.id() {
            password_resets::clear(&mut tx, user.id).await?;
        } else {
            password_resets::mark(&mut tx, user.id, DbTime::now()).await?;
        }
        api_keys::delete_by_user(&mut tx, user.id).await?;
        entry.changed(&json!({"hashed_password": "old"}), &json!({"hashed_password": "new"}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

const USER_PARAM: &str = "\"user\" must be an existing uuid or username.";

/// Resolves `{user}` (`me`, a uuid or a username) to a live user the actor may read. Missing
/// and unreadable users get the same answer, so existence does not leak.
pub async fn resolve_user(state: &Domain, actor: &Caller, param: &str) -> Result<users::User> {
    // `me` still goes through the read check: a scoped token (application_connect) may not
    // read even its own user.
    let found = if param == "me" {
        Ok(actor.user().clone())
    } else {
        users::get_by_id_or_username(state.store(), param).await
    };
    let user = match found {
        Ok(u) if !u.deleted => u,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::bad_request(USER_PARAM)),
        Err(e) => return Err(e.into()),
    };
    if !actor.can(Action::Read, &Caller::user_object(user.id)) {
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
    let mut one = to_api_many(state, actor, std::slice::from_ref(u)).await?;
    one.pop().ok_or_else(|| Error::internal("a user view went missing"))
}

/// [`to_api`] for many users at once: two statements whatever their number.
pub async fn to_api_many(
    state: &Domain,
    actor: &Caller,
    rows: &[users::User],
) -> Result<Vec<ApiUser>> {
    let ids: Vec<UserId> = rows.iter().map(|u| u.id).collect();
    let mut roles: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, role) in users::site_roles_of(state.store(), &ids).await? {
        roles.entry(user).or_default().push(role);
    }
    let mut orgs_of: HashMap<UserId, Vec<OrgId>> = HashMap::new();
    for (user, org) in orgs::org_ids_of(state.store(), &ids).await? {
        orgs_of.entry(user).or_default().push(org);
    }
    Ok(rows
        .iter()
        .map(|u| {
            let roles = roles.get(&u.id).map_or(&[][..], Vec::as_slice);
            api_user(u, roles, readable_orgs(actor, orgs_of.remove(&u.id).unwrap_or_default()))
        })
        .collect())
}

/// The ids of `orgs` that `actor` may read.
fn readable_orgs(actor: &Caller, orgs: impl IntoIterator<Item = OrgId>) -> Vec<uuid::Uuid> {
    orgs.into_iter()
        .filter(|org| actor.can(Action::Read, &crate::orgs::org_object(*org)))
        .map(OrgId::uuid)
        .collect()
}

/// An account refusal (engine `account`) in Coder's shape: acting on an owner without being
/// one, deleting yourself and removing the last owner are 403; the other self rules 400.
fn account_error(e: AccountRefusal) -> Error {
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
pub(crate) async fn precheck_account(
    state: &Domain,
    actor: &Caller,
    user: UserId,
    action: AccountAction,
) -> Result<()> {
    let roles = users::get_site_roles(state.store(), user).await?;
    account::check(actor.subject(), AccountTarget::new(user.uuid(), &roles), action)
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
    account::check(actor.subject(), target, action).map_err(account_error)?;
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

/// The wire `User` of a row, with its site roles and the org ids the reader may see.
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
        is_service_account: u.is_service_account,
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

/// The login type of a user created through `POST /users`: `password` by default; a service
/// account is `none` and has neither email nor password (its tokens are minted for it).
fn new_user_login_type(req: &CreateUserRequest) -> Result<LoginType> {
    if req.service_account {
        if !matches!(req.login_type.as_str(), "" | "none") {
            return Err(Error::bad_request("Service accounts must use login type \"none\"."));
        }
        if !req.email.is_empty() {
            return Err(Error::bad_request("Email cannot be set for service accounts."));
        }
        if !req.password.is_empty() {
            return Err(Error::bad_request("Password cannot be set for service accounts."));
        }
        return Ok(LoginType::None);
    }
    match req.login_type.as_str() {
        "" | "password" => Ok(LoginType::Password),
        "none" => Ok(LoginType::None),
        "oidc" => Ok(LoginType::Oidc),
        other => Err(Error::bad_request(format!(
            "Unsupported login type \"{other}\" for manually creating new users."
        ))),
    }
}

/// A service account's username and display name follow the user rules; it has no email.
fn validate_new_service_account(username: &str, name: &str) -> Result<()> {
    if username.is_empty() {
        return Err(Error::required("username"));
    }
    if validate_name(username).is_err() {
        return Err(Error::tag_failed("username", "username", username));
    }
    validate_real_name(name)
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

fn validate_real_name(name: &str) -> Result<()> {
    if name.chars().count() > 128 || name.trim() != name {
        return Err(Error::tag_failed("name", "user_real_name", name));
    }
    Ok(())
}

fn conflict_user() -> Error {
    Error::conflict("User already exists.")
}

/// Coder's 404 for an organization id that names no organization.
fn org_missing(org: OrgId) -> Error {
    Error::new(
        Kind::NotFound,
        format!("Organization does not exist with the provided id \"{org}\"."),
    )
}

/// Moves `user` to `status` from the status read in `tx`, conditionally on that status, so a
/// concurrent change (a dormant user's reactivation, the dormancy sweep) is never overwritten:
/// when one lands between the read and the write, read again and decide again. Returns the
/// status before and the row after (unchanged when it already had `status`).
async fn change_status(
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
