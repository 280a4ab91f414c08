//! The store handle, its two typed pools, transactions, and the [`on_conn!`] macro that runs one
//! SQL text on whichever backend is open.
//!
//! Every query function takes `db: impl Into<Db<'_>>`, so it runs on the pool (`&store`) or
//! inside a caller's transaction (`&mut tx`) with the same code:
//!
//! ```ignore
//! let mut tx = store.begin().await?;
//! let ws = workspaces::rename(&mut tx, id, "new-name", now).await?;
//! audit::insert(&mut tx, &entry).await?;
//! tx.commit().await?;
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    Connection, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction,
};

use crate::error::StoreError;
use crate::migrate;

/// The database file inside a data directory.
pub const DB_FILE: &str = "atrium.db";
/// The lock file inside a data directory, held by a running server.
pub const LOCK_FILE: &str = "atrium.lock";

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pool sizes. SQLite has one writer at a time anyway; readers run concurrently under WAL.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
const PG_MAX_CONNECTIONS: u32 = 10;

/// Which backend a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The typed pools. No `Any` driver: it cannot carry `BOOLEAN` on SQLite (stack.md §2).
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// An open, migrated database. Cheap to clone (the pools are reference-counted).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// The data directory's lock, for a server store; released when the last clone drops.
    _lock: Option<Arc<DataDirLock>>,
    /// Told, after each commit of a [`Store::begin`] transaction, what cached data it changed
    /// (see [`crate::changes`]). Unset for offline admin commands.
    change_hook: Arc<OnceLock<ChangeHook>>,
}

/// Called after a transaction commits with the changes its triggers recorded (the users whose
/// session facts, the workspaces whose views changed).
pub type ChangeHook = Arc<dyn Fn(Vec<crate::changes::Change>) + Send + Sync>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("pool", &self.pool).finish_non_exhaustive()
    }
}

/// An exclusive OS advisory lock on `<dir>/atrium.lock`, held while the file stays open.
#[derive(Debug)]
struct DataDirLock {
    _file: File,
}

impl Store {
    /// Opens (creating if missing) a SQLite database and migrates it. `path` is a data directory
    /// (the database is `<dir>/atrium.db`) when it is an existing directory or has no extension,
    /// otherwise the database file itself. Takes no lock: offline admin commands (e.g.
    /// `reset-password`) use this and may write while a server runs; SQLite's own locking and
    /// the busy timeout serialize the writes.
    pub async fn open_sqlite(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let file = sqlite_file(path.as_ref())?;
        Self::open_sqlite_file(&file, None).await
    }

    /// Opens a data directory for a server: takes the directory's lock first and refuses with
    /// [`StoreError::Locked`] while another server holds it.
    pub async fn open_sqlite_exclusive(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let dir = dir.as_ref();
        create_dir(dir)?;
        private(dir, 0o700)?;
        let lock_path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&lock_path)
            .map_err(|source| StoreError::Io { path: lock_path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: dir.to_path_buf() });
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io { path: lock_path, source });
            }
        }
        let lock = Arc::new(DataDirLock { _file: file });
        Self::open_sqlite_file(&dir.join(DB_FILE), Some(lock)).await
    }

    async fn open_sqlite_file(
        file: &Path,
        lock: Option<Arc<DataDirLock>>,
    ) -> Result<Store, StoreError> {
        private_db_files(file)?;
        // Durability: WAL with synchronous=FULL fsyncs the WAL on every commit, so an
        // acknowledged write survives power loss, not just a crash of the process. WAL is a
        // setting of the file, made once by `enable_wal` before the pool opens; the pool's
        // connections then find it there and set no journal mode of their own.
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        enable_wal(&options).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        let store = Store { pool: Pool::Sqlite(pool), _lock: lock, change_hook: Arc::default() };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Connects to PostgreSQL and migrates the database (safe when replicas start together: the
    /// migrator serializes on an advisory lock).
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool =
            PgPoolOptions::new().max_connections(PG_MAX_CONNECTIONS).connect_with(options).await?;
        let store = Store { pool: Pool::Pg(pool), _lock: None, change_hook: Arc::default() };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    /// The raw pool, for the store's own tests and tools. Servers must go through the query
    /// functions: SQL lives in this crate.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite, so it takes the write lock at
    /// once and never fails later upgrading a read lock). Dropped without `commit`, it rolls
    /// back.
    pub async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Pg(p) => TxConn::Pg(p.begin().await?),
        };
        Ok(Tx { conn, change_hook: self.change_hook.get().cloned() })
    }

    /// Installs the hook told after each commit what cached data changed (the server's
    /// caches). Once per store; later calls are ignored.
    pub fn on_change(&self, hook: ChangeHook) {
        let _ = self.change_hook.set(hook);
    }

    /// Closes the pools (waits for connections to be returned). The data-dir lock is released
    /// when the last clone of the store is dropped.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Pg(p) => p.close().await,
        }
    }
}

