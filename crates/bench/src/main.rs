//! `scripts/bench-engine`: Atrium's check against cedar-policy deciding the same requests, and
//! the list-filter build, over fixtures modelled on Coder's RBAC benchmarks.
//!
//! Method: every case has 4,096 requests, each on its own object. Before timing, every
//! request's Cedar decision is asserted equal to Atrium's (and, first, a cross-check over random
//! subjects and objects exercises the whole translation). Timing walks the requests in order in
//! batches; a sample is a batch's wall time divided by its size, and the figure is the p50 of
//! the samples. Cedar gets the most favourable setup: policies parsed, entities and requests
//! built once per case, outside the timed loop; only `Authorizer::is_authorized` is timed.
//! Allocations are counted by a counting global allocator over the timed loops.
//!
//! Writes `target/bench/engine.json` at the repository root (or the path given as the first
//! argument) and prints a table.

mod alloc;
mod cedar;
mod fixtures;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use atrium_engine::{Action, Object, Permission, ResourceType, Role, Subject};
use cedar_policy::{Authorizer, Decision, Entities, PolicySet};
use serde::Serialize;

use crate::fixtures::Result;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Atrium: 192 batches of 1,024 checks (196,608 checks per case).
const ATRIUM_BATCH: usize = 1024;
const ATRIUM_BATCHES: usize = 192;
/// Cedar: 96 batches of 256 checks (24,576 checks per case).
const CEDAR_BATCH: usize = 256;
const CEDAR_BATCHES: usize = 96;
/// List filters: 400 batches of 64 builds.
const FILTER_BATCH: usize = 64;
const FILTER_BATCHES: usize = 400;
/// The untimed translation cross-check: random subjects × requests each.
const CROSS_SUBJECTS: usize = 400;
const CROSS_REQUESTS: usize = 64;

#[derive(Serialize)]
struct Report {
    machine: String,
    cases: Vec<CaseRow>,
    filter: Vec<FilterRow>,
}

#[derive(Serialize)]
struct CaseRow {
    case: String,
    atrium_ns: f64,
    cedar_ns: f64,
    atrium_allocs: f64,
    same_decision: bool,
}

