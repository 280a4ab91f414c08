//! The store's one error type, and the one place that turns database constraint violations into
//! [`StoreError::Unique`], [`StoreError::ForeignKey`] or [`StoreError::Check`] with the
//! constraint's name. The three are distinct variants so that code matching "already exists"
//! (a unique violation) cannot also catch a missing referenced row or a failed check.
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
//!   The variant ([`StoreError::ForeignKey`]) comes from the error's kind, not from the name, so it
//!   is right on both backends ([`StoreError::is_foreign_key_conflict`]).
//!
//! A few rules the schema cannot express are checked in code under a lock, and refused with the
//! variant of the constraint they stand for: one active build per workspace is `Unique`
//! ([`crate::workspaces::ACTIVE_BUILD`]); a user or template still used by a live workspace is
//! `ForeignKey` ([`crate::workspaces::OWNER_HAS_WORKSPACES`],
//! [`crate::workspaces::TEMPLATE_HAS_WORKSPACES`]); the default organization's deletion is
//! `Check` ([`crate::orgs::DEFAULT_UNDELETABLE`]).

use std::path::PathBuf;

use sqlx::error::ErrorKind;

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
    ("user_password_resets.user_id", "user_password_resets_pkey"),
    (
        "template_version_variables.template_version_id, template_version_variables.name",
        "template_version_variables_pkey",
    ),
    ("schema_migrations.version", "schema_migrations_pkey"),
    ("users.id", "users_pkey"),
    ("organizations.id", "organizations_pkey"),
    ("custom_roles.id", "custom_roles_pkey"),
    ("site_roles.id", "site_roles_pkey"),
    ("oidc_login_states.state_hash", "oidc_login_states_pkey"),
    ("user_links.user_id, user_links.login_type", "user_links_pkey"),
    ("idp_sync_settings.setting_key", "idp_sync_settings_pkey"),
    ("groups.id", "groups_pkey"),
    ("files.id", "files_pkey"),
    ("provisioner_jobs.id", "provisioner_jobs_pkey"),
    ("provisioner_job_resources.id", "provisioner_job_resources_pkey"),
    ("templates.id", "templates_pkey"),
    ("template_versions.id", "template_versions_pkey"),
    ("workspaces.id", "workspaces_pkey"),
    ("workspace_builds.id", "workspace_builds_pkey"),
    ("api_keys.id", "api_keys_pkey"),
    ("audit_logs.id", "audit_logs_pkey"),
    ("cache_changes.seq", "cache_changes_pkey"),
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist (or is soft-deleted, where the query says so).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A unique constraint (or primary key) refused the write: the row already exists.
    /// `constraint` is its name from the migrations.
    #[error("unique constraint `{constraint}` violated")]
    Unique { constraint: String },
    /// A foreign key refused the write: a referenced row is missing, or the row is still
    /// referenced. `constraint` is its name from the migrations; on SQLite, which does not say
    /// which foreign key failed, [`UNKNOWN_FOREIGN_KEY`].
    #[error("foreign key `{constraint}` violated")]
    ForeignKey { constraint: String },
    /// A check constraint refused the write. `constraint` is its name from the migrations.
    #[error("check constraint `{constraint}` violated")]
    Check { constraint: String },
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
    /// Whether this is a foreign-key violation: a referenced row is missing (or still referenced).
    pub fn is_foreign_key_conflict(&self) -> bool {
        matches!(self, StoreError::ForeignKey { .. })
    }

    /// The constraint name, if this is a constraint violation (unique, foreign key or check).
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Unique { constraint }
            | StoreError::ForeignKey { constraint }
            | StoreError::Check { constraint } => Some(constraint),
            _ => None,
        }
    }
}

/// Reading a row that may be missing: `NotFound` becomes `Ok(None)`; every other error stays an
/// error, so a database failure is never mistaken for a missing row (as `.ok()` would).
pub trait Optional<T> {
    fn optional(self) -> Result<Option<T>, StoreError>;
}

impl<T> Optional<T> for Result<T, StoreError> {
    fn optional(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(row) => Ok(Some(row)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// THE helper: every sqlx error reaches callers through here, so a constraint violation always
/// becomes `Unique`, `ForeignKey` or `Check` with the constraint's name, whichever backend
/// raised it.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            let kind = db.kind();
            if let Some(variant) = violation(&kind) {
                // PostgreSQL names the constraint; SQLite never does.
                let constraint = match db.constraint() {
                    Some(name) => name.to_owned(),
                    None => sqlite_constraint_name(&kind, db.message()),
                };
                return variant(constraint);
            }
        }
        StoreError::Database(e)
    }
}