/// Puts a SQLite database in WAL mode, waiting (up to the busy timeout) for other openers.
///
/// Switching a blank database to WAL needs the exclusive lock, and SQLite does not wait for it
/// through the busy handler when another connection holds the write lock (it answers
/// `SQLITE_BUSY` at once, to avoid a deadlock). Two processes opening a blank database together
/// — replicas, a server and an admin command — each switch it, so one of them used to fail with
/// "database is locked". Here the switch is retried until it is done (by us or by the other
/// opener: WAL is then already set) or the busy timeout has passed. The connection's own busy
/// handler is off for it, so every wait goes through this one loop (a busy handler would wait
/// out the whole timeout in some lock states and leave nothing to retry).
async fn enable_wal(options: &SqliteConnectOptions) -> Result<(), StoreError> {
    let mut conn = SqliteConnection::connect_with(options).await?;
    sqlx::query("PRAGMA busy_timeout = 0").execute(&mut conn).await?;
    let deadline = Instant::now() + SQLITE_BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    let result = loop {
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(&mut conn)
            .await
        {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => break Ok(()),
            Ok(mode) => {
                break Err(StoreError::Migration(format!(
                    "the database cannot use WAL (its journal mode stays `{mode}`)"
                )));
            }
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                tracing::debug!("database busy: waiting for another opener to switch it to WAL");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => break Err(e.into()),
        }
    };
    conn.close().await?;
    result
}

/// Whether a SQLite error is `SQLITE_BUSY` (any extended form).
fn is_busy(e: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i32 = 5;
    let sqlx::Error::Database(db) = e else { return false };
    db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == SQLITE_BUSY)
}

/// Resolves `open_sqlite`'s argument to the database file, creating the directory it lives in.
fn sqlite_file(path: &Path) -> Result<PathBuf, StoreError> {
    let is_dir = path.is_dir() || (!path.exists() && path.extension().is_none());
    if is_dir {
        create_dir(path)?;
        Ok(path.join(DB_FILE))
    } else {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dir(parent)?;
        }
        Ok(path.to_path_buf())
    }
}

/// Sets `path`'s mode (owner-only modes for the data directory and the database files, so
/// no other OS user, such as the provisioner's, can read or change them).
#[cfg(unix)]
fn private(path: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|source| StoreError::Io { path: path.to_path_buf(), source })
}

#[cfg(not(unix))]
fn private(_: &Path, _: u32) -> Result<(), StoreError> {
    Ok(())
}

/// Creates the database file mode 0600 if missing (SQLite gives its `-wal` and `-shm` files
/// the database file's mode) and narrows existing files to 0600.
fn private_db_files(file: &Path) -> Result<(), StoreError> {
    if !file.exists() {
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(file).map_err(|source| StoreError::Io { path: file.to_path_buf(), source })?;
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            private(&path, 0o600)?;
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| StoreError::Io { path: dir.to_path_buf(), source })
}

/// A transaction on either backend. Commit it explicitly; dropping it rolls back.
pub struct Tx<'c> {
    pub(crate) conn: TxConn<'c>,
    /// Set on [`Store::begin`]'s transactions of a server store: the commit collects the
    /// changes the triggers recorded and reports them after committing.
    change_hook: Option<ChangeHook>,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("conn", &self.conn).finish_non_exhaustive()
    }
}

/// The transaction's connection.
#[derive(Debug)]
pub(crate) enum TxConn<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Pg(Transaction<'c, Postgres>),
}

impl<'c> Tx<'c> {
    fn nested(conn: TxConn<'c>) -> Self {
        Tx { conn, change_hook: None }
    }

