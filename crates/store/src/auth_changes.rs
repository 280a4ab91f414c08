//! Which users' authorization facts changed: rows the `auth_changes` triggers write
//! (migration 6) whenever a user's status, site roles, memberships, org roles, groups or keys
//! change, or any custom role ([`EVERYONE`]). Because the database records them, no write path
//! can forget to: a new store function, a sweep or `atrium reset-password` are covered alike.
//!
//! - A server's own transactions ([`crate::Store::begin`] with a hook installed) take their
//!   own rows just before committing and report them to the hook just after.
//! - On PostgreSQL the triggers also notify [`CHANNEL`], so every replica hears of the change
//!   at commit; leftover rows (writes outside a server transaction) are purged by age.
//! - On SQLite, rows left by other connections are taken by the server's poll ([`take_pending`]).

use crate::db::{Db, Store, Tx, TxConn, on_conn};
use crate::error::StoreError;
use crate::time::DbTime;

/// The PostgreSQL notification channel the triggers send user ids on.
pub const CHANNEL: &str = "atrium_auth_changed";
/// The user id standing for everyone (a custom role changed: its holders are not listed).
pub const EVERYONE: &str = "*";

// SQLite has one writer at a time, so every row present inside a write transaction is either
// this transaction's or one left by another connection since the last take; both are news.
const TAKE_ALL: &str = "DELETE FROM auth_changes RETURNING user_id";
const TAKE_OWN_PG: &str =
    "DELETE FROM auth_changes WHERE tx = txid_current_if_assigned() RETURNING user_id";
const ANY: &str = "SELECT EXISTS (SELECT 1 FROM auth_changes)";
const PURGE: &str = "DELETE FROM auth_changes WHERE created_at < $1";

/// The users this transaction changed (and, on SQLite, any others recorded since the last
/// take), removed from the table.
pub(crate) async fn take_own(tx: &mut Tx<'_>) -> Result<Vec<String>, StoreError> {
    Ok(match &mut tx.conn {
        TxConn::Sqlite(t) => sqlx::query_scalar(TAKE_ALL).fetch_all(&mut **t).await?,
        TxConn::Pg(t) => sqlx::query_scalar(TAKE_OWN_PG).fetch_all(&mut **t).await?,
    })
}

/// Every recorded change not yet taken (SQLite: what other connections wrote, such as
/// `atrium reset-password`). Reads first, so the common empty case takes no write lock.
pub async fn take_pending(store: &Store) -> Result<Vec<String>, StoreError> {
    let mut conn = Db::from(store).conn().await?;
    let any: bool = on_conn!(conn, |c| sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if !any {
        return Ok(Vec::new());
    }
    let mut tx = conn.begin().await?;
    let taken = on_conn!(tx, |c| sqlx::query_scalar(TAKE_ALL).fetch_all(c).await)?;
    tx.commit().await?;
    Ok(taken)
}

/// Deletes records older than `before` (already delivered by notification); returns how many.
pub async fn purge(db: impl Into<Db<'_>>, before: DbTime) -> Result<u64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query(PURGE)
        .bind(before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}
