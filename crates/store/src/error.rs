//! The store's one error type, and the one place that turns database constraint violations into
//! [`StoreError::Conflict`] with the constraint's name.
//!
//! PostgreSQL reports the violated constraint's name. SQLite does not; it reports text, which we
//! parse here (and only here):
//! - `UNIQUE constraint failed: index 'users_username_key'` — an expression or partial unique
//!   index: the index name, as declared (it is the same name on PostgreSQL).
//! - `UNIQUE constraint failed: files.hash` — a column list: the constraint listed for those
//!   columns in [`SQLITE_COLUMN_CONSTRAINTS`] (primary keys, partial unique indexes over plain
//!   columns), otherwise `<table>_<col>_…_key`, the name PostgreSQL would give a `UNIQUE`
//!   constraint by default. The migrations name every such constraint that way, so both backends
//!   report the same name (the `constraint_names` test checks the schema against these rules).
//! - `CHECK constraint failed: users_status_check` — the name, as declared.
//! - `FOREIGN KEY constraint failed` — SQLite does not say which one: [`UNKNOWN_FOREIGN_KEY`].
//!   Every foreign key is named `<table>_<col>_fkey`, so "ends with `_fkey`" identifies a foreign-key
//!   conflict on both backends ([`StoreError::is_foreign_key_conflict`]).

use std::path::PathBuf;

use sqlx::error::{DatabaseError, ErrorKind};

/// The constraint name reported for a foreign-key violation on SQLite, which does not say which
/// foreign key failed.
pub const UNKNOWN_FOREIGN_KEY: &str = "unknown_fkey";

/// Column lists (as SQLite prints them) whose constraint is not named `<table>_<cols>_key`:
/// primary keys, and unique indexes over plain columns with a name of their own.
pub const SQLITE_COLUMN_CONSTRAINTS: &[(&str, &str)] = &[
    ("organizations.is_default", "organizations_single_default"),
    ("api_keys.user_id, api_keys.token_name", "api_keys_token_name_key"),
    ("user_site_roles.user_id, user_site_roles.role_name", "user_site_roles_pkey"),
    ("organization_members.org_id, organization_members.user_id", "organization_members_pkey"),
    (
        "organization_member_roles.org_id, organization_member_roles.user_id, organization_member_roles.role_name",
        "organization_member_roles_pkey",
    ),
    ("group_members.group_id, group_members.user_id", "group_members_pkey"),
    ("template_acl_users.template_id, template_acl_users.user_id", "template_acl_users_pkey"),
    ("template_acl_groups.template_id, template_acl_groups.group_id", "template_acl_groups_pkey"),
    ("workspace_acl_users.workspace_id, workspace_acl_users.user_id", "workspace_acl_users_pkey"),
    (
        "workspace_acl_groups.workspace_id, workspace_acl_groups.group_id",
        "workspace_acl_groups_pkey",
    ),
    ("provisioner_job_logs.job_id, provisioner_job_logs.id", "provisioner_job_logs_pkey"),
    ("file_uploaders.file_id, file_uploaders.user_id", "file_uploaders_pkey"),
    ("schema_migrations.version", "schema_migrations_pkey"),
    ("users.id", "users_pkey"),
    ("organizations.id", "organizations_pkey"),
    ("custom_roles.id", "custom_roles_pkey"),
    ("groups.id", "groups_pkey"),
    ("files.id", "files_pkey"),
    ("provisioner_jobs.id", "provisioner_jobs_pkey"),
    ("templates.id", "templates_pkey"),
    ("template_versions.id", "template_versions_pkey"),
    ("workspaces.id", "workspaces_pkey"),
    ("workspace_builds.id", "workspace_builds_pkey"),
    ("api_keys.id", "api_keys_pkey"),
    ("audit_logs.id", "audit_logs_pkey"),
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist (or is soft-deleted, where the query says so).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A unique, foreign-key or check constraint refused the write. `constraint` is its name from
    /// the migrations (for SQLite foreign keys, [`UNKNOWN_FOREIGN_KEY`]).
    #[error("conflict with constraint `{constraint}`")]
    Conflict { constraint: String },
    /// The database was migrated by a newer atrium than this one.
    #[error(
        "database schema version {database} is newer than this atrium ({binary}); upgrade atrium"
    )]
    SchemaTooNew { database: i64, binary: i64 },
    /// Another server holds the data directory's lock.
    #[error("another atrium server is using {}", path.display())]
    Locked { path: PathBuf },
    /// The data directory or its lock file could not be created or opened.
    #[error("cannot use {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The migration history does not match this binary's migrations.
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// Whether this is a foreign-key conflict: a referenced row is missing (or still referenced).
    pub fn is_foreign_key_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint.ends_with("_fkey"))
    }

    /// The constraint name, if this is a conflict.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Conflict { constraint } => Some(constraint),
            _ => None,
        }
    }
}

