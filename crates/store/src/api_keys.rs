//! API keys: session cookies and named tokens, `<10-char id>-<secret>`, stored as the id and
//! the sha256 of the secret (hex). The server compares the hash in constant time.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::UserId;
use crate::time::DbTime;
use crate::value::LoginType;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "api key" };

/// An API key row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ApiKey {
    pub id: String,
    /// Lowercase hex sha256 of the secret.
    pub hashed_secret: String,
    pub user_id: UserId,
    pub login_type: LoginType,
    pub scope: String,
    /// `""` for session keys.
    pub token_name: String,
    pub lifetime_seconds: i64,
    pub expires_at: DbTime,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub last_used: DbTime,
    pub ip_address: String,
}

/// What [`insert`] writes; `created_at` is also the first `updated_at` and `last_used`.
#[derive(Clone, Debug)]
pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub hashed_secret: &'a str,
    pub user_id: UserId,
    pub login_type: LoginType,
    pub scope: &'a str,
    pub token_name: &'a str,
    pub lifetime_seconds: i64,
    pub expires_at: DbTime,
    pub created_at: DbTime,
    pub ip_address: &'a str,
}

macro_rules! cols {
    () => {
        "id, hashed_secret, user_id, login_type, scope, token_name, lifetime_seconds, \
         expires_at, created_at, updated_at, last_used, ip_address"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO api_keys (id, hashed_secret, user_id, login_type, scope, token_name, \
     lifetime_seconds, expires_at, created_at, updated_at, last_used, ip_address) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $10) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM api_keys WHERE id = $1");
const LIST_BY_USER: &str =
    concat!("SELECT ", cols!(), " FROM api_keys WHERE user_id = $1 ORDER BY created_at, id");
const DELETE: &str = "DELETE FROM api_keys WHERE id = $1";
const DELETE_BY_USER: &str = "DELETE FROM api_keys WHERE user_id = $1";
const DELETE_APP_CONNECT_BY_USER: &str =
    "DELETE FROM api_keys WHERE user_id = $1 AND scope = 'application_connect'";
// Conditional on the expiry the caller read ($5) and on the key being valid then ($2): a
// refresh racing an expiry (or a revocation, which deletes the row) changes nothing, so it can
// never slide an expired key's expiry forward.
const TOUCH: &str = "UPDATE api_keys SET last_used = $2, expires_at = $3, ip_address = $4, \
     updated_at = $2 WHERE id = $1 AND expires_at = $5 AND expires_at > $2";

/// Inserts a key. A token name the user already uses is `Unique` on
/// `api_keys_token_name_key`.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewApiKey<'_>) -> Result<ApiKey, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(new.id)
        .bind(new.hashed_secret)
        .bind(new.user_id)
        .bind(new.login_type)
        .bind(new.scope)
        .bind(new.token_name)
        .bind(new.lifetime_seconds)
        .bind(new.expires_at)
        .bind(new.created_at)
        .bind(new.ip_address)
        .fetch_one(c)
        .await)?)
}

/// A key by id (the caller checks the secret's hash and the expiry).
pub async fn get(db: impl Into<Db<'_>>, id: &str) -> Result<ApiKey, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// A user's keys, oldest first.
pub async fn list_by_user(db: impl Into<Db<'_>>, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_BY_USER).bind(user).fetch_all(c).await)?)
}

/// Deletes a key (logout, token revocation).
pub async fn delete(db: impl Into<Db<'_>>, id: &str) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(DELETE)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// Deletes every key of a user (password reset, suspension); returns how many.
pub async fn delete_by_user(db: impl Into<Db<'_>>, user: UserId) -> Result<u64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query(DELETE_BY_USER)
        .bind(user)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Deletes the user's `application_connect`-scoped keys (logout); returns how many.
pub async fn delete_app_connect_by_user(
    db: impl Into<Db<'_>>,
    user: UserId,
) -> Result<u64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query(DELETE_APP_CONNECT_BY_USER)
        .bind(user)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}

/// Records use of a key: last use, the (possibly extended) expiry, and the client address —
/// only if the key still has the expiry `read_expires_at` the caller read and is unexpired at
/// `now`. Returns whether it did: `false` means the key was expired, revoked or refreshed
/// meanwhile, and nothing was written.
pub async fn touch(
    db: impl Into<Db<'_>>,
    id: &str,
    now: DbTime,
    read_expires_at: DbTime,
    expires_at: DbTime,
    ip_address: &str,
) -> Result<bool, StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(TOUCH)
        .bind(id)
        .bind(now)
        .bind(expires_at)
        .bind(ip_address)
        .bind(read_expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

const LIST_TOKENS: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM api_keys WHERE user_id = $1 AND login_type = 'token' AND (expires_at > $2 OR $3) \
     ORDER BY created_at, id"
);
const LIST_ALL_TOKENS: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM api_keys WHERE login_type = 'token' AND (expires_at > $1 OR $2) \
     ORDER BY created_at, id"
);
const GET_TOKEN_BY_NAME: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM api_keys WHERE user_id = $1 AND login_type = 'token' AND token_name = $2"
);
// Never moves an expiry later (expiring an already expired key keeps its time).
const EXPIRE: &str = "UPDATE api_keys SET expires_at = CASE WHEN expires_at < $2 THEN expires_at \
     ELSE $2 END, updated_at = $2 WHERE id = $1";

/// A user's API tokens (not sessions), oldest first; expired ones only when asked.
pub async fn list_tokens(
    db: impl Into<Db<'_>>,
    user: UserId,
    include_expired: bool,
    now: DbTime,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_TOKENS)
        .bind(user)
        .bind(now)
        .bind(include_expired)
        .fetch_all(c)
        .await)?)
}

/// Every user's API tokens, oldest first; expired ones only when asked (the caller filters
/// them by what its reader may read).
pub async fn list_all_tokens(
    db: impl Into<Db<'_>>,
    include_expired: bool,
    now: DbTime,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_ALL_TOKENS)
        .bind(now)
        .bind(include_expired)
        .fetch_all(c)
        .await)?)
}

/// A user's token by name.
pub async fn get_token_by_name(
    db: impl Into<Db<'_>>,
    user: UserId,
    name: &str,
) -> Result<ApiKey, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_TOKEN_BY_NAME)
        .bind(user)
        .bind(name)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Expires a key now (the row stays, for listings with `include_expired`).
pub async fn expire(db: impl Into<Db<'_>>, id: &str, now: DbTime) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(EXPIRE)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}
