//! Atrium's storage: one SQL code path on embedded SQLite and on PostgreSQL.
//!
//! - [`Store`] holds a typed pool of either backend (no `Any` driver, no compile-time query
//!   macros). Every query is one SQL text with `$1` placeholders, run through [`on_conn!`]-style
//!   matching on the backend, and decoded into one `#[derive(FromRow)]` struct for both.
//! - Query functions live in one module per resource ([`users`], [`orgs`], ...), one function per
//!   query, and take `impl Into<Db>`: `&store` for the pool, `&mut tx` inside a [`Tx`] (so a
//!   handler writes a change and its audit row atomically).
//! - [`StoreError`] is the one error type; unique, foreign-key and check violations become
//!   `Unique`, `ForeignKey` and `Check { constraint }`, distinct variants with the constraint's
//!   name, in one place ([`error`]).
//!
//! # Schema decisions
//!
//! One portable migration tree (`crates/store/migrations/NNNN_name.sql`, append-only, one
//! version sequence), written in the SQL both backends share: ids are `TEXT` uuids
//! ([`id`]), times `BIGINT` unix microseconds ([`DbTime`]), JSON `TEXT` ([`value::JsonText`]),
//! booleans `BOOLEAN`, ACL action sets `INTEGER` bitmasks, and every constraint is named. One
//! tree rather than two lock-step dialect folders: nothing can drift, and there is no schema
//! comparison test to maintain. The price is giving up native `UUID`/`TIMESTAMPTZ`/`JSONB` on
//! PostgreSQL; nothing queries inside JSON, and integers sort and compare exactly on both.
//! The few real differences live in [`dialect`]: binary columns are declared `BLOB`, which
//! PostgreSQL gets as a domain over `bytea` created before the first migration; the job-queue
//! claim adds `FOR UPDATE SKIP LOCKED` on PostgreSQL; the migrator's advisory lock.
//!
//! Case-insensitive uniqueness uses `lower()` indexes. SQLite's `lower()` folds ASCII only;
//! PostgreSQL's follows the database's locale (ASCII only under the C locale the test cluster
//! uses). Coder usernames are ASCII, so the two agree on them.
//!
//! # Durability and concurrency
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, foreign keys on and a 5 s busy timeout;
//! write transactions begin with `BEGIN IMMEDIATE`. A server opens its data directory with
//! [`Store::open_sqlite_exclusive`], which holds an OS lock on `<dir>/atrium.lock`; offline admin
//! commands use [`Store::open_sqlite`], which takes no lock and may write alongside.

pub mod authz_sql;
pub mod batch;
pub mod db;
pub mod dialect;
pub mod error;
pub mod id;
pub mod migrate;
pub mod time;
pub mod value;

mod acl;

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod files;
pub mod groups;
pub mod idp_sync;
pub mod job_resources;
pub mod jobs;
pub mod lists;
pub mod oidc;
pub mod orgs;
pub mod password_resets;
pub mod pubsub;
pub mod roles;
pub mod singleton;
pub mod site_roles;
pub mod subject_facts;
pub mod template_variables;
pub mod templates;
pub mod users;
pub mod workspace_list;
pub mod workspace_view;
pub mod workspaces;

pub use db::{Backend, ChangeHook, Db, Pool, Store, Tx};
pub use error::StoreError;
pub use id::{
    AuditLogId, CustomRoleId, FileId, GroupId, JobId, OrgId, ResourceId, TemplateId,
    TemplateVersionId, UserId, WorkspaceBuildId, WorkspaceId,
};
pub use time::DbTime;
pub use value::{
    Acl, BuildReason, BuildTransition, GroupSource, JobKind, JsonText, LogLevel, LoginType,
    UserStatus,
};
