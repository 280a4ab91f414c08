//! Users and their site-wide role assignments.

use sqlx::FromRow;

use crate::db::{Backend, Db, Tx, backend_of, on_conn};
use crate::dialect::{Locking, locking};
use crate::error::StoreError;
use crate::id::UserId;
use crate::time::DbTime;
use crate::value::{LoginType, UserStatus};

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "user" };

/// A user row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
    pub avatar_url: String,
    /// PHC string; `None` when the user cannot log in with a password.
    pub hashed_password: Option<String>,
    pub login_type: LoginType,
    pub status: UserStatus,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub last_seen_at: Option<DbTime>,
    pub deleted: bool,
    /// A headless account for a machine: login type none, no email.
    pub is_service_account: bool,
}

/// What [`insert`] writes; `created_at` is also the first `updated_at`.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub avatar_url: &'a str,
    pub hashed_password: Option<&'a str>,
    pub login_type: LoginType,
    pub status: UserStatus,
    pub created_at: DbTime,
    pub is_service_account: bool,
}

/// The fields a profile update changes.
#[derive(Clone, Debug)]
pub struct ProfileUpdate<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub avatar_url: &'a str,
}

macro_rules! cols {
    () => {
        "id, username, email, name, avatar_url, hashed_password, login_type, status, \
         created_at, updated_at, last_seen_at, deleted, is_service_account"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO users (id, username, email, name, avatar_url, hashed_password, login_type, \
     status, created_at, updated_at, is_service_account) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM users WHERE id = $1");
const GET_BY_USERNAME: &str =
    concat!("SELECT ", cols!(), " FROM users WHERE lower(username) = lower($1) AND NOT deleted");
const GET_BY_EMAIL: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM users WHERE lower(email) = lower($1) AND email <> '' AND NOT deleted"
);
const LIST: &str =
    concat!("SELECT ", cols!(), " FROM users WHERE NOT deleted ORDER BY lower(username)");
const COUNT: &str = "SELECT COUNT(*) FROM users WHERE NOT deleted";
const UPDATE_PROFILE: &str = concat!(
    "UPDATE users SET username = $2, name = $3, avatar_url = $4, updated_at = $5 \
     WHERE id = $1 AND NOT deleted RETURNING ",
    cols!()
);
const UPDATE_EMAIL: &str = concat!(
    "UPDATE users SET email = $2, updated_at = $3 WHERE id = $1 AND NOT deleted RETURNING ",
    cols!()
);
const UPDATE_STATUS: &str = concat!(
    "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1 AND NOT deleted RETURNING ",
    cols!()
);
// Conditional on the status read: a status change decided on a stale read changes nothing.
const UPDATE_STATUS_FROM: &str = concat!(
    "UPDATE users SET status = $3, updated_at = $4 WHERE id = $1 AND NOT deleted AND status = $2 \
     RETURNING ",
    cols!()
);
// Owners able to act (not deleted, not suspended; dormant owners reactivate at login), but one.
const COUNT_ACTIVE_OWNERS_EXCEPT: &str = "SELECT COUNT(*) FROM user_site_roles r \
     JOIN users u ON u.id = r.user_id \
     WHERE r.role_name = 'owner' AND u.id <> $1 AND NOT u.deleted AND u.status <> 'suspended'";
const UPDATE_PASSWORD: &str = "UPDATE users SET hashed_password = $2, updated_at = $3 \
     WHERE id = $1 AND NOT deleted";
const UPDATE_LOGIN_TYPE: &str =
    "UPDATE users SET login_type = $2, updated_at = $3 WHERE id = $1 AND NOT deleted";
const UPDATE_LAST_SEEN: &str = "UPDATE users SET last_seen_at = $2 WHERE id = $1 AND NOT deleted";
const SOFT_DELETE: &str =
    "UPDATE users SET deleted = TRUE, updated_at = $2 WHERE id = $1 AND NOT deleted";
// Deleting locks the user against a racing workspace creation (which locks it `FOR SHARE`,
// dialect.rs item 4), then counts the workspaces it owns.
const LOCK_FOR_DELETE: Locking =
    locking!("SELECT id FROM users WHERE id = $1 AND NOT deleted", "FOR UPDATE");
const COUNT_LIVE_WORKSPACES: &str =
    "SELECT COUNT(*) FROM workspaces WHERE owner_id = $1 AND NOT deleted";
// What a deleted user loses at once (Coder's delete trigger): sessions and tokens, org and
// group memberships (org role assignments cascade from the membership).
const DELETE_API_KEYS: &str = "DELETE FROM api_keys WHERE user_id = $1";
const DELETE_MEMBERSHIPS: &str = "DELETE FROM organization_members WHERE user_id = $1";
const DELETE_GROUP_MEMBERSHIPS: &str = "DELETE FROM group_members WHERE user_id = $1";
const GET_SITE_ROLES: &str =
    "SELECT role_name FROM user_site_roles WHERE user_id = $1 ORDER BY role_name";
const DELETE_SITE_ROLES: &str = "DELETE FROM user_site_roles WHERE user_id = $1";
const INSERT_SITE_ROLE: &str = "INSERT INTO user_site_roles (user_id, role_name) VALUES ($1, $2)";
const TOUCH: &str = "UPDATE users SET updated_at = $2 WHERE id = $1 AND NOT deleted";

/// Inserts a user. A live user with the same username or email (ignoring case) is a
/// `Unique` on `users_username_key` / `users_email_key`.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewUser<'_>) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(new.id)
        .bind(new.username)
        .bind(new.email)
        .bind(new.name)
        .bind(new.avatar_url)
        .bind(new.hashed_password)
        .bind(new.login_type)
        .bind(new.status)
        .bind(new.created_at)
        .bind(new.is_service_account)
        .fetch_one(c)
        .await)?)
}

