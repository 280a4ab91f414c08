//! IdP sync settings (one JSON value per setting key, see migration 13) and the claims seen at
//! sign-ins that the settings pages offer as fields and values.

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::OrgId;
use crate::time::DbTime;

const GET: &str = "SELECT settings FROM idp_sync_settings WHERE setting_key = $1";
// On PostgreSQL the upsert keeps the row locked until the transaction ends, so a
// read-modify-write of a setting (a mapping patch) waits for a concurrent one.
const TOUCH: &str = "INSERT INTO idp_sync_settings (setting_key, organization_id, settings, \
     updated_at) VALUES ($1, $2, '{}', $3) ON CONFLICT (setting_key) DO UPDATE SET \
     updated_at = idp_sync_settings.updated_at";
const PUT: &str = "INSERT INTO idp_sync_settings (setting_key, organization_id, settings, \
     updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (setting_key) DO UPDATE SET \
     settings = excluded.settings, updated_at = excluded.updated_at";
const CLAIMS_ALL: &str = "SELECT claims FROM user_links l JOIN users u ON u.id = l.user_id \
     WHERE l.login_type = 'oidc' AND NOT u.deleted";
const CLAIMS_OF_ORG: &str = "SELECT l.claims FROM user_links l JOIN users u ON u.id = l.user_id \
     JOIN organization_members m ON m.user_id = l.user_id AND m.org_id = $1 \
     WHERE l.login_type = 'oidc' AND NOT u.deleted";

/// The stored settings (JSON text) under `key`, if any were ever saved.
pub async fn get(db: impl Into<Db<'_>>, key: &str) -> Result<Option<String>, StoreError> {
    let mut conn = db.into().conn().await?;
    let found: Option<String> =
        on_conn!(conn, |c| sqlx::query_scalar(GET).bind(key).fetch_optional(c).await)?;
    // A row only touched for locking holds `{}`: nothing saved yet.
    Ok(found.filter(|s| s != "{}"))
}

/// Locks `key`'s row until the transaction ends (creating it empty if missing). Call it inside
/// the write transaction before reading what it changes.
pub async fn lock(db: impl Into<Db<'_>>, key: &str, org: Option<OrgId>) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(TOUCH)
        .bind(key)
        .bind(org)
        .bind(DbTime::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Saves the settings (JSON text) under `key`; `org` ties them to an organization, so they go
/// when it does (a missing org is a foreign-key error).
pub async fn put(
    db: impl Into<Db<'_>>,
    key: &str,
    org: Option<OrgId>,
    settings: &str,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query(PUT)
        .bind(key)
        .bind(org)
        .bind(settings)
        .bind(DbTime::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The claims (JSON text) of the last sign-in of every live OIDC user, or of the members of
/// `org`.
pub async fn seen_claims(
    db: impl Into<Db<'_>>,
    org: Option<OrgId>,
) -> Result<Vec<String>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(match org {
        Some(org) => {
            on_conn!(conn, |c| sqlx::query_scalar(CLAIMS_OF_ORG).bind(org).fetch_all(c).await)?
        }
        None => on_conn!(conn, |c| sqlx::query_scalar(CLAIMS_ALL).fetch_all(c).await)?,
    })
}
