//! The provisioner job queue's workers. Jobs are rows (`provisioner_jobs`); nothing about a
//! job lives only in this process's memory, so several replicas on one PostgreSQL share the
//! queue:
//!
//! - A worker claims a pending job with [`jobs::acquire`] (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL, one atomic `UPDATE` on SQLite's single writer), so each job runs once. Claims
//!   are fair across organizations: the organization running the fewest jobs goes first, and
//!   none runs more than `--provisioner-org-max-jobs` at once.
//! - Inserting a job in this process wakes a worker at once ([`Queue::wake`]); jobs queued by
//!   another replica wake it through the `provisioner_job_posted` notification (a trigger on
//!   PostgreSQL sends it at commit; see [`crate::replicas`]), with a slow poll ([`POLL`]) as
//!   the fallback for lost notifications.
//! - While a job runs, its worker heartbeats (`updated_at`, every [`HEARTBEAT`]) and reads
//!   back a cancel request. Jobs whose heartbeat stopped (a dead replica) are failed by the
//!   singleton stale-job sweep every replica runs ([`crate::duties`]).
//! - Log lines are stored one by one as they come ([`JobLog`]), so a reader sees progress.
//! - The job ends succeeded, or failed with an error text (canceled when it was asked to
//!   stop, timed out past `--provisioner-job-timeout`; either way its processes are killed). A server shutting down fails the jobs it is running rather than leave them
//!   "running" forever.
//!
//! What a job does is the [`provisioner::Provisioner`]'s business.

pub mod archive;
mod build;
mod dry_run;
mod plan;
pub mod provisioner;
pub mod sandbox;
mod terraform;
pub mod tf_variables;
mod variables;

use std::sync::Arc;

use std::time::Duration;

use atrium_store::jobs::{self, NewLog, ProvisionerJob};
use atrium_store::{DbTime, JobId, JobKind, LogLevel, Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::Shared;
use provisioner::{Provisioner, Run};
use sandbox::Sandbox;

/// How often an idle worker looks for jobs it was not told about (lost notifications).
pub const POLL: Duration = Duration::from_secs(5);
/// How often a running job's worker records that it is alive and checks for a cancel.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long past its time limit a job may take to wind down (a build storing the state
/// terraform left) before it is dropped outright.
pub const TIMEOUT_GRACE: Duration = Duration::from_secs(30);
/// A running job with no heartbeat for this long lost its worker and is failed.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// The in-process side of the queue: a wake-up for idle workers. The queue itself is the
/// table; this only saves them waiting for the next poll.
#[derive(Debug, Default)]
pub struct Queue {
    wake: Notify,
}

impl Queue {
    pub fn new() -> Self {
        Queue::default()
    }

    /// Call after committing a new job. A wake-up with no worker waiting is kept for the next
    /// one that waits, so none is lost.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The running workers.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Waits for every worker to stop (after the shutdown signal each finishes its current
    /// step and marks a running job failed).
    pub async fn join(self) {
        for handle in self.handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "provisioner worker panicked");
            }
        }
    }
}

/// Starts `--provisioner-daemons` workers (Coder's built-in default is 3); they stop when `stop` turns true (or its sender is dropped).
pub fn spawn(state: Shared, stop: watch::Receiver<bool>) -> Workers {
    let sandbox = Arc::new(Sandbox::from_config(&state.config));
    let handles = (0..state.config.provisioner_daemons)
        .map(|_| {
            let worker = Uuid::new_v4().to_string();
            tokio::spawn(work(state.clone(), sandbox.clone(), worker, stop.clone()))
        })
        .collect();
    Workers { handles }
}

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Resolves once the stop signal is given or its sender is gone.
async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn work(
    state: Shared,
    sandbox: Arc<Sandbox>,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    let per_org = Some(state.config.org_max_jobs());
    tracing::debug!(%worker, "provisioner worker started");
    loop {
        if stopped(&stop) {
            return;
        }
        match claim(&state.store, &worker, per_org).await {
            Ok(Some(job)) => {
                // There may be more queued work: pass the wake-up on to an idle worker.
                state.jobs.wake();
                run(&state, &sandbox, &worker, job, &mut stop).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(%worker, error = %e, "cannot claim a job; will retry"),
        }
        tokio::select! {
            _ = state.jobs.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = until_stopped(&mut stop) => return,
        }
    }
}

/// Why a job failed; `Display` is the job's stored error.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("canceled")]
    Canceled,
    #[error("the server shut down while the job was running")]
    Shutdown,
    #[error(
        "the job ran past its time limit of {} (--provisioner-job-timeout) and was stopped",
        show_duration(*.0)
    )]
    TimedOut(Duration),
    #[error("{0}")]
    Job(String),
    #[error("internal error: {0}")]
    Store(#[from] StoreError),
}

