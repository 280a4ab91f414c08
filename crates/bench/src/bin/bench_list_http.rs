//! `scripts/bench-http`, issue 17 item 8(c): the first page of 25 of `GET /api/v2/workspaces`
//! over HTTP among 100,000 workspaces, for a member of 10 orgs (the slowest role of
//! `scripts/bench-list`), on SQLite and on PostgreSQL.
//!
//! Method: `bench-list`'s world (same generator, same bulk INSERTs) plus what a workspace list
//! view joins — one template version per template (its import job succeeded) and one start
//! build per workspace with its succeeded job — and a session key for the member, written
//! through the store into a fresh SQLite data dir and a fresh PostgreSQL database, then
//! `ANALYZE`d. A real `atrium server` (the release binary, first argument) is started on each,
//! and the member's page is requested sequentially over one keep-alive connection: a warm-up,
//! then samples until a time budget; the figure is the p50 of the request round trips.
//! Prints `{"sqlite": p50_ms, "postgres": p50_ms}` on stdout for the script to splice into
//! http.json; progress goes to stderr.

use std::error::Error;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use atrium_engine::listable::{TypedFilter, Workspaces};
use atrium_engine::{Action, Subject};
use atrium_store::{Pool, Store};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use uuid::Uuid;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[path = "bench_list/world.rs"]
#[allow(dead_code, reason = "shared with bench-list, which uses all of it")]
mod world;
use world::{World, seed};

const ORGS: usize = 10;
const USERS: usize = 1_000;
const WORKSPACES_PER_USER: usize = 100;
const TEMPLATES_PER_ORG: usize = 5;
const GROUPS_PER_ORG: usize = 10;
const GROUP_SIZE: usize = 15;
const CHUNK: usize = 1_000;
const PAGE: i64 = 25;
/// The roles' users, as in bench-list (world.rs shapes them); timed here: the member of 10 orgs.
const OWNER: usize = 0;
const ORG_ADMIN: usize = 1;
const MANY_ORGS: usize = 2;
const GROUP_USER: usize = 3;
const MEMBER: usize = 4;
const ROLE_USERS: [usize; 5] = [OWNER, ORG_ADMIN, MANY_ORGS, GROUP_USER, MEMBER];

const WARMUP: usize = 50;
const MAX_SAMPLES: usize = 2_000;
const BUDGET: Duration = Duration::from_secs(5);
const T0: i64 = 1_700_000_000_000_000;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-list-http: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-list-http: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let atrium = std::env::args().nth(1).ok_or("usage: bench-list-http ATRIUM_BINARY")?;
    let pg_admin_url = std::env::var("ATRIUM_TEST_POSTGRES_URL")
        .map_err(|_| "ATRIUM_TEST_POSTGRES_URL is not set (scripts/bench-http sets it)")?;
    let world = World::generate()?;
    let token = atrium_domain::tokens::generate()?;
    let mut statements = world.inserts();
    statements.extend(view_inserts(&world, &token.id, &token.hashed_secret));
    let session = format!("{}-{}", token.id, token.secret);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let sqlite = Store::open_sqlite(data.join("atrium.db")).await?;
    let t = Instant::now();
    seed(&sqlite, &statements).await?;
    if let Pool::Sqlite(p) = sqlite.pool() {
        sqlx::raw_sql("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)").execute(p).await?;
    }
    eprintln!("sqlite: seeded in {:.1} s", t.elapsed().as_secs_f64());
    sqlite.close().await;
    let sqlite_ms =
        time_server(&atrium, &["--data-dir".as_ref(), data.as_os_str()], &session).await?;
    eprintln!("sqlite: p50 {sqlite_ms:.3} ms");

    let name = format!("atrium_bench_list_http_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&pg_admin_url).await?;
    admin.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await?;
    let (prefix, _) = pg_admin_url.rsplit_once('/').ok_or("the PostgreSQL URL has no path")?;
    let url = format!("{prefix}/{name}");
    let result = async {
        let pg = Store::open_postgres(&url).await?;
        let t = Instant::now();
        seed(&pg, &statements).await?;
        if let Pool::Pg(p) = pg.pool() {
            sqlx::raw_sql("VACUUM (ANALYZE)").execute(p).await?;
        }
        eprintln!("postgres: seeded in {:.1} s", t.elapsed().as_secs_f64());
        pg.close().await;
        let pg_data = dir.path().join("pg-data");
        let args =
            ["--postgres-url".as_ref(), url.as_ref(), "--data-dir".as_ref(), pg_data.as_os_str()];
        time_server(&atrium, &args, &session).await
    }
    .await;
    admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await?;
    let postgres_ms = result?;
    eprintln!("postgres: p50 {postgres_ms:.3} ms");
    println!("{{\"sqlite\": {sqlite_ms:.3}, \"postgres\": {postgres_ms:.3}}}");
    Ok(())
}

