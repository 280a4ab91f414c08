//! First-user setup, password login and logout (coder-api.md §1.1), and the session keys every
//! sign-in creates. Setup and login have no caller yet: they take the request's [`RequestMeta`]
//! for their audit rows.

use std::time::Duration;

use atrium_api::users::{
    CreateFirstUserRequest, CreateFirstUserResponse, LoginWithPasswordRequest,
};
use atrium_engine::password::validate_password;
use atrium_store::{
    DbTime, LoginType, OrgId, StoreError, UserId, UserStatus, api_keys, orgs, users,
};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::users::{user_json, validate_new_user};
use crate::{Caller, Domain, Error, Kind, RequestMeta, Result, passwords, tokens};

/// A new session: its token and how long it lives (for the cookie).
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub lifetime: Duration,
}

/// Whether setup is done: an error (404) until the first user exists. Needs no caller.
pub async fn first_user_exists(d: &Domain) -> Result<()> {
    if users::count(d.store()).await? == 0 {
        return Err(Error::new(Kind::NotFound, "The initial user has not been created!"));
    }
    Ok(())
}

/// Creates the first owner and the default organization (and with it its Everyone group).
/// Needs no caller: refused (409) once any user exists, also under a concurrent setup.
pub async fn create_first_user(
    d: &Domain,
    meta: &RequestMeta,
    req: &CreateFirstUserRequest,
) -> Result<CreateFirstUserResponse> {
    let mut entry = Entry::new("create", "user");
    let result = async {
        validate_new_user(&req.email, &req.username, &req.name)?;
        validate_password(&req.password).map_err(|e| {
            Error::bad_request("Password not strong enough!").validation("password", e.to_string())
        })?;
        let already = || Error::conflict("The initial user has already been created.");
        if users::count(d.store()).await? > 0 {
            return Err(already());
        }
        let hashed = passwords::hash(req.password.clone()).await?;
        let now = DbTime::now();
        let mut tx = d.store().begin().await?;
        // The default org is the lock: a concurrent setup fails on its unique index.
        let org = match orgs::get_default(&mut tx).await {
            Ok(org) => org,
            Err(StoreError::NotFound { .. }) => orgs::insert(
                &mut tx,
                &orgs::NewOrg {
                    id: OrgId::new_v4(),
                    name: "coder",
                    display_name: "Coder",
                    description: "The default organization.",
                    icon: "",
                    is_default: true,
                    created_at: now,
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Unique { .. } => already(),
                e => e.into(),
            })?,
            Err(e) => return Err(e.into()),
        };
        let user = users::insert(
            &mut tx,
            &users::NewUser {
                id: UserId::new_v4(),
                username: &req.username,
                email: &req.email,
                name: &req.name,
                avatar_url: "",
                hashed_password: Some(&hashed),
                login_type: LoginType::Password,
                // No reason to start dormant: the owner logs in right away.
                status: UserStatus::Active,
                created_at: now,
                is_service_account: false,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { .. } => already(),
            e => e.into(),
        })?;
        if users::count(&mut tx).await? > 1 {
            return Err(already());
        }
        users::set_site_roles(&mut tx, user.id, &["owner"], now).await?;
        orgs::add_member(&mut tx, org.id, user.id, now).await?;
        entry.user = Some(user.id);
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({}), &user_json(&user, &["owner".to_owned()]));
        audit::write(&mut tx, meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(CreateFirstUserResponse { user_id: user.id.uuid(), organization_id: org.id.uuid() })
    }
    .await;
    audit::finish(d, meta, &entry, result).await
}

/// Logs in with email and password and returns the new session. Needs no caller: an unknown
/// email costs a password check like a wrong password and gets the same 401; other login types
/// are 403, suspended users 401; a dormant user is reactivated. The per-IP rate limit is the
/// server's.
pub async fn login(
    d: &Domain,
    meta: &RequestMeta,
    req: &LoginWithPasswordRequest,
) -> Result<Session> {
    let mut entry = Entry::new("login", "api_key");
    let result = async {
        let user = match users::get_by_email(d.store(), &req.email).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let hashed = user.as_ref().and_then(|u| u.hashed_password.clone());
        let ok = passwords::verify(req.password.clone(), hashed).await;
        if let Some(u) = &user {
            entry.user = Some(u.id);
            entry.resource_target = u.username.clone();
        }
        let Some(mut user) = user.filter(|_| ok) else {
            return Err(Error::new(Kind::Unauthorized, "Incorrect email or password."));
        };
        if d.config.oidc.disable_password_auth {
            return Err(Error::forbidden_with("Password authentication is disabled."));
        }
        if user.login_type != LoginType::Password {
            return Err(Error::new(
                Kind::Forbidden,
                format!(
                    "Incorrect login type, attempting to use \"password\" but user is of login type \"{}\"",
                    user.login_type.as_str()
                ),
            ));
        }
        if user.status == UserStatus::Dormant {
            user = audit::reactivate_dormant(d, &user, meta).await?;
        }
        if user.status == UserStatus::Suspended {
            return Err(Error::new(
                Kind::Unauthorized,
                "Your account is suspended. Contact an admin to reactivate your account.",
            ));
        }
        let lifetime = d.config.session_duration;
        let mut tx = d.store().begin().await?;
        let token =
            create_session(&mut tx, user.id, LoginType::Password, lifetime, "", "all").await?;
        users::update_last_seen(&mut tx, user.id, DbTime::now()).await?;
        // Coder files API-key rows under the key owner's id.
        entry.resource_id = user.id.uuid();
        audit::write(&mut tx, meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(Session { token, lifetime })
    }
    .await;
    audit::finish(d, meta, &entry, result).await
}

/// Ends the caller's current session and revokes their `application_connect` keys (as Coder
/// does). Any caller may sign themselves out.
pub async fn logout(d: &Domain, caller: &Caller) -> Result<()> {
    let mut entry = Entry::new("logout", "api_key").by(caller);
    entry.resource(caller.id().uuid(), caller.user().username.clone());
    let result = async {
        let mut tx = d.store().begin().await?;
        api_keys::delete(&mut tx, caller.key_id()).await?;
        api_keys::delete_app_connect_by_user(&mut tx, caller.id()).await?;
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Creates a session key for `user` inside the caller's transaction and returns the token.
/// Authorizes nothing: the operations that call it (login, setup, keys) have.
pub async fn create_session(
    db: impl Into<atrium_store::Db<'_>>,
    user: UserId,
    login_type: LoginType,
    lifetime: Duration,
    token_name: &str,
    scope: &str,
) -> Result<String> {
    let new = tokens::generate().map_err(Error::internal)?;
    let now = DbTime::now();
    api_keys::insert(
        db,
        &api_keys::NewApiKey {
            id: &new.id,
            hashed_secret: &new.hashed_secret,
            user_id: user,
            login_type,
            scope,
            token_name,
            lifetime_seconds: i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX),
            expires_at: now + lifetime,
            created_at: now,
            ip_address: "",
        },
    )
    .await?;
    Ok(new.token())
}