/// A user by id, deleted or not (audit and ownership still name deleted users).
pub async fn get(db: impl Into<Db<'_>>, id: UserId) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// The live user with this username, ignoring case.
pub async fn get_by_username(db: impl Into<Db<'_>>, username: &str) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_USERNAME).bind(username).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// The live user with this email, ignoring case.
pub async fn get_by_email(db: impl Into<Db<'_>>, email: &str) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_EMAIL).bind(email).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// Every live user, by username. (Authorized, paged lists are built in `authz_sql`.)
pub async fn list(db: impl Into<Db<'_>>) -> Result<Vec<User>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).fetch_all(c).await)?)
}

/// How many live users there are (zero: the first-user setup is still open).
pub async fn count(db: impl Into<Db<'_>>) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(COUNT).fetch_one(c).await)?)
}

/// Changes username, name and avatar.
pub async fn update_profile(
    db: impl Into<Db<'_>>,
    id: UserId,
    update: &ProfileUpdate<'_>,
    now: DbTime,
) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE_PROFILE)
        .bind(id)
        .bind(update.username)
        .bind(update.name)
        .bind(update.avatar_url)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Changes the email.
pub async fn update_email(
    db: impl Into<Db<'_>>,
    id: UserId,
    email: &str,
    now: DbTime,
) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE_EMAIL)
        .bind(id)
        .bind(email)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Changes the status (the engine decides which transitions are allowed).
pub async fn update_status(
    db: impl Into<Db<'_>>,
    id: UserId,
    status: UserStatus,
    now: DbTime,
) -> Result<User, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE_STATUS)
        .bind(id)
        .bind(status)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Changes the status from `from` to `to`, only if the user is still live and `from`: returns
/// the updated row, or `None` when another writer changed the status first (the caller
/// re-reads and decides again, and audits only the change that happened).
pub async fn update_status_from(
    db: impl Into<Db<'_>>,
    id: UserId,
    from: UserStatus,
    to: UserStatus,
    now: DbTime,
) -> Result<Option<User>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(UPDATE_STATUS_FROM)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(now)
        .fetch_optional(c)
        .await)?)
}

/// Takes the owner-set lock until `tx` ends: transactions that decide on who is an owner (the
/// last-owner rule) run one at a time. On PostgreSQL an advisory lock; on SQLite the write
/// transaction (`BEGIN IMMEDIATE`) already excludes every other writer. Take it before reading
/// anything the decision depends on.
pub async fn lock_owner_set(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    on_conn!(tx, |c| {
        if backend_of(&*c) == Backend::Postgres {
            sqlx::query(crate::dialect::PG_OWNER_SET_LOCK).execute(&mut *c).await?;
        }
    });
    Ok(())
}

/// Owners able to act (live, not suspended) other than `except`. Count under
/// [`lock_owner_set`] when the answer decides a write.
pub async fn count_active_owners_except(
    db: impl Into<Db<'_>>,
    except: UserId,
) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(COUNT_ACTIVE_OWNERS_EXCEPT)
        .bind(except)
        .fetch_one(c)
        .await)?)
}

