//! `scripts/bench-list`: authorized workspace lists among 100,000 rows, on SQLite and on
//! PostgreSQL.
//!
//! Method: one seeded world — 1,000 users in 10 orgs (memberships, org roles, 10 groups of 15
//! per org, 5 templates per org with user and group ACLs) owning 100,000 workspaces (1 in 50
//! soft-deleted; 1 in 40 shared with a user, 1 in 40 with a group of its org, 1 in 200 with the
//! org's Everyone group) — is written with multi-row INSERTs in one transaction to a temp
//! SQLite file and to a fresh PostgreSQL database, then `ANALYZE`d (SQLite's WAL checkpointed,
//! PostgreSQL `VACUUM (ANALYZE)`d, as autocheckpoints and autovacuum would after a bulk load).
//! Each role is a user whose subject is built as the server builds it. One sample is
//! `Subject::list_filter_for::<Workspaces>(read)` plus `workspace_list::workspace_page` (the
//! first page of 25 by name) through the store's pool, in process; the figures are p50 and p99
//! over the samples after a warm-up. The total count under the same predicate is timed
//! separately.
//! Before timing, each role's page and count are asserted equal to the engine's own
//! `ListFilter::matches` over the in-memory world, so a fast wrong query cannot pass. The
//! PostgreSQL pages are timed once more with `plan_cache_mode = force_generic_plan` on new
//! connections, for comparison only (`postgres_force_generic_plan` in the report).
//!
//! Writes `target/bench/list.json` at the repository root (or the path given as the first
//! argument) and prints each role's query plan (`EXPLAIN QUERY PLAN` on SQLite,
//! `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL). `ATRIUM_BENCH_KEEP=1` keeps both databases.

use std::collections::HashMap;
use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use atrium_engine::listable::{TypedFilter, Workspaces};
use atrium_engine::{Action, Subject};
use atrium_store::lists::Page;
use atrium_store::workspace_list::{self, WorkspaceFilter};
use atrium_store::{Pool, Store};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Postgres, Row, Sqlite};
use uuid::Uuid;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[path = "bench_list/world.rs"]
mod world;
use world::{World, seed};

const ORGS: usize = 10;
const USERS: usize = 1_000;
const WORKSPACES_PER_USER: usize = 100;
const TEMPLATES_PER_ORG: usize = 5;
const GROUPS_PER_ORG: usize = 10;
const GROUP_SIZE: usize = 15;
const PAGE: i64 = 25;
/// Rows per INSERT statement.
const CHUNK: usize = 1_000;

/// Page samples per role: a warm-up, then at least `MIN`, until `BUDGET` or `MAX`.
const WARMUP: usize = 20;
const MIN_SAMPLES: usize = 200;
const MAX_SAMPLES: usize = 5_000;
const BUDGET: Duration = Duration::from_secs(3);
/// Count samples per role.
const COUNT_WARMUP: usize = 3;
const COUNT_MIN_SAMPLES: usize = 20;
const COUNT_BUDGET: Duration = Duration::from_secs(2);

/// The timed users (indices into `World::users`).
const OWNER: usize = 0;
const ORG_ADMIN: usize = 1;
const MANY_ORGS: usize = 2;
const GROUP_USER: usize = 3;
const MEMBER: usize = 4;
const ROLE_USERS: [usize; 5] = [OWNER, ORG_ADMIN, MANY_ORGS, GROUP_USER, MEMBER];

/// Report order: role name and user.
const ROLES: [(&str, usize); 5] = [
    ("owner", OWNER),
    ("org_admin", ORG_ADMIN),
    ("member", MEMBER),
    ("member_10_orgs", MANY_ORGS),
    ("group_acl", GROUP_USER),
];

/// The target for the first page, filter included.
const TARGET_P50_US: f64 = 1_000.0;

#[derive(Serialize)]
struct Report {
    machine: String,
    sqlite_version: String,
    postgres_version: String,
    workspaces: usize,
    users: usize,
    orgs: usize,
    rows: Vec<RoleRow>,
    /// The PostgreSQL pages again with `plan_cache_mode = force_generic_plan` (not a default).
    postgres_force_generic_plan: Vec<RoleRow>,
}

