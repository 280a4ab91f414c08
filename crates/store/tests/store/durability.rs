//! SQLite durability settings and the data-directory lock (SQLite-only by nature: a PostgreSQL
//! server has its own), and concurrent start-up on both backends.

use atrium_store::migrate::{self, MIGRATIONS};
use atrium_store::{Pool, Store, StoreError, users};

use crate::common::{self, TestDb};
use crate::fixtures;

async fn pragma(store: &Store, name: &str) -> String {
    let Pool::Sqlite(p) = store.pool() else { panic!("not sqlite") };
    let sql = format!("SELECT * FROM pragma_{name}");
    let v: sqlx::sqlite::SqliteRow =
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap();
    use sqlx::{Row, ValueRef};
    let raw = v.try_get_raw(0).unwrap();
    if raw.is_null() {
        return "NULL".into();
    }
    v.try_get::<String, _>(0).or_else(|_| v.try_get::<i64, _>(0).map(|i| i.to_string())).unwrap()
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_full_sync_foreign_keys_and_a_busy_timeout() {
    let db = TestDb::sqlite().await;
    assert!(common::db_file(db.sqlite_dir().unwrap()).is_file());
    assert_eq!(pragma(&db.store, "journal_mode").await, "wal");
    assert_eq!(pragma(&db.store, "synchronous").await, "2", "FULL");
    assert_eq!(pragma(&db.store, "foreign_keys").await, "1");
    assert_eq!(pragma(&db.store, "busy_timeout").await, "5000");
    db.finish().await;
}

#[tokio::test]
async fn a_second_server_is_refused_but_an_admin_command_may_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = Store::open_sqlite_exclusive(dir.path()).await.unwrap();
    assert!(common::db_file(dir.path()).exists());

    let err = Store::open_sqlite_exclusive(dir.path()).await.unwrap_err();
    assert!(matches!(&err, StoreError::Locked { path } if path == dir.path()), "{err:?}");
    assert_eq!(err.to_string(), format!("another atrium server is using {}", dir.path().display()));

    // `atrium reset-password` and friends open without the lock and write alongside.
    let admin = Store::open_sqlite(dir.path()).await.unwrap();
    let u = fixtures::user(&admin, "admin-made").await;
    users::update_password(&admin, u.id, Some("$argon2id$new"), atrium_store::DbTime::now())
        .await
        .unwrap();
    admin.close().await;
    let seen = users::get(&server, u.id).await.unwrap();
    assert_eq!(seen.hashed_password.as_deref(), Some("$argon2id$new"));

    // The lock goes with the last clone of the server's store.
    let clone = server.clone();
    server.close().await;
    drop(server);
    assert!(matches!(
        Store::open_sqlite_exclusive(dir.path()).await,
        Err(StoreError::Locked { .. })
    ));
    drop(clone);
    let again = Store::open_sqlite_exclusive(dir.path()).await.unwrap();
    assert_eq!(users::get(&again, u.id).await.unwrap().id, u.id);
    again.close().await;
}

#[tokio::test]
async fn open_sqlite_takes_a_directory_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("data");
    let s = Store::open_sqlite(&nested).await.unwrap();
    assert!(common::db_file(&nested).exists());
    s.close().await;
    let file = dir.path().join("custom.sqlite");
    let s = Store::open_sqlite(&file).await.unwrap();
    assert!(file.is_file());
    s.close().await;
}