/// Sets or clears the password hash.
pub async fn update_password(
    db: impl Into<Db<'_>>,
    id: UserId,
    hashed_password: Option<&str>,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(UPDATE_PASSWORD)
        .bind(id)
        .bind(hashed_password)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// Changes the login type.
pub async fn update_login_type(
    db: impl Into<Db<'_>>,
    id: UserId,
    login_type: LoginType,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(UPDATE_LOGIN_TYPE)
        .bind(id)
        .bind(login_type)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// Records activity.
pub async fn update_last_seen(
    db: impl Into<Db<'_>>,
    id: UserId,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(UPDATE_LAST_SEEN)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// Soft-deletes a live user, in one transaction with its API keys and its org and group
/// memberships. The username and email become free for a new user. Refused with `ForeignKey`
/// on [`crate::workspaces::OWNER_HAS_WORKSPACES`] while the user owns a live workspace,
/// counted under a lock that a racing workspace creation also takes, so a user is never
/// deleted with a workspace created meanwhile.
pub async fn soft_delete(db: impl Into<Db<'_>>, id: UserId, now: DbTime) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let live: Option<UserId> = sqlx::query_scalar(LOCK_FOR_DELETE.sql(backend_of(&*c)))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        live.ok_or(NOT_FOUND)?;
        let owned: i64 =
            sqlx::query_scalar(COUNT_LIVE_WORKSPACES).bind(id).fetch_one(&mut *c).await?;
        if owned > 0 {
            return Err(StoreError::ForeignKey {
                constraint: crate::workspaces::OWNER_HAS_WORKSPACES.to_owned(),
            });
        }
        let done = sqlx::query(SOFT_DELETE).bind(id).bind(now).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(NOT_FOUND);
        }
        for sql in [DELETE_API_KEYS, DELETE_MEMBERSHIPS, DELETE_GROUP_MEMBERSHIPS] {
            sqlx::query(sql).bind(id).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

/// The user's site roles (besides the implicit `member`), sorted.
pub async fn get_site_roles(db: impl Into<Db<'_>>, id: UserId) -> Result<Vec<String>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(GET_SITE_ROLES).bind(id).fetch_all(c).await)?)
}

/// Replaces the user's site roles, in one transaction.
pub async fn set_site_roles(
    db: impl Into<Db<'_>>,
    id: UserId,
    roles: &[&str],
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let done = sqlx::query(TOUCH).bind(id).bind(now).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(NOT_FOUND);
        }
        sqlx::query(DELETE_SITE_ROLES).bind(id).execute(&mut *c).await?;
        for role in dedup(roles) {
            sqlx::query(INSERT_SITE_ROLE).bind(id).bind(role).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

/// Sorted, without duplicates: a role listed twice is assigned once.
pub(crate) fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut v = names.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

const COUNT_ACTIVE: &str = "SELECT COUNT(*) FROM users WHERE NOT deleted AND status = 'active'";
const MARK_DORMANT: &str = concat!(
    "UPDATE users SET status = 'dormant', updated_at = $2 WHERE NOT deleted AND status = 'active' \
     AND COALESCE(last_seen_at, created_at) < $1 RETURNING ",
    cols!()
);

const SUSPEND_LONG_DORMANT: &str = concat!(
    "UPDATE users SET status = 'suspended', updated_at = $2 WHERE NOT deleted \
     AND status = 'dormant' AND login_type <> 'none' AND COALESCE(last_seen_at, created_at) < $1 \
     AND id NOT IN (SELECT user_id FROM user_site_roles WHERE role_name = 'owner') RETURNING ",
    cols!()
);

/// Active users: the seats in use (dormant and suspended users take none).
pub async fn count_active(db: impl Into<Db<'_>>) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(COUNT_ACTIVE).fetch_one(c).await)?)
}

/// Flips active users whose last activity (or creation, if never seen) is before `cutoff` to
/// dormant and returns exactly the rows this statement changed, so concurrent sweeps on several
/// replicas never report a user twice.
pub async fn mark_dormant(
    db: impl Into<Db<'_>>,
    cutoff: DbTime,
    now: DbTime,
) -> Result<Vec<User>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(MARK_DORMANT).bind(cutoff).bind(now).fetch_all(c).await)?)
}

/// The dormant-account policy: suspends dormant users unseen since `cutoff` (from creation
/// when never seen), except owners and headless accounts (login type `none`); returns exactly
/// the rows this statement changed, so concurrent sweeps never report a user twice.
pub async fn suspend_long_dormant(
    db: impl Into<Db<'_>>,
    cutoff: DbTime,
    now: DbTime,
) -> Result<Vec<User>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(SUSPEND_LONG_DORMANT)
        .bind(cutoff)
        .bind(now)
        .fetch_all(c)
        .await)?)
}

/// A user by id or, when `key` is not a uuid, by username (how `{user}` names one).
pub async fn get_by_id_or_username(db: impl Into<Db<'_>>, key: &str) -> Result<User, StoreError> {
    match key.parse::<UserId>() {
        Ok(id) => get(db, id).await,
        Err(_) => get_by_username(db, key).await,
    }
}

/// The users with these ids (deleted ones included: views name former owners and initiators),
/// in one statement.
pub async fn get_many(db: impl Into<Db<'_>>, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    crate::batch::by_ids(db.into(), concat!("SELECT ", cols!(), " FROM users"), "id", ids, "").await
}

/// The site roles of each of these users, as (user, role) pairs in one statement.
pub async fn site_roles_of(
    db: impl Into<Db<'_>>,
    ids: &[UserId],
) -> Result<Vec<(UserId, String)>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let select = "SELECT user_id, role_name FROM user_site_roles";
    crate::batch::by_ids(db.into(), select, "user_id", ids, "ORDER BY user_id, role_name").await
}
