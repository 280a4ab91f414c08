//! OIDC sign-in: sign-ins in flight (state → PKCE verifier, nonce, redirect) and the links
//! between users and identity-provider subjects.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::UserId;
use crate::time::DbTime;
use crate::value::LoginType;

/// A sign-in in flight.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct LoginState {
    pub state_hash: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub redirect: String,
    pub expires_at: DbTime,
}

/// A user's link to an identity-provider subject.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserLink {
    pub user_id: UserId,
    pub login_type: LoginType,
    pub linked_id: String,
    /// JSON object: the claims of the last sign-in.
    pub claims: String,
    pub updated_at: DbTime,
}

const INSERT_STATE: &str = "INSERT INTO oidc_login_states \
     (state_hash, pkce_verifier, nonce, redirect, expires_at) VALUES ($1, $2, $3, $4, $5)";
// Taking deletes: a state is good for one callback only.
const TAKE_STATE: &str = "DELETE FROM oidc_login_states WHERE state_hash = $1 \
     RETURNING state_hash, pkce_verifier, nonce, redirect, expires_at";
const DELETE_EXPIRED_STATES: &str = "DELETE FROM oidc_login_states WHERE expires_at < $1";
const LINK_BY_LINKED_ID: &str = "SELECT user_id, login_type, linked_id, claims, updated_at \
     FROM user_links WHERE linked_id = $1";
const LINK_OF: &str = "SELECT user_id, login_type, linked_id, claims, updated_at \
     FROM user_links WHERE user_id = $1 AND login_type = $2";
const UPSERT_LINK: &str = "INSERT INTO user_links (user_id, login_type, linked_id, claims, \
     updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, login_type) DO UPDATE SET \
     linked_id = excluded.linked_id, claims = excluded.claims, updated_at = excluded.updated_at";

/// Saves a sign-in in flight (and drops the expired ones).
pub async fn insert_state(db: impl Into<Db<'_>>, s: &LoginState) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(DELETE_EXPIRED_STATES)
        .bind(DbTime::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    on_conn!(conn, |c| sqlx::query(INSERT_STATE)
        .bind(&s.state_hash)
        .bind(&s.pkce_verifier)
        .bind(&s.nonce)
        .bind(&s.redirect)
        .bind(s.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes and returns the sign-in in flight with this state hash, if any (expired or not:
/// the caller decides).
pub async fn take_state(
    db: impl Into<Db<'_>>,
    state_hash: &str,
) -> Result<Option<LoginState>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(TAKE_STATE).bind(state_hash).fetch_optional(c).await)?)
}

/// The link with this linked id (`<issuer>||<sub>`), if any.
pub async fn link_by_linked_id(
    db: impl Into<Db<'_>>,
    linked_id: &str,
) -> Result<Option<UserLink>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LINK_BY_LINKED_ID)
        .bind(linked_id)
        .fetch_optional(c)
        .await)?)
}

/// The user's link for a login type, if any.
pub async fn link_of(
    db: impl Into<Db<'_>>,
    user: UserId,
    login_type: LoginType,
) -> Result<Option<UserLink>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LINK_OF)
        .bind(user)
        .bind(login_type)
        .fetch_optional(c)
        .await)?)
}

/// Creates or refreshes the user's link (a linked id held by another user is a `Unique` on
/// `user_links_linked_id_key`).
pub async fn upsert_link(db: impl Into<Db<'_>>, link: &UserLink) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(UPSERT_LINK)
        .bind(link.user_id)
        .bind(link.login_type)
        .bind(&link.linked_id)
        .bind(&link.claims)
        .bind(link.updated_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether some active, live owner signs in through the identity provider (login type
/// `oidc`): what `--disable-password-auth` needs so owners are not locked out.
pub async fn an_owner_signs_in_with_oidc(db: impl Into<Db<'_>>) -> Result<bool, StoreError> {
    const SQL: &str = "SELECT COUNT(*) FROM user_site_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.role_name = 'owner' AND NOT u.deleted AND u.status <> 'suspended' \
         AND u.login_type = 'oidc'";
    let mut conn = db.into().conn().await?;
    let n: i64 = on_conn!(conn, |c| sqlx::query_scalar(SQL).fetch_one(c).await)?;
    Ok(n > 0)
}