/// THE helper: every sqlx error reaches callers through here, so a constraint violation always
/// becomes `Conflict` with the constraint's name, whichever backend raised it.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error()
            && let Some(constraint) = constraint_name(db)
        {
            return StoreError::Conflict { constraint };
        }
        StoreError::Database(e)
    }
}

fn constraint_name(db: &dyn DatabaseError) -> Option<String> {
    let kind = db.kind();
    if !matches!(
        kind,
        ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::CheckViolation
    ) {
        return None;
    }
    // PostgreSQL names the constraint; SQLite never does.
    if let Some(name) = db.constraint() {
        return Some(name.to_owned());
    }
    Some(sqlite_constraint_name(&kind, db.message()))
}

/// Maps a SQLite constraint message to the constraint's name (see the module docs).
pub fn sqlite_constraint_name(kind: &ErrorKind, message: &str) -> String {
    match kind {
        ErrorKind::ForeignKeyViolation => UNKNOWN_FOREIGN_KEY.to_owned(),
        ErrorKind::CheckViolation => {
            message.strip_prefix("CHECK constraint failed: ").unwrap_or(message).trim().to_owned()
        }
        _ => {
            let detail =
                message.strip_prefix("UNIQUE constraint failed: ").unwrap_or(message).trim();
            if let Some(index) = detail.strip_prefix("index '").and_then(|s| s.strip_suffix('\'')) {
                return index.to_owned();
            }
            if let Some((_, name)) =
                SQLITE_COLUMN_CONSTRAINTS.iter().find(|(cols, _)| *cols == detail)
            {
                return (*name).to_owned();
            }
            // `t.a, t.b` → `t_a_b_key`, PostgreSQL's default name for UNIQUE (a, b) on t.
            let mut table = None;
            let mut name = String::new();
            for qualified in detail.split(", ") {
                let (t, col) = qualified.split_once('.').unwrap_or(("", qualified));
                if table.is_none() {
                    table = Some(t);
                    name.push_str(t);
                }
                name.push('_');
                name.push_str(col);
            }
            name.push_str("_key");
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_constraint_names() {
        let unique = ErrorKind::UniqueViolation;
        assert_eq!(
            sqlite_constraint_name(&unique, "UNIQUE constraint failed: index 'users_username_key'"),
            "users_username_key"
        );
        assert_eq!(
            sqlite_constraint_name(&unique, "UNIQUE constraint failed: files.hash"),
            "files_hash_key"
        );
        assert_eq!(
            sqlite_constraint_name(
                &unique,
                "UNIQUE constraint failed: workspace_builds.workspace_id, workspace_builds.build_number"
            ),
            "workspace_builds_workspace_id_build_number_key"
        );
        assert_eq!(
            sqlite_constraint_name(
                &unique,
                "UNIQUE constraint failed: organization_members.org_id, organization_members.user_id"
            ),
            "organization_members_pkey"
        );
        assert_eq!(
            sqlite_constraint_name(
                &ErrorKind::CheckViolation,
                "CHECK constraint failed: users_status_check"
            ),
            "users_status_check"
        );
        assert_eq!(
            sqlite_constraint_name(
                &ErrorKind::ForeignKeyViolation,
                "FOREIGN KEY constraint failed"
            ),
            UNKNOWN_FOREIGN_KEY
        );
    }

    #[test]
    fn schema_too_new_message_is_clear() {
        let e = StoreError::SchemaTooNew { database: 7, binary: 3 };
        assert_eq!(
            e.to_string(),
            "database schema version 7 is newer than this atrium (3); upgrade atrium"
        );
    }
}
