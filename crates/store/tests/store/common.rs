//! `TestDb`: a fresh database per test, on SQLite (a temp file) or PostgreSQL (a new database
//! cloned from a pre-migrated template), and the `store_test!` macro that runs a test body on
//! both.
//!
//! PostgreSQL comes from `ATRIUM_TEST_POSTGRES_URL` (see `scripts/postgres`; `scripts/test` starts
//! one). Without it the PostgreSQL half fails, unless `ATRIUM_SKIP_POSTGRES=1` asks to skip it
//! (with a note), so a plain `cargo test` never passes a half it did not run.

use std::path::{Path, PathBuf};

use atrium_store::migrate::MIGRATIONS;
use atrium_store::{Store, StoreError};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub const PG_URL_VAR: &str = "ATRIUM_TEST_POSTGRES_URL";

/// A throwaway database and the store opened on it.
pub struct TestDb {
    pub store: Store,
    kind: Kind,
}

enum Kind {
    Sqlite { dir: tempfile::TempDir },
    Postgres { admin_url: String, url: String, name: String },
}

/// Asserts that a store error is the given constraint-violation variant (`Unique`, `ForeignKey`
/// or `Check`) on the named constraint: `assert_violation!(err, Unique, "users_username_key")`.
#[macro_export]
macro_rules! assert_violation {
    ($err:expr, $variant:ident, $constraint:expr) => {{
        let err = &$err;
        assert!(
            matches!(err, atrium_store::StoreError::$variant { constraint } if constraint == $constraint),
            "expected {} on `{}`, got {err:?}",
            stringify!($variant),
            $constraint,
        );
    }};
}

/// Runs `async fn name(db) { ... }` twice: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! store_test {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $db = $crate::common::TestDb::sqlite().await;
                $body
                $db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some($db) = $crate::common::TestDb::postgres().await else { return };
                $body
                $db.finish().await;
            }
        }
    };
}

impl TestDb {
    /// A store on a new SQLite file in a temp data directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        TestDb { store, kind: Kind::Sqlite { dir } }
    }

    /// A store on a new PostgreSQL database, or `None` (with a note) when
    /// `ATRIUM_SKIP_POSTGRES=1` skips PostgreSQL.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = Self::postgres_admin_url()?;
        let template = template(&admin_url).await;
        let name = format!("t_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        // Concurrent clones of one template can collide while another session briefly holds
        // the template; retry a few times.
        let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut attempt = 0;
        loop {
            match admin.execute(sqlx::AssertSqlSafe(create.clone())).await {
                Ok(_) => break,
                Err(e) if attempt < 20 => {
                    eprintln!("retrying {create}: {e}");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{create}: {e}"),
            }
        }
        admin.close().await.unwrap();
        let url = with_database(&admin_url, &name);
        let store = Store::open_postgres(&url).await.unwrap();
        Some(TestDb { store, kind: Kind::Postgres { admin_url, url, name } })
    }

    /// The admin URL, or `None` (with a note) when `ATRIUM_SKIP_POSTGRES=1` skips PostgreSQL.
    pub fn postgres_admin_url() -> Option<String> {
        match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var("ATRIUM_SKIP_POSTGRES").as_deref() == Ok("1"),
                    "{PG_URL_VAR} is not set: run scripts/test (it starts PostgreSQL), or set \
                     ATRIUM_SKIP_POSTGRES=1 to skip the PostgreSQL half"
                );
                eprintln!(
                    "note: ATRIUM_SKIP_POSTGRES=1; skipping the PostgreSQL half of this test"
                );
                None
            }
        }
    }

    /// Opens another store on the same database (as a restarted process would).
    pub async fn reopen(&self) -> Result<Store, StoreError> {
        match &self.kind {
            Kind::Sqlite { dir } => Store::open_sqlite(dir.path()).await,
            Kind::Postgres { url, .. } => Store::open_postgres(url).await,
        }
    }

    /// The PostgreSQL database URL (None on SQLite).
    pub fn url(&self) -> Option<&str> {
        match &self.kind {
            Kind::Sqlite { .. } => None,
            Kind::Postgres { url, .. } => Some(url),
        }
    }

    /// The SQLite data directory (None on PostgreSQL).
    pub fn sqlite_dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite { dir } => Some(dir.path()),
            Kind::Postgres { .. } => None,
        }
    }

    /// Closes the store and drops the PostgreSQL database (best effort).
    pub async fn finish(self) {
        self.store.close().await;
        if let Kind::Postgres { admin_url, name, .. } = &self.kind
            && let Ok(mut admin) = PgConnection::connect(admin_url).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
            let _ = admin.close().await;
        }
    }
}

/// An empty, unmigrated PostgreSQL database, for start-up tests.
pub struct BlankPostgres {
    pub url: String,
    admin_url: String,
    name: String,
}

impl BlankPostgres {
    pub async fn create() -> Option<BlankPostgres> {
        let admin_url = TestDb::postgres_admin_url()?;
        let name = format!("b_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        admin.close().await.unwrap();
        Some(BlankPostgres { url: with_database(&admin_url, &name), admin_url, name })
    }

    pub async fn drop_database(self) {
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = admin.execute(sqlx::AssertSqlSafe(drop)).await;
            let _ = admin.close().await;
        }
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The name of a migrated template database for this binary's migrations, creating it once.
/// The name carries a fingerprint of the migrations, so a changed tree gets a new template.
/// Test processes (nextest runs one per test) serialize creation on an advisory lock, and build
/// it under a temporary name that is renamed when complete, so a crash never leaves a
/// half-migrated template behind.
async fn template(admin_url: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("atrium_tpl_{:016x}", fingerprint());
            let building = format!("{name}_building");
            let mut admin = PgConnection::connect(admin_url).await.unwrap();
            admin.execute("SELECT pg_advisory_lock(4242424242)").await.unwrap();
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(&mut admin)
                    .await
                    .unwrap();
            if exists.is_none() {
                for sql in [
                    format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
                }
                let store =
                    Store::open_postgres(&with_database(admin_url, &building)).await.unwrap();
                store.close().await;
                let rename = format!("ALTER DATABASE {building} RENAME TO {name}");
                admin.execute(sqlx::AssertSqlSafe(rename)).await.unwrap();
            }
            admin.execute("SELECT pg_advisory_unlock(4242424242)").await.unwrap();
            admin.close().await.unwrap();
            name
        })
        .await
        .clone()
}

/// FNV-1a over every migration's version, name and text.
fn fingerprint() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in MIGRATIONS {
        for b in m.version.to_le_bytes().iter().chain(m.name.as_bytes()).chain(m.sql.as_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A unique suffix for names, so rows made by one test never collide with another's.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..8])
}

/// The SQLite database file of a data directory.
pub fn db_file(dir: &Path) -> PathBuf {
    dir.join(atrium_store::db::DB_FILE)
}