/// What the list view joins and the world of bench-list lacks: per template a version whose
/// import succeeded (made active), per workspace one start build whose job succeeded; and a
/// session key for the member of 10 orgs.
fn view_inserts(world: &World, key_id: &str, hashed_secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |table: &str, cols: &str, rows: Vec<String>| {
        for chunk in rows.chunks(CHUNK) {
            out.push(format!("INSERT INTO {table} ({cols}) VALUES {}", chunk.join(",")));
        }
    };
    let job_cols = "id, org_id, initiator_id, kind, provisioner, created_at, updated_at, \
                    started_at, completed_at";
    let versions: Vec<(Uuid, Uuid)> =
        world.templates.iter().map(|_| (Uuid::new_v4(), Uuid::new_v4())).collect();
    push(
        "provisioner_jobs",
        job_cols,
        world
            .templates
            .iter()
            .zip(&versions)
            .map(|((_, o, by), (_, job))| {
                let (org, user) = (world.orgs[*o], world.users[*by]);
                format!("('{job}', '{org}', '{user}', 'template_version_import', 'echo', {T0}, {T0}, {T0}, {T0})")
            })
            .collect(),
    );
    push(
        "template_versions",
        "id, template_id, org_id, name, job_id, created_by, created_at, updated_at",
        world
            .templates
            .iter()
            .zip(&versions)
            .map(|((t, o, by), (v, job))| {
                let (org, user) = (world.orgs[*o], world.users[*by]);
                format!("('{v}', '{t}', '{org}', 'v1', '{job}', '{user}', {T0}, {T0})")
            })
            .collect(),
    );
    let active: Vec<String> = world
        .templates
        .iter()
        .zip(&versions)
        .map(|((t, ..), (v, _))| {
            format!("UPDATE templates SET active_version_id = '{v}' WHERE id = '{t}'")
        })
        .collect();
    let jobs: Vec<Uuid> = world.workspaces.iter().map(|_| Uuid::new_v4()).collect();
    push(
        "provisioner_jobs",
        job_cols,
        world
            .workspaces
            .iter()
            .zip(&jobs)
            .enumerate()
            .map(|(i, (w, job))| {
                let t = T0 + i as i64;
                let (org, user) = (world.orgs[w.org], world.users[w.owner]);
                format!(
                    "('{job}', '{org}', '{user}', 'workspace_build', 'echo', {t}, {t}, {t}, {t})"
                )
            })
            .collect(),
    );
    push(
        "workspace_builds",
        "id, workspace_id, build_number, transition, initiator_id, job_id, template_version_id, \
         created_at, updated_at",
        world
            .workspaces
            .iter()
            .zip(&jobs)
            .enumerate()
            .map(|(i, (w, job))| {
                let t = T0 + i as i64;
                let version = versions[w.template].0;
                format!(
                    "('{}', '{}', 1, 'start', '{}', '{job}', '{version}', {t}, {t})",
                    Uuid::new_v4(),
                    w.id,
                    world.users[w.owner]
                )
            })
            .collect(),
    );
    let far = T0 * 2;
    push(
        "api_keys",
        "id, hashed_secret, user_id, login_type, lifetime_seconds, expires_at, created_at, \
         updated_at, last_used",
        vec![format!(
            "('{key_id}', '{hashed_secret}', '{}', 'password', 86400, {far}, {T0}, {T0}, {T0})",
            world.users[MANY_ORGS]
        )],
    );
    out.extend(active);
    out
}

/// `atrium server` on the seeded database, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with `args`, times the member's first page; the p50 in milliseconds.
async fn time_server(atrium: &str, args: &[&std::ffi::OsStr], session: &str) -> Result<f64> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(atrium)
            .arg("server")
            .args(args)
            .args(["--address", &address, "--provisioner-daemons", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let base = format!("http://{address}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the server did not answer /healthz".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("{base}/api/v2/workspaces?limit=25");
    let get = || async {
        let r = http.get(&url).header("Coder-Session-Token", session).send().await?;
        let status = r.status();
        let body = r.bytes().await?;
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Result::Ok(body)
    };
    let first: serde_json::Value = serde_json::from_slice(&get().await?)?;
    let page = first["workspaces"].as_array().map_or(0, Vec::len);
    eprintln!("  first page: {page} workspaces of {}", first["count"]);
    if page != 25 {
        return Err(format!("expected a full page of 25, got {page}").into());
    }
    for _ in 0..WARMUP {
        get().await?;
    }
    let mut samples = Vec::new();
    let budget = Instant::now();
    while samples.len() < MAX_SAMPLES && budget.elapsed() < BUDGET {
        let t = Instant::now();
        get().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let p50 = samples[samples.len() / 2].as_secs_f64() * 1e3;
    let p99 = samples[samples.len() * 99 / 100].as_secs_f64() * 1e3;
    eprintln!("  {} samples, p50 {p50:.3} ms, p99 {p99:.3} ms", samples.len());
    Ok(p50)
}