#[derive(Serialize)]
struct FilterRow {
    case: String,
    build_ns: f64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-engine: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let out = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/engine.json")
    });
    let machine = machine();
    println!("machine: {machine}");
    println!("cedar-policy {}", cedar_policy::get_sdk_version());

    let policies = cedar::policies()?;
    let merged = cedar::compact_policies()?;
    let authorizer = Authorizer::new();
    cross_check(&authorizer, &[("per-level", &policies), ("merged", &merged)])?;

    let mut rows = Vec::new();
    let mut extra = Vec::new();
    let mut floor = None;
    for case in fixtures::cases()? {
        let objects: Vec<(Action, Object<'_>)> =
            case.requests.iter().map(|r| (r.action, r.object.object())).collect();
        let prepared = cedar::prepare(&case.subject, &case.requests)?;
        let mut allowed = 0usize;
        let mut mismatches = Vec::new();
        for (i, (action, object)) in objects.iter().enumerate() {
            let atrium = case.subject.authorize(*action, object).allowed;
            let request = &prepared.requests[i];
            let cedar = cedar::decide(&authorizer, &policies, &prepared.entities, request)?;
            let merged_cedar = cedar::decide(&authorizer, &merged, &prepared.entities, request)?;
            allowed += usize::from(atrium);
            if atrium != cedar || atrium != merged_cedar {
                mismatches.push(format!(
                    "{action} on {object:?}: atrium {atrium}, cedar {cedar}, merged {merged_cedar}"
                ));
            }
        }
        println!(
            "{}: same_decision {} ({} requests, {} allowed)",
            case.name,
            mismatches.is_empty(),
            objects.len(),
            allowed
        );
        if !mismatches.is_empty() {
            for m in mismatches.iter().take(5) {
                eprintln!("  {m}");
            }
            return Err(format!("{}: {} decisions differ", case.name, mismatches.len()).into());
        }
        let (atrium_ns, atrium_allocs) = time_atrium(&case.subject, &objects);
        let (cedar_ns, cedar_allocs) =
            time_cedar(&authorizer, &policies, &prepared.entities, &prepared.requests);
        let (merged_ns, _) =
            time_cedar(&authorizer, &merged, &prepared.entities, &prepared.requests);
        rows.push(CaseRow {
            case: case.name,
            atrium_ns: round1(atrium_ns),
            cedar_ns: round1(cedar_ns),
            atrium_allocs,
            same_decision: true,
        });
        extra.push(Extra {
            cedar_allocs,
            merged_ns,
            allowed: allowed as f64 / objects.len() as f64,
        });
        if floor.is_none() {
            // Cedar's own floor on the same entities and requests: one unconditional permit.
            let one: PolicySet = "permit (principal, action, resource);".parse()?;
            floor = Some(time_cedar(&authorizer, &one, &prepared.entities, &prepared.requests));
        }
    }
    if let Some((ns, allocs)) = floor {
        println!(
            "cedar floor (one unconditional permit, same entities and requests): \
             {ns:.1} ns, {allocs:.1} allocs per check"
        );
    }

    let mut filters = Vec::new();
    let mut filter_allocs = Vec::new();
    for (name, subject) in fixtures::filter_subjects()? {
        let (ns, allocs) = time_filter(&subject);
        filters.push(FilterRow { case: name, build_ns: round1(ns) });
        filter_allocs.push(allocs);
    }

    print_tables(&rows, &extra, &filters, &filter_allocs);
    let report = Report { machine, cases: rows, filter: filters };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = out.canonicalize().unwrap_or(out);
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Figures printed beside the report's.
struct Extra {
    cedar_allocs: f64,
    /// Cedar with the merged two-policy set.
    merged_ns: f64,
    /// Share of requests allowed.
    allowed: f64,
}

/// Random subjects and objects over the whole model: Cedar must agree on every request, with
/// each policy set.
fn cross_check(authorizer: &Authorizer, sets: &[(&str, &PolicySet)]) -> Result<()> {
    let cases = fixtures::cross_check_cases(CROSS_SUBJECTS, CROSS_REQUESTS)?;
    let (mut total, mut allowed) = (0usize, 0usize);
    for case in &cases {
        let prepared = cedar::prepare(&case.subject, &case.requests)?;
        for (r, request) in case.requests.iter().zip(&prepared.requests) {
            let atrium = case.subject.authorize(r.action, &r.object.object()).allowed;
            for (set, policies) in sets {
                let cedar = cedar::decide(authorizer, policies, &prepared.entities, request)?;
                if atrium != cedar {
                    return Err(format!(
                        "translation cross-check ({set} policies): {} differs: atrium {atrium}, \
                         cedar {cedar}\n  roles [{}]\n  groups {:?}, scope {:?}\n  {} on {:?}",
                        case.name,
                        describe_roles(case.subject.roles()),
                        case.subject.groups(),
                        case.subject.scope(),
                        r.action,
                        r.object
                    )
                    .into());
                }
            }
            total += 1;
            allowed += usize::from(atrium);
        }
    }
    println!(
        "translation cross-check: {total} random requests over {} random subjects, \
         {allowed} allowed: all decisions equal (per-level and merged policy sets)",
        cases.len()
    );
    Ok(())
}

/// Role names, with the permissions of roles that are not built in.
fn describe_roles(roles: &[Role]) -> String {
    let list =
        |perms: &[Permission]| perms.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" ");
    roles
        .iter()
        .map(|r| match r.builtin {
            Some(_) => r.qualified_name(),
            None => format!(
                "{} {{site [{}], org [{}], user [{}]}}",
                r.qualified_name(),
                list(&r.site),
                list(&r.org_perms),
                list(&r.user)
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn p50(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// p50 ns per check and allocations per check.
fn time_atrium(subject: &Subject, requests: &[(Action, Object<'_>)]) -> (f64, f64) {
    let mut sink = 0usize;
    for (action, object) in requests {
        sink += usize::from(subject.authorize(*action, object).allowed);
    }
    let mut samples = Vec::with_capacity(ATRIUM_BATCHES);
    let mut i = 0;
    let before = alloc::count();
    for _ in 0..ATRIUM_BATCHES {
        let start = Instant::now();
        for _ in 0..ATRIUM_BATCH {
            let (action, object) = &requests[i];
            let decision = black_box(subject).authorize(black_box(*action), black_box(object));
            sink += usize::from(decision.allowed);
            i += 1;
            if i == requests.len() {
                i = 0;
            }
        }
        samples.push(start.elapsed().as_nanos() as f64 / ATRIUM_BATCH as f64);
    }
    let allocs = alloc::count() - before;
    black_box(sink);
    (p50(samples), allocs as f64 / (ATRIUM_BATCHES * ATRIUM_BATCH) as f64)
}

fn time_cedar(
    authorizer: &Authorizer,
    policies: &PolicySet,
    entities: &Entities,
    requests: &[cedar_policy::Request],
) -> (f64, f64) {
    let mut sink = 0usize;
    for request in requests.iter().take(CEDAR_BATCH) {
        let response = authorizer.is_authorized(request, policies, entities);
        sink += usize::from(response.decision() == Decision::Allow);
    }
    let mut samples = Vec::with_capacity(CEDAR_BATCHES);
    let mut i = 0;
    let before = alloc::count();
    for _ in 0..CEDAR_BATCHES {
        let start = Instant::now();
        for _ in 0..CEDAR_BATCH {
            let response = authorizer.is_authorized(black_box(&requests[i]), policies, entities);
            sink += usize::from(response.decision() == Decision::Allow);
            i += 1;
            if i == requests.len() {
                i = 0;
            }
        }
        samples.push(start.elapsed().as_nanos() as f64 / CEDAR_BATCH as f64);
    }
    let allocs = alloc::count() - before;
    black_box(sink);
    (p50(samples), allocs as f64 / (CEDAR_BATCHES * CEDAR_BATCH) as f64)
}

/// p50 ns per `list_filter(read, workspace)` build (drop included) and allocations per build.
fn time_filter(subject: &Subject) -> (f64, f64) {
    for _ in 0..FILTER_BATCH {
        black_box(subject.list_filter(Action::Read, ResourceType::Workspace));
    }
    let mut samples = Vec::with_capacity(FILTER_BATCHES);
    let before = alloc::count();
    for _ in 0..FILTER_BATCHES {
        let start = Instant::now();
        for _ in 0..FILTER_BATCH {
            black_box(black_box(subject).list_filter(Action::Read, ResourceType::Workspace));
        }
        samples.push(start.elapsed().as_nanos() as f64 / FILTER_BATCH as f64);
    }
    let allocs = alloc::count() - before;
    (p50(samples), allocs as f64 / (FILTER_BATCHES * FILTER_BATCH) as f64)
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

fn print_tables(rows: &[CaseRow], extra: &[Extra], filters: &[FilterRow], fallocs: &[f64]) {
    println!();
    println!(
        "{:<24} {:>9} {:>6} {:>9} {:>8} {:>8} {:>9} {:>8} {:>7} {:>4}  target",
        "case",
        "atrium ns",
        "allocs",
        "cedar ns",
        "c.allocs",
        "speedup",
        "merged ns",
        "speedup",
        "allowed",
        "same"
    );
    let mut missed = Vec::new();
    for (row, x) in rows.iter().zip(extra) {
        let speedup = row.cedar_ns / row.atrium_ns;
        let limit = if row.case == "member_100_orgs" { 100.0 } else { 50.0 };
        let met = row.atrium_ns <= limit && row.atrium_allocs == 0.0 && speedup >= 50.0;
        if !met {
            missed.push(row.case.clone());
        }
        println!(
            "{:<24} {:>9.1} {:>6.2} {:>9.0} {:>8.1} {:>7.0}x {:>9.0} {:>7.0}x {:>6.0}% {:>4}  {} \
             (≤ {limit} ns, 0 allocs, ≥ 50x)",
            row.case,
            row.atrium_ns,
            row.atrium_allocs,
            row.cedar_ns,
            x.cedar_allocs,
            speedup,
            x.merged_ns,
            x.merged_ns / row.atrium_ns,
            x.allowed * 100.0,
            if row.same_decision { "yes" } else { "NO" },
            if met { "met" } else { "MISSED" },
        );
    }
    println!();
    println!("{:<24} {:>12} {:>8}  target", "filter (read workspace)", "build ns", "allocs");
    for (row, allocs) in filters.iter().zip(fallocs) {
        let limit = if row.case == "member_100_orgs" { 100_000.0 } else { 10_000.0 };
        let met = row.build_ns <= limit;
        if !met {
            missed.push(format!("filter {}", row.case));
        }
        println!(
            "{:<24} {:>12.1} {:>8.1}  {} (≤ {limit} ns)",
            row.case,
            row.build_ns,
            allocs,
            if met { "met" } else { "MISSED" }
        );
    }
    println!();
    if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", missed.join(", "));
    }
}
