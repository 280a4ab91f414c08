//! Provisioner jobs (a queue) and their logs.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::dialect::{self, job_cols};
use crate::error::StoreError;
use crate::id::{FileId, JobId, OrgId, UserId};
use crate::time::DbTime;
use crate::value::{JobKind, JsonText, LogLevel};

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "provisioner job" };

/// A job row. Its status is derived from the timestamps ([`ProvisionerJob::status`]).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ProvisionerJob {
    pub id: JobId,
    pub org_id: OrgId,
    pub initiator_id: UserId,
    pub kind: JobKind,
    pub provisioner: String,
    pub file_id: Option<FileId>,
    pub input: JsonText<serde_json::Value>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub started_at: Option<DbTime>,
    pub completed_at: Option<DbTime>,
    pub canceled_at: Option<DbTime>,
    pub error: Option<String>,
    pub worker_id: Option<String>,
}

/// Coder's job statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Running,
    Succeeded,
    Canceling,
    Canceled,
    Failed,
}

impl JobStatus {
    /// Not finished yet: pending, running or canceling.
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Running | JobStatus::Canceling)
    }
}

impl ProvisionerJob {
    /// The status, as Coder derives it from the timestamps and error.
    pub fn status(&self) -> JobStatus {
        match (self.started_at, self.completed_at, self.canceled_at, &self.error) {
            (_, Some(_), Some(_), _) => JobStatus::Canceled,
            (_, None, Some(_), _) => JobStatus::Canceling,
            (_, Some(_), None, Some(e)) if !e.is_empty() => JobStatus::Failed,
            (_, Some(_), None, _) => JobStatus::Succeeded,
            (None, None, None, _) => JobStatus::Pending,
            (Some(_), None, None, _) => JobStatus::Running,
        }
    }
}

/// What [`insert`] writes.
#[derive(Clone, Debug)]
pub struct NewJob<'a> {
    pub id: JobId,
    pub org_id: OrgId,
    pub initiator_id: UserId,
    pub kind: JobKind,
    pub provisioner: &'a str,
    pub file_id: Option<FileId>,
    pub input: &'a serde_json::Value,
    pub created_at: DbTime,
}

/// A log line.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct JobLog {
    pub job_id: JobId,
    /// 1, 2, 3, ... within the job.
    pub id: i64,
    pub created_at: DbTime,
    pub level: LogLevel,
    pub stage: String,
    pub output: String,
}

/// A log line to append.
#[derive(Clone, Debug)]
pub struct NewLog<'a> {
    pub created_at: DbTime,
    pub level: LogLevel,
    pub stage: &'a str,
    pub output: &'a str,
}

const INSERT: &str = concat!(
    "INSERT INTO provisioner_jobs (id, org_id, initiator_id, kind, provisioner, file_id, input, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
    job_cols!()
);
const GET: &str = concat!("SELECT ", job_cols!(), " FROM provisioner_jobs WHERE id = $1");
const COMPLETE: &str = concat!(
    "UPDATE provisioner_jobs SET completed_at = $2, updated_at = $2, error = $3 \
     WHERE id = $1 AND completed_at IS NULL RETURNING ",
    job_cols!()
);
// A pending job is canceled outright (completed too); a running one is asked to stop.
const CANCEL: &str = concat!(
    "UPDATE provisioner_jobs SET canceled_at = $2, updated_at = $2, \
     completed_at = CASE WHEN started_at IS NULL THEN $2 ELSE completed_at END \
     WHERE id = $1 AND canceled_at IS NULL AND completed_at IS NULL RETURNING ",
    job_cols!()
);
// INVARIANT(one-log-writer): only the job's worker appends its logs, so numbering by MAX + 1
// cannot race; if it ever did, the primary key turns the race into a `Unique` violation, not a gap.
const INSERT_LOG: &str = "INSERT INTO provisioner_job_logs (job_id, id, created_at, level, \
     stage, output) VALUES ($1, (SELECT COALESCE(MAX(id), 0) + 1 FROM provisioner_job_logs \
     WHERE job_id = $1), $2, $3, $4, $5)";
// Only the worker holding the job may beat for it; a job completed meanwhile (or taken over
// by a timeout sweep) returns no row.
const HEARTBEAT: &str = concat!(
    "UPDATE provisioner_jobs SET updated_at = $3 \
     WHERE id = $1 AND worker_id = $2 AND completed_at IS NULL RETURNING ",
    job_cols!()
);
const QUEUE: &str = "SELECT \
     (SELECT COUNT(*) FROM provisioner_jobs WHERE started_at IS NULL AND canceled_at IS NULL \
      AND (created_at < $1 OR (created_at = $1 AND id <= $2))), \
     (SELECT COUNT(*) FROM provisioner_jobs WHERE started_at IS NULL AND canceled_at IS NULL)";
const LIST_LOGS: &str = "SELECT job_id, id, created_at, level, stage, output \
     FROM provisioner_job_logs WHERE job_id = $1 AND id > $2 ORDER BY id";

