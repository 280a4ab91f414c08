//! The migration runner: plain SQL files under `crates/store/migrations/`, numbered, append-only,
//! embedded in the binary, one version sequence for both backends.
//!
//! Each migration runs in its own transaction together with the row that records it in
//! `schema_migrations`, so a crash leaves it either applied and recorded or not applied at all.
//! On PostgreSQL every step first takes an advisory lock ([`dialect::PG_MIGRATION_LOCK`]) and
//! re-reads the history, so replicas starting together apply each migration once. A database
//! whose history runs past this binary's newest migration is refused
//! ([`StoreError::SchemaTooNew`]): an older atrium must not write to a schema it does not know.

use sqlx::Executor;

use crate::db::{Db, Store, Tx, TxConn, on_conn};
use crate::dialect;
use crate::error::StoreError;
use crate::time::DbTime;

/// One migration file.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// The PostgreSQL text where the dialects cannot share one (triggers), in
    /// `NNNN_name.postgres.sql`; `None`: `sql` runs on both.
    pub postgres: Option<&'static str>,
}

/// Every migration, in version order. Append only; never edit an entry once released.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
        postgres: None,
    },
    Migration {
        version: 2,
        name: "file_uploaders",
        sql: include_str!("../migrations/0002_file_uploaders.sql"),
        postgres: None,
    },
    Migration {
        version: 3,
        name: "workspace_list_indexes",
        sql: include_str!("../migrations/0003_workspace_list_indexes.sql"),
        postgres: None,
    },
    Migration {
        version: 4,
        name: "build_reason_suspended",
        sql: include_str!("../migrations/0004_build_reason_suspended.sql"),
        postgres: None,
    },
    Migration {
        version: 5,
        name: "leave_groups_of_left_orgs",
        sql: include_str!("../migrations/0005_leave_groups_of_left_orgs.sql"),
        postgres: None,
    },
    Migration {
        version: 6,
        name: "restriction_and_site_roles",
        sql: include_str!("../migrations/0006_restriction_and_site_roles.sql"),
        postgres: None,
    },
    Migration {
        version: 7,
        name: "password_resets",
        sql: include_str!("../migrations/0007_password_resets.sql"),
        postgres: None,
    },
    Migration {
        version: 8,
        name: "cache_changes",
        sql: include_str!("../migrations/0008_cache_changes.sql"),
        postgres: Some(include_str!("../migrations/0008_cache_changes.postgres.sql")),
    },
    Migration {
        version: 9,
        name: "job_kind_dry_run",
        sql: include_str!("../migrations/0009_job_kind_dry_run.sql"),
        postgres: None,
    },
    Migration {
        version: 10,
        name: "template_version_variables",
        sql: include_str!("../migrations/0010_template_version_variables.sql"),
        postgres: None,
    },
    Migration {
        version: 11,
        name: "restore_job_triggers",
        sql: include_str!("../migrations/0011_restore_job_triggers.sql"),
        postgres: Some(include_str!("../migrations/0011_restore_job_triggers.postgres.sql")),
    },
    Migration {
        version: 12,
        name: "headless_and_oidc",
        sql: include_str!("../migrations/0012_headless_and_oidc.sql"),
        postgres: None,
    },
    Migration {
        version: 13,
        name: "job_resources",
        sql: include_str!("../migrations/0013_job_resources.sql"),
        postgres: None,
    },
    Migration {
        version: 14,
        name: "idp_sync_settings",
        sql: include_str!("../migrations/0014_idp_sync_settings.sql"),
        postgres: None,
    },
];

/// The newest schema version this binary knows.
pub const LATEST_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
)";
const SELECT_HISTORY: &str = "SELECT version, name FROM schema_migrations ORDER BY version";
const INSERT_HISTORY: &str =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

/// An applied migration, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
}

/// The recorded history, oldest first.
pub async fn applied(db: impl Into<Db<'_>>) -> Result<Vec<AppliedMigration>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(SELECT_HISTORY).fetch_all(c).await)?)
}

