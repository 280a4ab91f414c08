//! Batched reads: the rows of many ids in one statement, so a page of N objects costs a fixed
//! number of statements whatever N is (views load each related table once per page).

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder};

use crate::db::{Db, on_conn};
use crate::error::StoreError;

/// `select` (a `SELECT … FROM table t` with no `WHERE`) for the rows whose `column` is one of
/// `ids` (duplicates collapse), then `tail` (an extra condition starting with `AND` and/or an
/// `ORDER BY`, or "").
pub(crate) async fn by_ids<T>(
    db: Db<'_>,
    select: &str,
    column: &str,
    ids: Vec<String>,
    tail: &str,
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    by_ids_where(db, select, None, column, ids, tail).await
}

/// [`by_ids`], also requiring `eq.0 = eq.1` (a bound value).
pub(crate) async fn by_ids_where<T>(
    db: Db<'_>,
    select: &str,
    eq: Option<(&str, String)>,
    column: &str,
    ids: Vec<String>,
    tail: &str,
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut ids = ids;
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = db.conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(select);
        qb.push(" WHERE ");
        if let Some((col, value)) = &eq {
            qb.push(format_args!("{col} = ")).push_bind(value.clone()).push(" AND ");
        }
        qb.push(format_args!("{column} IN ("));
        let mut sep = qb.separated(", ");
        for id in &ids {
            sep.push_bind(id.clone());
        }
        qb.push(") ");
        qb.push(tail);
        Ok(qb.build_query_as::<T>().fetch_all(&mut *c).await?)
    })
}