/// The variant a database error kind becomes, if it is a constraint violation.
fn violation(kind: &ErrorKind) -> Option<fn(String) -> StoreError> {
    match kind {
        ErrorKind::UniqueViolation => Some(|constraint| StoreError::Unique { constraint }),
        ErrorKind::ForeignKeyViolation => Some(|constraint| StoreError::ForeignKey { constraint }),
        ErrorKind::CheckViolation => Some(|constraint| StoreError::Check { constraint }),
        _ => None,
    }
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

    /// A database error as a driver reports it: PostgreSQL names the constraint, SQLite does not.
    #[derive(Debug)]
    struct FakeDbError {
        kind: ErrorKind,
        message: &'static str,
        constraint: Option<&'static str>,
    }

    impl std::fmt::Display for FakeDbError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.message)
        }
    }

    impl std::error::Error for FakeDbError {}

    impl sqlx::error::DatabaseError for FakeDbError {
        fn message(&self) -> &str {
            self.message
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn constraint(&self) -> Option<&str> {
            self.constraint
        }
        fn kind(&self) -> ErrorKind {
            match &self.kind {
                ErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
                ErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
                ErrorKind::CheckViolation => ErrorKind::CheckViolation,
                ErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
                _ => ErrorKind::Other,
            }
        }
    }

    fn store_error(
        kind: ErrorKind,
        message: &'static str,
        constraint: Option<&'static str>,
    ) -> StoreError {
        sqlx::Error::Database(Box::new(FakeDbError { kind, message, constraint })).into()
    }

    #[test]
    fn a_unique_violation_is_unique_on_both_backends() {
        let pg = store_error(ErrorKind::UniqueViolation, "duplicate key", Some("users_email_key"));
        assert!(
            matches!(&pg, StoreError::Unique { constraint } if constraint == "users_email_key")
        );
        let sqlite = store_error(
            ErrorKind::UniqueViolation,
            "UNIQUE constraint failed: index 'users_username_key'",
            None,
        );
        assert!(
            matches!(&sqlite, StoreError::Unique { constraint } if constraint == "users_username_key")
        );
        assert_eq!(sqlite.constraint(), Some("users_username_key"));
        assert!(!sqlite.is_foreign_key_conflict());
    }

    #[test]
    fn a_foreign_key_violation_is_foreign_key_on_both_backends() {
        let pg = store_error(
            ErrorKind::ForeignKeyViolation,
            "insert or update violates foreign key constraint",
            Some("organization_members_user_id_fkey"),
        );
        assert!(matches!(
            &pg,
            StoreError::ForeignKey { constraint } if constraint == "organization_members_user_id_fkey"
        ));
        assert!(pg.is_foreign_key_conflict());
        let sqlite =
            store_error(ErrorKind::ForeignKeyViolation, "FOREIGN KEY constraint failed", None);
        assert!(
            matches!(&sqlite, StoreError::ForeignKey { constraint } if constraint == UNKNOWN_FOREIGN_KEY)
        );
        assert_eq!(sqlite.constraint(), Some(UNKNOWN_FOREIGN_KEY));
        assert!(sqlite.is_foreign_key_conflict());
    }

    #[test]
    fn a_check_violation_is_check_on_both_backends() {
        let pg =
            store_error(ErrorKind::CheckViolation, "violates check", Some("users_status_check"));
        assert!(
            matches!(&pg, StoreError::Check { constraint } if constraint == "users_status_check")
        );
        let sqlite = store_error(
            ErrorKind::CheckViolation,
            "CHECK constraint failed: users_status_check",
            None,
        );
        assert!(
            matches!(&sqlite, StoreError::Check { constraint } if constraint == "users_status_check")
        );
        assert_eq!(sqlite.constraint(), Some("users_status_check"));
        assert!(!sqlite.is_foreign_key_conflict());
    }

    #[test]
    fn other_database_errors_stay_database_errors() {
        // A name ending in `_fkey` does not make a unique violation a foreign-key one.
        let unique = store_error(ErrorKind::UniqueViolation, "duplicate", Some("odd_fkey"));
        assert!(matches!(unique, StoreError::Unique { .. }));
        assert!(!unique.is_foreign_key_conflict());
        let not_null = store_error(ErrorKind::NotNullViolation, "NOT NULL constraint failed", None);
        assert!(matches!(not_null, StoreError::Database(_)), "{not_null:?}");
        assert_eq!(not_null.constraint(), None);
        let other = store_error(ErrorKind::Other, "disk I/O error", None);
        assert!(matches!(other, StoreError::Database(_)), "{other:?}");
        assert!(!other.is_foreign_key_conflict());
    }

    #[test]
    fn optional_keeps_every_error_but_not_found() {
        let found: Result<u8, StoreError> = Ok(1);
        assert_eq!(found.optional().unwrap(), Some(1));
        let missing: Result<u8, StoreError> = Err(StoreError::NotFound { entity: "user" });
        assert_eq!(missing.optional().unwrap(), None);
        let failed: Result<u8, StoreError> = Err(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert!(matches!(failed.optional(), Err(StoreError::Database(_))));
        let refused: Result<u8, StoreError> =
            Err(StoreError::Check { constraint: "users_status_check".into() });
        assert!(matches!(refused.optional(), Err(StoreError::Check { .. })));
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