#[derive(Serialize)]
struct RoleRow {
    backend: &'static str,
    role: &'static str,
    p50_us: f64,
    p99_us: f64,
    count_p50_us: f64,
    /// Workspaces the role may read (the count the page's total reports).
    count: i64,
    samples: usize,
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-list: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-list: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let out = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/list.json")
    });
    let pg_admin_url = std::env::var("ATRIUM_TEST_POSTGRES_URL")
        .map_err(|_| "ATRIUM_TEST_POSTGRES_URL is not set (scripts/bench-list sets it)")?;
    // ATRIUM_BENCH_KEEP=1 keeps both databases, to study their plans by hand.
    let keep = std::env::var_os("ATRIUM_BENCH_KEEP").is_some_and(|v| v == "1");
    let machine = machine();
    println!("machine: {machine}");

    let started = Instant::now();
    let world = World::generate()?;
    let statements = world.inserts();
    println!(
        "world: {} workspaces ({} live), {} users, {} orgs, {} groups, {} templates, \
         {} workspace user-ACL and {} group-ACL entries; {} INSERT statements ({:.1} MB) in {:.2} s",
        world.workspaces.len(),
        world.workspaces.iter().filter(|w| !w.deleted).count(),
        world.users.len(),
        world.orgs.len(),
        world.groups.len(),
        world.templates.len(),
        world.ws_acl_users.iter().map(Vec::len).sum::<usize>(),
        world.ws_acl_groups.iter().map(Vec::len).sum::<usize>(),
        statements.len(),
        statements.iter().map(String::len).sum::<usize>() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let subjects: Vec<(&'static str, Subject)> =
        ROLES.iter().map(|(name, u)| Ok((*name, world.subject(*u)?))).collect::<Result<_>>()?;

    let mut rows = Vec::new();

    // SQLite: a temp file, the store's own pool and settings (WAL, synchronous=FULL).
    let dir = tempfile::tempdir()?;
    let sqlite = Store::open_sqlite(dir.path().join("bench.db")).await?;
    let t = Instant::now();
    seed(&sqlite, &statements).await?;
    let seeded = t.elapsed();
    let t = Instant::now();
    if let Pool::Sqlite(p) = sqlite.pool() {
        // And fold the bulk load's WAL into the database, as autocheckpoints do on a server.
        sqlx::raw_sql("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)").execute(p).await?;
    }
    println!(
        "\nsqlite: seeded in {:.2} s, ANALYZE and checkpoint in {:.2} s",
        seeded.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
    let sqlite_version = match sqlite.pool() {
        Pool::Sqlite(p) => sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
            .fetch_one(p)
            .await
            .map(|v| format!("SQLite {v}"))?,
        Pool::Pg(_) => String::new(),
    };
    for (role, subject) in &subjects {
        rows.push(bench_role(&sqlite, "sqlite", role, subject, &world, true).await?);
    }
    sqlite.close().await;
    if keep {
        println!("kept {}", dir.keep().join("bench.db").display());
    }

    // PostgreSQL: a fresh database on the throwaway cluster, dropped at the end.
    let pg = PgBench::create(&pg_admin_url).await?;
    let result = async {
        let t = Instant::now();
        seed(&pg.store, &statements).await?;
        let seeded = t.elapsed();
        let t = Instant::now();
        if let Pool::Pg(p) = pg.store.pool() {
            sqlx::raw_sql("VACUUM (ANALYZE)").execute(p).await?;
        }
        println!(
            "\npostgres: seeded in {:.2} s, VACUUM (ANALYZE) in {:.2} s",
            seeded.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
        let version = match pg.store.pool() {
            Pool::Pg(p) => sqlx::query_scalar::<_, String>("SHOW server_version")
                .fetch_one(p)
                .await
                .map(|v| format!("PostgreSQL {v}"))?,
            Pool::Sqlite(_) => String::new(),
        };
        let mut pg_rows = Vec::new();
        for (role, subject) in &subjects {
            pg_rows.push(bench_role(&pg.store, "postgres", role, subject, &world, true).await?);
        }
        // For comparison only: the same pages with PostgreSQL told to keep a prepared
        // statement's generic plan instead of planning each execution anew.
        let generic = pg.store_with("plan_cache_mode = force_generic_plan").await?;
        println!("\npostgres with plan_cache_mode = force_generic_plan (for comparison):");
        let mut generic_rows = Vec::new();
        for (role, subject) in &subjects {
            generic_rows
                .push(bench_role(&generic, "postgres", role, subject, &world, false).await?);
        }
        generic.close().await;
        Ok::<_, Box<dyn Error>>((version, pg_rows, generic_rows))
    }
    .await;
    if keep {
        println!("kept PostgreSQL database {}", pg.name);
        pg.store.close().await;
    } else {
        pg.drop_database().await?;
    }
    let (postgres_version, pg_rows, generic_rows) = result?;
    rows.extend(pg_rows);

    print_table(&rows, &generic_rows);
    let report = Report {
        machine,
        sqlite_version,
        postgres_version,
        workspaces: world.workspaces.len(),
        users: world.users.len(),
        orgs: world.orgs.len(),
        rows,
        postgres_force_generic_plan: generic_rows,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = out.canonicalize().unwrap_or(out);
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {} ({:.0} s in all)", out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// A fresh database on the cluster of `ATRIUM_TEST_POSTGRES_URL`, dropped by
/// [`PgBench::drop_database`].
struct PgBench {
    admin_url: String,
    url: String,
    name: String,
    store: Store,
}

impl PgBench {
    async fn create(admin_url: &str) -> Result<PgBench> {
        let name = format!("atrium_bench_list_{}", std::process::id());
        let (base, _) = admin_url.rsplit_once('/').ok_or("ATRIUM_TEST_POSTGRES_URL has no path")?;
        let mut admin = PgConnection::connect(admin_url).await?;
        admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).await?;
        admin.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await?;
        admin.close().await?;
        let url = format!("{base}/{name}");
        let store = Store::open_postgres(&url).await?;
        Ok(PgBench { admin_url: admin_url.to_owned(), url, name, store })
    }

    /// A second store on the database whose new connections get `setting`.
    async fn store_with(&self, setting: &str) -> Result<Store> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin.execute(AssertSqlSafe(format!("ALTER DATABASE {} SET {setting}", self.name))).await?;
        admin.close().await?;
        Ok(Store::open_postgres(&self.url).await?)
    }

    async fn drop_database(self) -> Result<()> {
        self.store.close().await;
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .await?;
        admin.close().await?;
        Ok(())
    }
}

const FIRST_PAGE: Page = Page { limit: Some(PAGE), offset: 0 };

/// The store's count query, timed on its own.
async fn count(store: &Store, filter: &TypedFilter<Workspaces>) -> Result<i64> {
    let f = WorkspaceFilter::default();
    Ok(match store.pool() {
        Pool::Sqlite(p) => {
            workspace_list::count_query::<Sqlite>("", &f, filter)
                .build_query_scalar()
                .fetch_one(p)
                .await?
        }
        Pool::Pg(p) => {
            workspace_list::count_query::<Postgres>("", &f, filter)
                .build_query_scalar()
                .fetch_one(p)
                .await?
        }
    })
}

/// Prints the plan of the page query the store runs (the same builder, behind `EXPLAIN`).
async fn explain(store: &Store, filter: &TypedFilter<Workspaces>) -> Result<()> {
    let f = WorkspaceFilter::default();
    match store.pool() {
        Pool::Sqlite(p) => {
            let mut qb =
                workspace_list::page_query::<Sqlite>("EXPLAIN QUERY PLAN ", &f, filter, FIRST_PAGE);
            let rows = qb.build().fetch_all(p).await?;
            let mut depth: HashMap<i64, usize> = HashMap::new();
            for row in rows {
                let id: i64 = row.try_get(0)?;
                let parent: i64 = row.try_get(1)?;
                let detail: String = row.try_get(3)?;
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                println!("    {}{detail}", "  ".repeat(d));
            }
        }
        Pool::Pg(p) => {
            let mut qb = workspace_list::page_query::<Postgres>(
                "EXPLAIN (ANALYZE, BUFFERS) ",
                &f,
                filter,
                FIRST_PAGE,
            );
            for row in qb.build().fetch_all(p).await? {
                let line: String = row.try_get(0)?;
                println!("    {line}");
            }
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

async fn first_page(store: &Store, subject: &Subject) -> Result<Vec<Uuid>> {
    let filter = subject.list_filter_for::<Workspaces>(Action::Read);
    let page =
        workspace_list::workspace_page(store, &WorkspaceFilter::default(), &filter, FIRST_PAGE)
            .await?;
    Ok(page.into_iter().map(|w| w.id.uuid()).collect())
}

async fn bench_role(
    store: &Store,
    backend: &'static str,
    role: &'static str,
    subject: &Subject,
    world: &World,
    plans: bool,
) -> Result<RoleRow> {
    let filter = subject.list_filter_for::<Workspaces>(Action::Read);

    // Correctness first: page, count and the store's own page + count agree with the engine.
    let (want_page, want_count) = world.expected(&filter);
    let got_page = first_page(store, subject).await?;
    let got_count = count(store, &filter).await?;
    let listed =
        workspace_list::workspaces(store, &WorkspaceFilter::default(), &filter, FIRST_PAGE).await?;
    let listed_ids: Vec<Uuid> = listed.rows.iter().map(|w| w.id.uuid()).collect();
    if got_page != want_page || listed_ids != want_page {
        return Err(format!("{backend} {role}: the first page differs from the engine's").into());
    }
    if got_count != want_count || listed.count != want_count {
        return Err(format!(
            "{backend} {role}: count {got_count} (listed {}), the engine says {want_count}",
            listed.count
        )
        .into());
    }

    for _ in 0..WARMUP {
        black_box(first_page(store, subject).await?);
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < MIN_SAMPLES || (start.elapsed() < BUDGET && samples.len() < MAX_SAMPLES) {
        let t = Instant::now();
        let filter = black_box(subject).list_filter_for::<Workspaces>(Action::Read);
        let page =
            workspace_list::workspace_page(store, &WorkspaceFilter::default(), &filter, FIRST_PAGE)
                .await?;
        black_box(page);
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);

    for _ in 0..COUNT_WARMUP {
        black_box(count(store, &filter).await?);
    }
    let mut count_samples = Vec::new();
    let start = Instant::now();
    while count_samples.len() < COUNT_MIN_SAMPLES
        || (start.elapsed() < COUNT_BUDGET && count_samples.len() < MAX_SAMPLES)
    {
        let t = Instant::now();
        black_box(count(store, &filter).await?);
        count_samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    count_samples.sort_by(f64::total_cmp);

    let row = RoleRow {
        backend,
        role,
        p50_us: round1(percentile(&samples, 0.5)),
        p99_us: round1(percentile(&samples, 0.99)),
        count_p50_us: round1(percentile(&count_samples, 0.5)),
        count: want_count,
        samples: samples.len(),
    };
    println!(
        "\n{backend} {role}: page p50 {:.1} µs, p99 {:.1} µs ({} samples); count {} in p50 {:.1} µs",
        row.p50_us, row.p99_us, row.samples, row.count, row.count_p50_us
    );
    if plans {
        println!("  plan:");
        explain(store, &filter).await?;
    }
    Ok(row)
}

fn print_table(rows: &[RoleRow], generic: &[RoleRow]) {
    println!();
    println!(
        "{:<9} {:<15} {:>10} {:>10} {:>11} {:>7} {:>13}  target (page p50 ≤ 1 ms)",
        "backend", "role", "page p50", "page p99", "count p50", "count", "generic p50"
    );
    let mut missed = Vec::new();
    for r in rows {
        let met = r.p50_us <= TARGET_P50_US;
        if !met {
            missed.push(format!("{} {}", r.backend, r.role));
        }
        let generic = match generic.iter().find(|g| g.backend == r.backend && g.role == r.role) {
            Some(g) => format!("{:.0} µs", g.p50_us),
            None => "-".to_owned(),
        };
        println!(
            "{:<9} {:<15} {:>7.0} µs {:>7.0} µs {:>8.0} µs {:>7} {:>13}  {}",
            r.backend,
            r.role,
            r.p50_us,
            r.p99_us,
            r.count_p50_us,
            r.count,
            generic,
            if met { "met" } else { "MISSED" }
        );
    }
    println!("(generic p50: PostgreSQL with plan_cache_mode = force_generic_plan, for comparison)");
    println!();
    if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", missed.join(", "));
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores, {}", env!("ATRIUM_BENCH_RUSTC"))
}