/// Brings the database up to [`LATEST_VERSION`].
pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    // First step: the history table (and PostgreSQL's prelude) and the too-new check, before
    // anything else is changed.
    let pending: Vec<&Migration> = {
        let mut conn = Db::from(store).conn().await?;
        let mut tx = conn.begin().await?;
        let history = locked_history(&mut tx, true).await?;
        tx.commit().await?;
        check_history(&history)?;
        MIGRATIONS.iter().filter(|m| !is_applied(&history, m)).collect()
    };
    for m in pending {
        let mut conn = Db::from(store).conn().await?;
        let mut tx = conn.begin().await?;
        // Another replica may have applied it while we waited for the lock.
        let history = locked_history(&mut tx, false).await?;
        check_history(&history)?;
        if is_applied(&history, m) {
            continue;
        }
        tracing::info!(version = m.version, name = m.name, "applying migration");
        let version = i32::try_from(m.version)
            .map_err(|_| StoreError::Migration(format!("version {} is too large", m.version)))?;
        on_conn!(tx, |c| {
            let sql = match crate::db::backend_of(&*c) {
                crate::db::Backend::Postgres => m.postgres.unwrap_or(m.sql),
                crate::db::Backend::Sqlite => m.sql,
            };
            c.execute(sqlx::raw_sql(sql)).await.map_err(|e| {
                StoreError::Migration(format!("{:04}_{}.sql: {e}", m.version, m.name))
            })?;
            sqlx::query(INSERT_HISTORY)
                .bind(version)
                .bind(m.name)
                .bind(DbTime::now())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await?;
    }
    Ok(())
}

fn is_applied(history: &[AppliedMigration], m: &Migration) -> bool {
    history.iter().any(|h| i64::from(h.version) == m.version)
}

/// Refuses a history this binary cannot continue: versions past its newest, or a recorded
/// migration whose name differs from this binary's (a renumbered or edited tree).
fn check_history(history: &[AppliedMigration]) -> Result<(), StoreError> {
    if let Some(newest) = history.iter().map(|h| i64::from(h.version)).max()
        && newest > LATEST_VERSION
    {
        return Err(StoreError::SchemaTooNew { database: newest, binary: LATEST_VERSION });
    }
    for h in history {
        match MIGRATIONS.iter().find(|m| m.version == i64::from(h.version)) {
            Some(m) if m.name == h.name => {}
            Some(m) => {
                return Err(StoreError::Migration(format!(
                    "migration {} is recorded as `{}` but this atrium calls it `{}`",
                    h.version, h.name, m.name
                )));
            }
            None => {
                return Err(StoreError::Migration(format!(
                    "migration {} (`{}`) is recorded but unknown to this atrium",
                    h.version, h.name
                )));
            }
        }
    }
    Ok(())
}

/// Takes the migration lock (PostgreSQL), optionally creates the history table, and reads it.
async fn locked_history(
    tx: &mut Tx<'_>,
    create: bool,
) -> Result<Vec<AppliedMigration>, StoreError> {
    if let TxConn::Pg(t) = &mut tx.conn {
        sqlx::query(dialect::PG_MIGRATION_LOCK).execute(&mut **t).await?;
        if create {
            (&mut **t).execute(sqlx::raw_sql(dialect::PG_PRELUDE)).await?;
        }
    }
    if create {
        on_conn!(tx, |c| sqlx::query(CREATE_HISTORY).execute(c).await.map(|_| ()))?;
    }
    Ok(on_conn!(tx, |c| sqlx::query_as(SELECT_HISTORY).fetch_all(c).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in migrations/ is listed, in order, under its own number and name.
    #[test]
    fn migration_list_matches_the_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql") && !n.ends_with(".postgres.sql"))
            .collect();
        files.sort();
        let listed: Vec<String> =
            MIGRATIONS.iter().map(|m| format!("{:04}_{}.sql", m.version, m.name)).collect();
        assert_eq!(files, listed);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "versions are 1, 2, 3, ...");
            let on_disk = std::fs::read_to_string(format!("{dir}/{:04}_{}.sql", m.version, m.name));
            assert_eq!(on_disk.unwrap(), m.sql);
            if let Some(pg) = m.postgres {
                let path = format!("{dir}/{:04}_{}.postgres.sql", m.version, m.name);
                assert_eq!(std::fs::read_to_string(path).unwrap(), pg);
            }
        }
    }

    #[test]
    fn too_new_and_renamed_histories_are_refused() {
        let newer = [
            AppliedMigration { version: 1, name: "initial".into() },
            AppliedMigration {
                version: i32::try_from(LATEST_VERSION).unwrap() + 1,
                name: "future".into(),
            },
        ];
        assert!(matches!(
            check_history(&newer),
            Err(StoreError::SchemaTooNew { database, binary }) if database == LATEST_VERSION + 1 && binary == LATEST_VERSION
        ));
        let renamed = [AppliedMigration { version: 1, name: "other".into() }];
        assert!(matches!(check_history(&renamed), Err(StoreError::Migration(_))));
        assert!(check_history(&[]).is_ok());
    }
}
