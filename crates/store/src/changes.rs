//! What cached data depends on changed: rows the `cache_changes` triggers write (migration 8)
//! whenever a cached item's sources change — topic [`Topic::User`] for a user's status, site
//! roles, memberships, org roles, groups or keys (any custom role: every user), topic
//! [`Topic::Workspace`] for a workspace, its builds and sharing ACL (job states, templates,
//! versions, organizations and owners' names: every workspace). Because the database records
//! them, no write path can forget to: a new store function, a sweep or
//! `atrium reset-password` are covered alike.
//!
//! - A server's own transactions ([`crate::Store::begin`] with a hook installed) take their
//!   own rows just before committing and report them to the hook just after.
//! - On PostgreSQL the triggers also notify [`Topic::channel`], so every replica hears of the
//!   change at commit; leftover rows (writes outside a server transaction) are purged by age.
//! - On SQLite, rows left by other connections are taken by the server's poll ([`take_pending`]).

use crate::db::{Db, Store, Tx, TxConn, on_conn};
use crate::error::StoreError;
use crate::time::DbTime;

/// The id standing for every item of a topic.
pub const EVERY: &str = "*";

/// What kind of cached item changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A user's session facts (payload: the user id).
    User,
    /// A workspace's view (payload: the workspace id).
    Workspace,
}

impl Topic {
    pub const ALL: [Topic; 2] = [Topic::User, Topic::Workspace];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::User => "user",
            Topic::Workspace => "workspace",
        }
    }

    /// The PostgreSQL notification channel the triggers send this topic's ids on.
    pub const fn channel(self) -> &'static str {
        match self {
            Topic::User => "atrium_user_changed",
            Topic::Workspace => "atrium_workspace_changed",
        }
    }

    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn of_channel(channel: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.channel() == channel)
    }
}

/// One recorded change: a topic and an id (or [`EVERY`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub topic: Topic,
    pub id: String,
}

// SQLite has one writer at a time, so every row present inside a write transaction is either
// this transaction's or one left by another connection since the last take; both are news.
const TAKE_ALL: &str = "DELETE FROM cache_changes RETURNING topic, id";
const TAKE_OWN_PG: &str =
    "DELETE FROM cache_changes WHERE tx = txid_current_if_assigned() RETURNING topic, id";
const ANY: &str = "SELECT EXISTS (SELECT 1 FROM cache_changes)";
const PURGE: &str = "DELETE FROM cache_changes WHERE created_at < $1";

fn changes(rows: Vec<(String, String)>) -> Vec<Change> {
    rows.into_iter()
        .filter_map(|(topic, id)| Some(Change { topic: Topic::parse(&topic)?, id }))
        .collect()
}

/// The changes this transaction made (and, on SQLite, any others recorded since the last
/// take), removed from the table.
pub(crate) async fn take_own(tx: &mut Tx<'_>) -> Result<Vec<Change>, StoreError> {
    Ok(changes(match &mut tx.conn {
        TxConn::Sqlite(t) => sqlx::query_as(TAKE_ALL).fetch_all(&mut **t).await?,
        TxConn::Pg(t) => sqlx::query_as(TAKE_OWN_PG).fetch_all(&mut **t).await?,
    }))
}

/// Every recorded change not yet taken (SQLite: what other connections wrote, such as
/// `atrium reset-password`). Reads first, so the common empty case takes no write lock.
pub async fn take_pending(store: &Store) -> Result<Vec<Change>, StoreError> {
    let mut conn = Db::from(store).conn().await?;
    let any: bool = on_conn!(conn, |c| sqlx::query_scalar(ANY).fetch_one(c).await)?;
    if !any {
        return Ok(Vec::new());
    }
    let mut tx = conn.begin().await?;
    let taken = on_conn!(tx, |c| sqlx::query_as(TAKE_ALL).fetch_all(c).await)?;
    tx.commit().await?;
    Ok(changes(taken))
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
