//! Throwaway PostgreSQL databases on the test cluster `scripts/postgres` starts, shared by the
//! server's and the CLI's integration tests: one fresh database per test server, dropped when
//! the test stops it (a full suite makes hundreds; left behind, they fill the disk).

#![allow(clippy::expect_used, clippy::panic)] // test support: a broken cluster ends the test

/// The test cluster's URL. Without one the PostgreSQL half fails, unless
/// `ATRIUM_SKIP_POSTGRES=1` asks to skip it (then `None`, with a note): a plain `cargo test`
/// never passes a half it did not run.
pub fn base_url() -> Option<String> {
    match std::env::var("ATRIUM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("ATRIUM_SKIP_POSTGRES").as_deref() == Ok("1"),
                "ATRIUM_TEST_POSTGRES_URL is not set: run scripts/test (it starts PostgreSQL), \
                 or set ATRIUM_SKIP_POSTGRES=1 to skip the PostgreSQL half"
            );
            eprintln!("note: ATRIUM_SKIP_POSTGRES=1; skipping the PostgreSQL half of this test");
            None
        }
    }
}

/// A fresh, empty database on the test cluster, dropped when this value is dropped (also when
/// its test panics or forgets to stop its server) or by [`Database::drop_now`].
pub struct Database {
    url: Option<String>,
}

impl Database {
    /// A new database named `{prefix}_{uuid}`, or `None` when PostgreSQL is skipped.
    pub async fn fresh(prefix: &str) -> Option<Database> {
        let base = base_url()?;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&base).await.expect("connect to the test cluster");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
        Some(Database { url: Some(format!("{prefix}/{name}")) })
    }

    pub fn url(&self) -> &str {
        self.url.as_deref().unwrap_or_default()
    }

    /// Drops it now, from async code.
    pub async fn drop_now(mut self) {
        if let Some(url) = self.url.take() {
            drop_database(&url).await;
        }
    }
}

/// `Drop` cannot await: the drop runs on a thread of its own with a small runtime.
impl Drop for Database {
    fn drop(&mut self) {
        let Some(url) = self.url.take() else { return };
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(drop_database(&url));
            }
        });
        let _ = dropping.join();
    }
}

/// Drops a database by URL, closing connections still open to it.
async fn drop_database(url: &str) {
    let (Some(base), Some((_, name))) = (base_url(), url.rsplit_once('/')) else { return };
    let Ok(admin) = sqlx::PgPool::connect(&base).await else { return };
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await {
        eprintln!("note: test database {name} not dropped: {e}");
    }
    admin.close().await;
}
