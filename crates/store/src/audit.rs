//! The audit log. Rows are written in the same transaction as the change they record
//! (`audit::insert(&mut tx, ..)`), so a change is never without its row, nor a row without its
//! change.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{AuditLogId, OrgId, ResourceId, UserId};
use crate::time::DbTime;
use crate::value::JsonText;

/// An audit row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AuditLog {
    pub id: AuditLogId,
    pub time: DbTime,
    pub user_id: Option<UserId>,
    pub organization_id: Option<OrgId>,
    pub ip: String,
    pub user_agent: String,
    pub resource_type: String,
    pub resource_id: ResourceId,
    pub resource_target: String,
    pub action: String,
    /// `{"field": {"old": .., "new": .., "secret": bool}}`, as Coder writes it.
    pub diff: JsonText<serde_json::Value>,
    pub status_code: i32,
    pub request_id: String,
    pub additional_fields: JsonText<serde_json::Value>,
}

macro_rules! cols {
    () => {
        "id, time, user_id, organization_id, ip, user_agent, resource_type, resource_id, \
         resource_target, action, diff, status_code, request_id, additional_fields"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO audit_logs (",
    cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);
const GET: &str = concat!("SELECT ", cols!(), " FROM audit_logs WHERE id = $1");
const LIST_RECENT: &str =
    concat!("SELECT ", cols!(), " FROM audit_logs ORDER BY time DESC, id DESC LIMIT $1");

/// Writes an audit row.
pub async fn insert(db: impl Into<Db<'_>>, row: &AuditLog) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(INSERT)
        .bind(row.id)
        .bind(row.time)
        .bind(row.user_id)
        .bind(row.organization_id)
        .bind(&row.ip)
        .bind(&row.user_agent)
        .bind(&row.resource_type)
        .bind(row.resource_id)
        .bind(&row.resource_target)
        .bind(&row.action)
        .bind(JsonText(&row.diff.0))
        .bind(row.status_code)
        .bind(&row.request_id)
        .bind(JsonText(&row.additional_fields.0))
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// An audit row by id.
pub async fn get(db: impl Into<Db<'_>>, id: AuditLogId) -> Result<AuditLog, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound { entity: "audit log" })
}

/// The newest rows, newest first, unfiltered (authorized lists are built in `authz_sql`).
pub async fn list_recent(db: impl Into<Db<'_>>, limit: i64) -> Result<Vec<AuditLog>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_RECENT).bind(limit).fetch_all(c).await)?)
}
