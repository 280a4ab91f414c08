//! Issue 17, item 7: a replica killed with SIGKILL (no shutdown, no cleanup of its own) leaves
//! its work to another replica on the same PostgreSQL. Replica A is the real `atrium server`
//! binary in a child process, so the kill is a real `kill -9`; replica B is a server in this
//! process, started on A's database after A died. B must finish the builds queued on A and fail
//! the job A's worker was running, within issue 17's bound (60 s after A's last heartbeat;
//! `atrium_domain::duties` documents STALE_AFTER + TICK = 40 s).
//!
//! The tests poll until the outcome shows and fail only after a generous deadline, so a
//! loaded machine slows them down but cannot make them flaky.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

/// How long B may take to show an outcome before the test fails.
const DEADLINE: Duration = Duration::from_secs(90);
/// Issue 17, item 5: a dead replica's running jobs are failed within 60 s of its death.
const DEAD_JOB_BOUND: Duration = Duration::from_secs(60);
/// How long before the kill A's worker last heartbeat the job it was running. A real running
/// job would have beaten at most `HEARTBEAT` (5 s) before; an older beat only shortens the
/// wait for the stale-job sweep (30 s after the beat) so the test stays short.
const LAST_BEAT_BEFORE_KILL: Duration = Duration::from_secs(20);

/// `atrium server` in a child process, killed (SIGKILL) when dropped if still alive.
struct ChildServer {
    child: Child,
    url: String,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn spawn_replica(postgres_url: &str, data_dir: &std::path::Path) -> ChildServer {
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_atrium"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ATRIUM_") {
            command.env_remove(k);
        }
    }
    let child = command
        .args(["server", "--postgres-url", postgres_url, "--address", &address])
        .args(["--provisioner-daemons", "0", "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the atrium binary starts");
    let server = ChildServer { child, url: format!("http://{address}") };
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{}/healthz", server.url)).send().await
            && r.status().is_success()
        {
            return server;
        }
        assert!(start.elapsed() < DEADLINE, "replica A did not answer /healthz");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn call(url: &str, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let http = reqwest::Client::new();
    let request = match body {
        Some(b) => http.post(format!("{url}{path}")).json(&b),
        None => http.get(format!("{url}{path}")),
    };
    let response = request.header("Coder-Session-Token", token).send().await.expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn latest_build(url: &str, token: &str, workspace: &str) -> Value {
    let (status, body) = call(url, token, &format!("/api/v2/workspaces/{workspace}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["latest_build"].clone()
}

fn micros_ago(age: Duration) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(now.saturating_sub(age).as_micros()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replicas_builds_are_finished_and_its_running_job_failed_by_another() {
    // The owner and an echo template, made through a first server with workers (the
    // template's import job has to run somewhere); then that server stops.
    let Some(mut env) = Env::with_owner(Backend::Postgres).await else { return };
    let dir = module_dir(&[("main.tf", &format!("# {}\n", unique("m")))]);
    let d = dir.path().to_str().unwrap();
    env.atrium(&["templates", "push", "killed", "-d", d, "--provisioner", "echo", "-y"]).ok();
    let token = env.owner_token();
    let orgs = env.get("/api/v2/organizations").await;
    let org = orgs.as_array().unwrap().iter().find(|o| o["is_default"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = env.get(&format!("/api/v2/organizations/{org}/templates/killed")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut config = env.config.clone();
    let postgres_url = config.postgres_url.as_ref().unwrap().0.clone();
    env.stop_server().await;

    // Replica A, a process of its own with no workers: every build it takes stays queued.
    let a_dir = tempfile::tempdir().unwrap();
    let a = spawn_replica(&postgres_url, a_dir.path()).await;
    let mut workspaces = Vec::new();
    for i in 0..4 {
        let path = format!("/api/v2/organizations/{org}/members/me/workspaces");
        let body = json!({"template_id": template, "name": format!("killed{i}")});
        let (status, body) = call(&a.url, &token, &path, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["latest_build"]["status"], "pending", "{body}");
        workspaces.push(body["id"].as_str().unwrap().to_owned());
    }
    // The last build's job is the one A's worker was running when A died: claimed by A's
    // worker, its heartbeat as A last wrote it.
    let running = workspaces.pop().unwrap();
    let job =
        latest_build(&a.url, &token, &running).await["job"]["id"].as_str().unwrap().to_owned();
    let db = sqlx::PgPool::connect(&postgres_url).await.unwrap();
    let beat = micros_ago(LAST_BEAT_BEFORE_KILL);
    let claimed = sqlx::query(
        "UPDATE provisioner_jobs SET started_at = $1, updated_at = $1, worker_id = 'replica-a' \
         WHERE id = $2 AND started_at IS NULL",
    )
    .bind(beat)
    .bind(&job)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(claimed.rows_affected(), 1, "the job was still queued");

    // kill -9.
    let mut a = a;
    a.child.kill().expect("SIGKILL replica A");
    let exit = a.child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&exit), Some(9), "{exit:?}");
    let killed_at = Instant::now();

    // Replica B, in this process, on the same database, with workers.
    config.provisioner_daemons = 2;
    let b = atrium_server::start(config).await.expect("replica B starts");
    let b_url = format!("http://{}", b.addr);
    for ws in &workspaces {
        loop {
            let build = latest_build(&b_url, &token, ws).await;
            if build["status"] == "running" {
                break;
            }
            assert_ne!(build["status"], "failed", "{build}");
            assert!(killed_at.elapsed() < DEADLINE, "{ws} not built by B: {build}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let failed = loop {
        let build = latest_build(&b_url, &token, &running).await;
        if build["status"] == "failed" {
            break build;
        }
        assert!(killed_at.elapsed() < DEADLINE, "the dead job was not failed: {build}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let since_beat = killed_at.elapsed() + LAST_BEAT_BEFORE_KILL;
    assert!(since_beat <= DEAD_JOB_BOUND, "failed {since_beat:?} after the last heartbeat");
    assert_eq!(failed["job"]["error"], "the provisioner worker stopped responding", "{failed}");
    // Each queued build ran exactly once: one build per workspace, none retried.
    let builds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM workspace_builds").fetch_one(&db).await.unwrap();
    assert_eq!(builds, 4);
    eprintln!("the dead replica's job failed {since_beat:?} after its last heartbeat");
    db.close().await;
    b.stop().await;
    env.stop().await;
}