    /// Commits; then tells the store's hook what cached data changed (after the commit, so
    /// no cache can re-read the old state once it has been told).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let changed = match self.change_hook {
            Some(_) => crate::changes::take_own(&mut self).await?,
            None => Vec::new(),
        };
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Pg(t) => t.commit().await?,
        }
        if let Some(hook) = self.change_hook
            && !changed.is_empty()
        {
            hook(changed);
        }
        Ok(())
    }

    /// Rolls back (also what dropping does).
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await?,
            TxConn::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }

    pub(crate) fn get(&mut self) -> ConnRef<'_> {
        match &mut self.conn {
            TxConn::Sqlite(t) => ConnRef::Sqlite(t),
            TxConn::Pg(t) => ConnRef::Pg(t),
        }
    }
}

/// Where a query runs: the pool, or a caller's transaction. Made from `&Store` or `&mut Tx`.
#[derive(Debug)]
pub enum Db<'a> {
    Pool(&'a Pool),
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

impl<'a> From<&'a Store> for Db<'a> {
    fn from(store: &'a Store) -> Self {
        Db::Pool(&store.pool)
    }
}

impl<'a> From<&'a Pool> for Db<'a> {
    fn from(pool: &'a Pool) -> Self {
        Db::Pool(pool)
    }
}

impl<'a, 'c> From<&'a mut Tx<'c>> for Db<'a> {
    fn from(tx: &'a mut Tx<'c>) -> Self {
        match &mut tx.conn {
            TxConn::Sqlite(t) => Db::Sqlite(t),
            TxConn::Pg(t) => Db::Pg(t),
        }
    }
}

impl<'a> Db<'a> {
    /// A connection to run statements on: one from the pool, or the transaction's.
    pub(crate) async fn conn(self) -> Result<Conn<'a>, StoreError> {
        Ok(match self {
            Db::Pool(Pool::Sqlite(p)) => Conn::SqlitePooled(p.acquire().await?),
            Db::Pool(Pool::Pg(p)) => Conn::PgPooled(p.acquire().await?),
            Db::Sqlite(c) => Conn::Sqlite(c),
            Db::Pg(c) => Conn::Pg(c),
        })
    }
}

/// A connection held for one query function.
pub(crate) enum Conn<'a> {
    SqlitePooled(PoolConnection<Sqlite>),
    PgPooled(PoolConnection<Postgres>),
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

/// A borrowed connection of either backend: what [`on_conn!`] matches on.
pub(crate) enum ConnRef<'c> {
    Sqlite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    pub(crate) fn get(&mut self) -> ConnRef<'_> {
        match self {
            Conn::SqlitePooled(c) => ConnRef::Sqlite(c),
            Conn::PgPooled(c) => ConnRef::Pg(c),
            Conn::Sqlite(c) => ConnRef::Sqlite(c),
            Conn::Pg(c) => ConnRef::Pg(c),
        }
    }

    /// A transaction for a query function that writes more than one statement: a new write
    /// transaction on a pooled connection (`BEGIN IMMEDIATE` on SQLite), a savepoint inside a
    /// caller's transaction, so the caller's commit or rollback still decides.
    pub(crate) async fn begin(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(Tx::nested(match self {
            Conn::SqlitePooled(c) => TxConn::Sqlite(c.begin_with("BEGIN IMMEDIATE").await?),
            Conn::PgPooled(c) => TxConn::Pg(c.begin().await?),
            Conn::Sqlite(c) => TxConn::Sqlite(c.begin().await?),
            Conn::Pg(c) => TxConn::Pg(c.begin().await?),
        }))
    }
}

/// The backend of a connection type, for the few statements [`crate::dialect`] varies.
pub(crate) trait OnBackend {
    const BACKEND: Backend;
}
impl OnBackend for SqliteConnection {
    const BACKEND: Backend = Backend::Sqlite;
}
impl OnBackend for PgConnection {
    const BACKEND: Backend = Backend::Postgres;
}

/// Which backend `c` is on (inside an [`on_conn!`] arm, where the type is known).
pub(crate) fn backend_of<C: OnBackend>(_: &C) -> Backend {
    C::BACKEND
}

/// Runs `$body` once per backend arm with `$c` bound to `&mut SqliteConnection` or
/// `&mut PgConnection`; the body is the same text, each arm monomorphic. `$conn` is a
/// [`Conn`] or a [`Tx`] (anything with `.get() -> ConnRef`). Use `&mut *$c` when the body runs
/// more than one statement.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn.get() {
            $crate::db::ConnRef::Sqlite($c) => $body,
            $crate::db::ConnRef::Pg($c) => $body,
        }
    };
}
pub(crate) use on_conn;
