//! Crash test: a child process streams acknowledged writes (one commit per row, printing
//! each id after its commit returns); the parent kills it with SIGKILL mid-stream, reopens
//! the database, and checks every acknowledged row is there. On SQLite (WAL, synchronous=FULL)
//! and PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use atrium_store::{Pool, Store};

use crate::common::TestDb;

const CHILD_SQLITE: &str = "ATRIUM_CRASH_CHILD_SQLITE";
const CHILD_PG: &str = "ATRIUM_CRASH_CHILD_PG";
const ACKS_BEFORE_KILL: usize = 150;

const INSERT: &str = "INSERT INTO audit_logs (id, time, resource_type, resource_id, action, status_code) \
     VALUES ($1, $2, 'user', $1, 'write', 200)";

/// The child: runs only when the parent sets the env var (ignored otherwise, so a plain run
/// never starts a writer).
#[tokio::test]
#[ignore = "run by the crash tests as a child process"]
async fn crash_writer_child() {
    let store = if let Ok(dir) = std::env::var(CHILD_SQLITE) {
        Store::open_sqlite(&dir).await.unwrap()
    } else if let Ok(url) = std::env::var(CHILD_PG) {
        Store::open_postgres(&url).await.unwrap()
    } else {
        return;
    };
    for i in 0i64.. {
        let id = uuid::Uuid::new_v4().to_string();
        match store.pool() {
            Pool::Sqlite(p) => sqlx::query(INSERT).bind(&id).bind(i).execute(p).await.map(|_| ()),
            Pool::Pg(p) => sqlx::query(INSERT).bind(&id).bind(i).execute(p).await.map(|_| ()),
        }
        .unwrap();
        // Acknowledged: the commit returned.
        println!("ACK {id}");
    }
}

async fn kill_mid_stream(env: (&str, String)) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash::crash_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env.0, env.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.to_owned());
            if acked.len() == ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    // SIGKILL: no destructors, no clean shutdown.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(acked.len(), ACKS_BEFORE_KILL, "the child stopped before the kill");
    acked
}

async fn count_present(store: &Store, ids: &[String]) -> usize {
    let mut present = 0;
    for id in ids {
        let sql = "SELECT COUNT(*) FROM audit_logs WHERE id = $1";
        let n: i64 = match store.pool() {
            Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await,
            Pool::Pg(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await,
        }
        .unwrap();
        present += usize::try_from(n).unwrap();
    }
    present
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_sqlite() {
    let db = TestDb::sqlite().await;
    let dir = db.sqlite_dir().unwrap().to_path_buf();
    // The parent's own connections stay open, as a server's would.
    let acked = kill_mid_stream((CHILD_SQLITE, dir.display().to_string())).await;
    let reopened = db.reopen().await.unwrap();
    assert_eq!(count_present(&reopened, &acked).await, acked.len());
    reopened.close().await;
    db.finish().await;
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    let url = db.url().unwrap().to_owned();
    let acked = kill_mid_stream((CHILD_PG, url)).await;
    let reopened = db.reopen().await.unwrap();
    assert_eq!(count_present(&reopened, &acked).await, acked.len());
    reopened.close().await;
    db.finish().await;
}
