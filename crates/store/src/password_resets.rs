//! Passwords an admin reset: their user must choose a new one before using the dashboard.

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::UserId;
use crate::time::DbTime;

const MARK: &str = "INSERT INTO user_password_resets (user_id, reset_at) VALUES ($1, $2) \
     ON CONFLICT (user_id) DO UPDATE SET reset_at = excluded.reset_at";
const CLEAR: &str = "DELETE FROM user_password_resets WHERE user_id = $1";
const IS_MARKED: &str = "SELECT COUNT(*) FROM user_password_resets WHERE user_id = $1";

/// Records that `user`'s password was set by someone else.
pub async fn mark(db: impl Into<Db<'_>>, user: UserId, now: DbTime) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(MARK).bind(user).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Forgets the reset (the user chose their own password).
pub async fn clear(db: impl Into<Db<'_>>, user: UserId) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(CLEAR).bind(user).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Whether `user` still has a password someone else set.
pub async fn is_marked(db: impl Into<Db<'_>>, user: UserId) -> Result<bool, StoreError> {
    let mut conn = db.into().conn().await?;
    let n: i64 = on_conn!(conn, |c| sqlx::query_scalar(IS_MARKED).bind(user).fetch_one(c).await)?;
    Ok(n > 0)
}
