//! Everything that differs between SQLite and PostgreSQL, in one place. Every other SQL text
//! in the crate runs unchanged on both.
//!
//! 1. **Binary columns.** The migrations declare them `BLOB` (SQLite's name). PostgreSQL has no
//!    `BLOB` type, so before the first migration the migrator creates the domain
//!    `blob AS bytea` ([`PG_PRELUDE`]). The migration files stay one portable tree, with no
//!    text rewriting and no per-dialect variants; the domain is an ordinary part of the
//!    PostgreSQL schema (it shows in `\dD`), and values decode as `bytea`.
//! 2. **Claiming a queued job.** PostgreSQL replicas compete for jobs, so the claim skips rows
//!    another transaction holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer and no such
//!    clause ([`acquire_job_sql`]).
//! 3. **The migrator's lock.** PostgreSQL replicas serialize migrations on a transaction-scoped
//!    advisory lock ([`PG_MIGRATION_LOCK`]); SQLite's `BEGIN IMMEDIATE` already excludes other
//!    writers.
//! 4. **The owner-set lock.** Decisions that must not leave zero owners (deleting, suspending or
//!    demoting an owner) count the other owners and write in one transaction; PostgreSQL
//!    serializes those transactions on an advisory lock ([`PG_OWNER_SET_LOCK`]), SQLite's
//!    `BEGIN IMMEDIATE` already does.
//! 5. **Row locks for check-then-write rules** ([`Locking`]). A rule that reads one row and
//!    then writes another ("a deleted user gains no workspace", "one active build per
//!    workspace") locks the row it depends on, on PostgreSQL, with `FOR SHARE` / `FOR UPDATE`
//!    in both transactions that could race, so the later one waits and then sees the earlier
//!    one's commit (READ COMMITTED gives each statement after the lock a fresh snapshot).
//!    SQLite has no row locks and needs none: every write transaction begins `IMMEDIATE`, so it
//!    holds the database's only write lock from its first statement to its end.

use crate::db::Backend;

/// Run on PostgreSQL before any migration, inside the migrator's locked transaction.
/// Idempotent.
pub const PG_PRELUDE: &str = "DO $$ BEGIN
    CREATE DOMAIN blob AS bytea;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$";

/// Takes the migrator's advisory lock until the transaction ends.
pub const PG_MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7235353718220399981)";

/// Serializes transactions that read or change who is an owner, until the transaction ends.
pub const PG_OWNER_SET_LOCK: &str = "SELECT pg_advisory_xact_lock(7235353718220399982)";

/// The columns every job query returns, in `ProvisionerJob`'s order.
macro_rules! job_cols {
    () => {
        "id, org_id, initiator_id, kind, provisioner, file_id, input, created_at, updated_at, \
         started_at, completed_at, canceled_at, error, worker_id"
    };
}
pub(crate) use job_cols;

// The jobs each organization is running now (claimed, not completed), for fair claiming.
macro_rules! org_running {
    () => {
        "(SELECT COUNT(*) FROM provisioner_jobs r WHERE r.org_id = p.org_id \
          AND r.started_at IS NOT NULL AND r.completed_at IS NULL)"
    };
}

// Fair claiming: among pending jobs of organizations running fewer than `$3` jobs, the one
// whose organization runs the fewest, oldest first within that; so one organization's burst
// cannot hold every worker while another organization waits.
macro_rules! acquire_job {
    ($lock:literal) => {
        concat!(
            "UPDATE provisioner_jobs SET started_at = $1, updated_at = $1, worker_id = $2 \
             WHERE id = (SELECT p.id FROM provisioner_jobs p \
                         WHERE p.started_at IS NULL AND p.canceled_at IS NULL AND ",
            org_running!(),
            " < $3 ORDER BY ",
            org_running!(),
            ", p.created_at, p.id LIMIT 1",
            $lock,
            ") AND started_at IS NULL RETURNING ",
            job_cols!()
        )
    };
}

/// Claims a pending job fairly across organizations: `$1` = now, `$2` = worker id, `$3` = the
/// most jobs one organization may run at once.
pub(crate) fn acquire_job_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => acquire_job!(""),
        Backend::Postgres => acquire_job!(" FOR UPDATE OF p SKIP LOCKED"),
    }
}

/// A `SELECT` that locks the rows it returns on PostgreSQL (see item 4 above); the same text
/// without the locking clause on SQLite. Made with [`locking!`].
pub(crate) struct Locking {
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

impl Locking {
    /// The text for `backend`.
    pub(crate) fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// `locking!("SELECT ...", "FOR UPDATE")`: the query, and the query with the clause on
/// PostgreSQL.
macro_rules! locking {
    ($sql:literal, $lock:literal) => {
        $crate::dialect::Locking { sqlite: $sql, postgres: concat!($sql, " ", $lock) }
    };
}
pub(crate) use locking;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_job_returns_the_job_columns() {
        assert!(!acquire_job_sql(Backend::Sqlite).contains("SKIP LOCKED"));
        assert!(acquire_job_sql(Backend::Postgres).contains("SKIP LOCKED"));
    }

    #[test]
    fn locking_adds_the_clause_on_postgres_only() {
        const Q: Locking = locking!("SELECT id FROM users WHERE id = $1", "FOR UPDATE");
        assert_eq!(Q.sql(Backend::Sqlite), "SELECT id FROM users WHERE id = $1");
        assert_eq!(Q.sql(Backend::Postgres), "SELECT id FROM users WHERE id = $1 FOR UPDATE");
    }
}