/// Queues a job.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewJob<'_>) -> Result<ProvisionerJob, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(new.id)
        .bind(new.org_id)
        .bind(new.initiator_id)
        .bind(new.kind)
        .bind(new.provisioner)
        .bind(new.file_id)
        .bind(JsonText(new.input))
        .bind(new.created_at)
        .fetch_one(c)
        .await)?)
}

/// A job by id.
pub async fn get(db: impl Into<Db<'_>>, id: JobId) -> Result<ProvisionerJob, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// Claims a pending job for `worker`, fairly across organizations: the job of the
/// organization running the fewest jobs now, oldest first among equals, skipping
/// organizations already running `per_org` jobs (`None`: no cap). `None` when there is no
/// such job (or, on PostgreSQL, when every one is being claimed by someone else right now).
pub async fn acquire(
    db: impl Into<Db<'_>>,
    worker: &str,
    now: DbTime,
    per_org: Option<u32>,
) -> Result<Option<ProvisionerJob>, StoreError> {
    let cap = per_org.map_or(i64::MAX, i64::from);
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| {
        let sql = dialect::acquire_job_sql(crate::db::backend_of(&*c));
        sqlx::query_as(sql).bind(now).bind(worker).bind(cap).fetch_optional(c).await
    })?)
}

/// Marks a job finished, failed when `error` is given. A job already completed is `NotFound`.
pub async fn complete(
    db: impl Into<Db<'_>>,
    id: JobId,
    error: Option<&str>,
    now: DbTime,
) -> Result<ProvisionerJob, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(COMPLETE)
        .bind(id)
        .bind(now)
        .bind(error)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Cancels a job that has not completed: at once if pending, by request if running.
pub async fn cancel(
    db: impl Into<Db<'_>>,
    id: JobId,
    now: DbTime,
) -> Result<ProvisionerJob, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(CANCEL).bind(id).bind(now).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// Appends log lines, numbered after the job's last line, in one transaction.
pub async fn append_logs(
    db: impl Into<Db<'_>>,
    job: JobId,
    logs: &[NewLog<'_>],
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        for log in logs {
            sqlx::query(INSERT_LOG)
                .bind(job)
                .bind(log.created_at)
                .bind(log.level)
                .bind(log.stage)
                .bind(log.output)
                .execute(&mut *c)
                .await?;
        }
    });
    tx.commit().await
}

/// A job's log lines after line `after` (0 for all), in order.
pub async fn list_logs(
    db: impl Into<Db<'_>>,
    job: JobId,
    after: i64,
) -> Result<Vec<JobLog>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_LOGS).bind(job).bind(after).fetch_all(c).await)?)
}

/// Records that `worker` is still running the job (its `updated_at`), and returns the job so
/// the worker sees a cancel request. `NotFound` when the job is no longer this worker's to
/// run: completed, or never claimed by it.
pub async fn heartbeat(
    db: impl Into<Db<'_>>,
    id: JobId,
    worker: &str,
    now: DbTime,
) -> Result<ProvisionerJob, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(HEARTBEAT)
        .bind(id)
        .bind(worker)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// A pending job's place in the queue, oldest first: (1-based position, number of pending
/// jobs). [`acquire`] may serve another organization's job first, so this is an estimate. Only meaningful while the job is pending; callers show
/// 0 for started jobs.
pub async fn queue_position(
    db: impl Into<Db<'_>>,
    job: &ProvisionerJob,
) -> Result<(i64, i64), StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(QUEUE)
        .bind(job.created_at)
        .bind(job.id)
        .fetch_one(c)
        .await)?)
}

const FAIL_STALE: &str = "UPDATE provisioner_jobs SET completed_at = $2, updated_at = $2, error = $3 \
     WHERE started_at IS NOT NULL AND completed_at IS NULL AND updated_at < $1";

/// Fails running jobs whose worker stopped heartbeating before `cutoff` (it died with its
/// process); returns how many. Safe on every replica at once: each row completes once.
pub async fn fail_stale(
    db: impl Into<Db<'_>>,
    cutoff: DbTime,
    now: DbTime,
) -> Result<u64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query(FAIL_STALE)
        .bind(cutoff)
        .bind(now)
        .bind("the provisioner worker stopped responding")
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}

/// The jobs with these ids, in one statement.
pub async fn get_many(
    db: impl Into<Db<'_>>,
    ids: &[JobId],
) -> Result<Vec<ProvisionerJob>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let select = concat!("SELECT ", job_cols!(), " FROM provisioner_jobs");
    crate::batch::by_ids(db.into(), select, "id", ids, "").await
}

/// The queue position and queue size (as [`queue_position`]) of each of these jobs that is
/// pending, in one statement.
pub async fn queue_positions(
    db: impl Into<Db<'_>>,
    ids: &[JobId],
) -> Result<Vec<(JobId, i64, i64)>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let select = "SELECT q.id, q.position, q.size FROM (SELECT id, \
         ROW_NUMBER() OVER (ORDER BY created_at, id) AS position, COUNT(*) OVER () AS size \
         FROM provisioner_jobs WHERE started_at IS NULL AND canceled_at IS NULL) q";
    crate::batch::by_ids(db.into(), select, "q.id", ids, "").await
}