impl Failure {
    pub fn job(message: impl Into<String>) -> Self {
        Failure::Job(message.into())
    }
}

/// `90s` as `1m30s`, `250ms` as `250ms`.
fn show_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.is_zero() {
        return format!("{}ms", d.as_millis());
    }
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// Runs one claimed job to its end, heartbeating meanwhile.
async fn run(
    state: &Shared,
    sandbox: &Sandbox,
    worker: &str,
    job: ProvisionerJob,
    stop: &mut watch::Receiver<bool>,
) {
    let log = JobLog::new(state.store.clone(), job.id);
    tracing::info!(job = %job.id, kind = %job.kind, provisioner = %job.provisioner, "job started");
    let limit = state.config.provisioner_job_timeout;
    let deadline = tokio::time::Instant::now() + limit;
    let result = {
        let run = Run { store: &state.store, job: &job, log: &log, sandbox, limit, deadline };
        let work = execute(&run);
        tokio::pin!(work);
        // The job's commands stop at `deadline` themselves (so a build keeps the state it
        // has); this is the backstop.
        let backstop = tokio::time::sleep_until(deadline + TIMEOUT_GRACE);
        tokio::pin!(backstop);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            tokio::select! {
                r = &mut work => break r,
                () = &mut backstop => break Err(Failure::TimedOut(limit)),
                _ = beat.tick() => match jobs::heartbeat(&state.store, job.id, worker, DbTime::now()).await {
                    Ok(j) if j.canceled_at.is_some() => break Err(Failure::Canceled),
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => {
                        // Completed elsewhere (a timeout sweep): not ours to finish any more.
                        tracing::warn!(job = %job.id, "job was completed by someone else; dropping it");
                        return;
                    }
                    // A database blip is no reason to abandon the work; the next beat retries.
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                },
                _ = until_stopped(stop) => break Err(Failure::Shutdown),
            }
        }
        // Leaving this block drops the work, which kills any process it started.
    };
    let error = match &result {
        Ok(()) => None,
        Err(f) => {
            log.line(LogLevel::Error, "", &f.to_string()).await;
            Some(f.to_string())
        }
    };
    match complete(&state.store, job.id, error.as_deref()).await {
        Ok(done) => tracing::info!(job = %job.id, error = ?done.error, "job finished"),
        Err(StoreError::NotFound { .. }) => {
            tracing::warn!(job = %job.id, "job was completed by someone else");
        }
        Err(e) => tracing::error!(job = %job.id, error = %e, "cannot mark the job finished"),
    }
}

// Claims and completions run in a server transaction, so the caches of this replica hear of
// the job's new state at commit (outside one, SQLite's caches would wait for the next poll).
async fn claim(
    store: &Store,
    worker: &str,
    per_org: Option<u32>,
) -> Result<Option<ProvisionerJob>, StoreError> {
    let mut tx = store.begin().await?;
    let job = jobs::acquire(&mut tx, worker, DbTime::now(), per_org).await?;
    tx.commit().await?;
    Ok(job)
}

async fn complete(
    store: &Store,
    job: JobId,
    error: Option<&str>,
) -> Result<ProvisionerJob, StoreError> {
    let mut tx = store.begin().await?;
    let done = jobs::complete(&mut tx, job, error, DbTime::now()).await?;
    tx.commit().await?;
    Ok(done)
}

async fn execute(run: &Run<'_>) -> Result<(), Failure> {
    let job = run.job;
    let provisioner = Provisioner::parse(&job.provisioner)
        .ok_or_else(|| Failure::job(format!("unknown provisioner `{}`", job.provisioner)))?;
    match job.kind {
        JobKind::TemplateVersionImport => provisioner.import(run).await,
        JobKind::WorkspaceBuild => build::run_build(provisioner, run).await,
        JobKind::TemplateVersionDryRun => dry_run::run_dry_run(provisioner, run).await,
    }
}

/// A job's log, written line by line as the provisioner produces it.
#[derive(Clone)]
pub struct JobLog {
    store: Store,
    job: JobId,
}

impl JobLog {
    pub fn new(store: Store, job: JobId) -> Self {
        JobLog { store, job }
    }

    /// Stores one line. A line that cannot be stored is logged here and dropped: the job's
    /// outcome matters more than its transcript.
    pub async fn line(&self, level: LogLevel, stage: &str, output: &str) {
        let line = NewLog { created_at: DbTime::now(), level, stage, output };
        match jobs::append_logs(&self.store, self.job, &[line]).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(job = %self.job, error = %e, "cannot store a log line"),
        }
    }

    /// Shorthand for an info line.
    pub async fn info(&self, stage: &str, output: &str) {
        self.line(LogLevel::Info, stage, output).await;
    }
}
