//! Reading and replacing an object's ACL, shared by templates and workspaces: two normalized
//! tables per object type (`<t>_acl_users`, `<t>_acl_groups`), actions as bitmasks.

use atrium_engine::ActionSet;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{GroupId, UserId};
use crate::value::{Acl, acl_bits, acl_set};

/// The SQL of one object type's ACL tables.
pub(crate) struct AclSql {
    pub users: &'static str,
    pub groups: &'static str,
    pub delete_users: &'static str,
    pub delete_groups: &'static str,
    pub insert_user: &'static str,
    pub insert_group: &'static str,
}

/// Declares an [`AclSql`] for `<table>_acl_users` / `<table>_acl_groups` keyed by `<fk>`.
macro_rules! acl_sql {
    ($table:literal, $fk:literal) => {
        $crate::acl::AclSql {
            users: concat!(
                "SELECT user_id, actions FROM ",
                $table,
                "_acl_users WHERE ",
                $fk,
                " = $1 ORDER BY user_id"
            ),
            groups: concat!(
                "SELECT group_id, actions FROM ",
                $table,
                "_acl_groups WHERE ",
                $fk,
                " = $1 ORDER BY group_id"
            ),
            delete_users: concat!("DELETE FROM ", $table, "_acl_users WHERE ", $fk, " = $1"),
            delete_groups: concat!("DELETE FROM ", $table, "_acl_groups WHERE ", $fk, " = $1"),
            insert_user: concat!(
                "INSERT INTO ",
                $table,
                "_acl_users (",
                $fk,
                ", user_id, actions) VALUES ($1, $2, $3)"
            ),
            insert_group: concat!(
                "INSERT INTO ",
                $table,
                "_acl_groups (",
                $fk,
                ", group_id, actions) VALUES ($1, $2, $3)"
            ),
        }
    };
}
pub(crate) use acl_sql;

/// Reads an object's ACL.
pub(crate) async fn get<K>(sql: &AclSql, db: Db<'_>, object: K) -> Result<Acl, StoreError>
where
    K: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Sqlite>
        + sqlx::Type<sqlx::Postgres>
        + Copy
        + Send,
{
    let mut conn = db.conn().await?;
    on_conn!(conn, |c| {
        let users: Vec<(UserId, i32)> =
            sqlx::query_as(sql.users).bind(object).fetch_all(&mut *c).await?;
        let groups: Vec<(GroupId, i32)> =
            sqlx::query_as(sql.groups).bind(object).fetch_all(&mut *c).await?;
        Ok(Acl {
            users: users.into_iter().map(|(u, bits)| (u, acl_set(bits))).collect(),
            groups: groups.into_iter().map(|(g, bits)| (g, acl_set(bits))).collect(),
        })
    })
}

/// Replaces an object's ACL in one transaction; entries with no actions are dropped, and a
/// grantee listed twice gets the union of its sets.
pub(crate) async fn set<K>(sql: &AclSql, db: Db<'_>, object: K, acl: &Acl) -> Result<(), StoreError>
where
    K: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Sqlite>
        + sqlx::Type<sqlx::Postgres>
        + Copy
        + Send,
{
    let users = merge(&acl.users);
    let groups = merge(&acl.groups);
    let mut conn = db.conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        sqlx::query(sql.delete_users).bind(object).execute(&mut *c).await?;
        sqlx::query(sql.delete_groups).bind(object).execute(&mut *c).await?;
        for (user, set) in &users {
            sqlx::query(sql.insert_user)
                .bind(object)
                .bind(*user)
                .bind(acl_bits(*set))
                .execute(&mut *c)
                .await?;
        }
        for (group, set) in &groups {
            sqlx::query(sql.insert_group)
                .bind(object)
                .bind(*group)
                .bind(acl_bits(*set))
                .execute(&mut *c)
                .await?;
        }
    });
    tx.commit().await
}

/// Sorted by key, duplicates merged, empty sets dropped.
fn merge<K: Ord + Copy>(entries: &[(K, ActionSet)]) -> Vec<(K, ActionSet)> {
    let mut out: Vec<(K, ActionSet)> = Vec::with_capacity(entries.len());
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|(k, _)| *k);
    for (k, set) in sorted {
        match out.last_mut() {
            Some((last, acc)) if *last == k => *acc = ActionSet::from_bits(acc.bits() | set.bits()),
            _ => out.push((k, set)),
        }
    }
    out.retain(|(_, set)| !set.is_empty());
    out
}