/// The race behind `concurrent_start_migrates_once`'s flake: switching a blank database to WAL
/// needs the exclusive lock, and SQLite answers `SQLITE_BUSY` at once (no busy wait) when another
/// connection holds the write lock, so an opener racing another one failed with "database is
/// locked". Now it waits. Deterministic: the other writer lets go only once the opener has said
/// it is waiting, and on the old code the open fails while the lock is still held.
#[tokio::test(flavor = "current_thread")]
async fn opening_a_blank_database_waits_while_another_connection_writes() {
    use sqlx::Connection;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

    let dir = tempfile::tempdir().unwrap();
    let file = common::db_file(dir.path());
    let options = SqliteConnectOptions::new().filename(&file).create_if_missing(true);
    let mut writer = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut writer).await.unwrap();

    // The current-thread runtime polls the opener on this thread: only its events count.
    let waiting = notify_on::events_on_this_thread("waiting for another opener");
    let mut open = tokio::spawn(Store::open_sqlite(dir.path().to_path_buf()));
    tokio::select! {
        r = &mut open => panic!(
            "the open ended while another connection held the write lock: {:?}",
            r.unwrap().err()
        ),
        () = waiting.notified() => {}
    }
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();
    let store = open.await.unwrap().unwrap();
    assert_eq!(pragma(&store, "journal_mode").await, "wal");
    assert_eq!(migrate::applied(&store).await.unwrap().len(), MIGRATIONS.len());
    store.close().await;
    writer.close().await.unwrap();
}

/// Wakes a test when this thread logs an event whose message contains a given text. A global
/// subscriber (set once for the binary): a thread-local one misses events when other threads
/// register the same callsite first.
mod notify_on {
    use std::fmt::Debug;
    use std::sync::{Arc, Mutex, Once};
    use std::thread::ThreadId;

    use tokio::sync::Notify;
    use tracing::field::{Field, Visit};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    type Watch = (ThreadId, &'static str, Arc<Notify>);
    static WATCHES: Mutex<Vec<Watch>> = Mutex::new(Vec::new());
    static INSTALL: Once = Once::new();

    pub fn events_on_this_thread(needle: &'static str) -> Arc<Notify> {
        INSTALL.call_once(|| {
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Watcher))
                .unwrap();
        });
        let notify = Arc::new(Notify::new());
        WATCHES.lock().unwrap().push((std::thread::current().id(), needle, notify.clone()));
        notify
    }

    struct Watcher;

    struct Message<'a>(&'a str, bool);

    impl Visit for Message<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            if field.name() == "message" && format!("{value:?}").contains(self.0) {
                self.1 = true;
            }
        }
    }

    impl<S: Subscriber> Layer<S> for Watcher {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let me = std::thread::current().id();
            for (thread, needle, notify) in WATCHES.lock().unwrap().iter() {
                let mut m = Message(needle, false);
                event.record(&mut m);
                if *thread == me && m.1 {
                    notify.notify_one();
                }
            }
        }
    }
}

/// Replicas (or a server and an admin command) starting together on a blank database: each
/// migration is applied exactly once and every opener succeeds.
async fn concurrent_opens(open: impl Fn() -> futures_open::Open) {
    let results = futures_open::join_all((0..4).map(|_| open())).await;
    let stores: Vec<Store> = results.into_iter().map(|r| r.unwrap()).collect();
    for s in &stores {
        assert_eq!(migrate::applied(s).await.unwrap().len(), MIGRATIONS.len());
    }
    for s in stores {
        s.close().await;
    }
}

/// A minimal join_all, to avoid a futures dependency for one test.
mod futures_open {
    use std::future::Future;
    use std::pin::Pin;

    use atrium_store::{Store, StoreError};

    pub type Open = Pin<Box<dyn Future<Output = Result<Store, StoreError>> + Send>>;

    pub async fn join_all(opens: impl Iterator<Item = Open>) -> Vec<Result<Store, StoreError>> {
        let handles: Vec<_> = opens.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}

mod concurrent_start_migrates_once {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        concurrent_opens(|| {
            let p = path.clone();
            Box::pin(async move { Store::open_sqlite(p).await })
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(blank) = common::BlankPostgres::create().await else { return };
        let url = blank.url.clone();
        concurrent_opens(|| {
            let u = url.clone();
            Box::pin(async move { Store::open_postgres(&u).await })
        })
        .await;
        blank.drop_database().await;
    }
}
