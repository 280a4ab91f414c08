//! Provisioner job logs, read once or followed: a workspace build's log (read as its
//! workspace) and a template version's import log (read as its template). A follow keeps
//! judging its reader while it runs, as a new request would be judged.

use crate::caller::current_subject;
use crate::convert::time;
use crate::templates::TemplateAuthz;
use crate::workspaces::WorkspaceAuthz;
use crate::{Domain, Error, Result, Shared};
use atrium_api::templates::ProvisionerJobLog;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs;
use atrium_store::{JobId, OrgId, TemplateId, WorkspaceId, templates, workspaces};
use std::time::{Duration, Instant};

/// How often a follower looks for new lines.
pub const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// How often a follower's access is checked again: a reader who is suspended, deleted, logged
/// out or loses read on the log's object stops receiving lines within this long.
pub const FOLLOW_RECHECK: Duration = Duration::from_secs(2);

/// What a reader must still be able to read to keep following a log.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Guarded {
    /// A build's log: its workspace.
    Workspace(WorkspaceId),
    /// An import's log: its template, or templates in the org while the version has none.
    Template(TemplateId),
    OrgTemplates(OrgId),
    /// A dry-run's log: the workspace it plans (the initiator's, in the version's org).
    DryRun {
        org: OrgId,
        initiator: atrium_store::UserId,
    },
}

/// A job's log, opened by a caller who may read it (`builds::open_log`,
/// `template_versions::open_log`).
pub struct JobLog {
    job: JobId,
    guarded: Guarded,
    key_id: String,
}

impl JobLog {
    pub(crate) fn new(job: JobId, guarded: Guarded, key_id: &str) -> JobLog {
        JobLog { job, guarded, key_id: key_id.to_owned() }
    }

    /// The lines so far after line id `after`.
    pub async fn lines(&self, d: &Domain, after: i64) -> Result<Vec<ProvisionerJobLog>> {
        let logs = jobs::list_logs(d.store(), self.job, after).await?;
        Ok(logs.into_iter().map(log_to_api).collect())
    }

    /// Follows the log after line id `after`: batches of new lines until the job ends or the
    /// reader may no longer read the log (checked every [`FOLLOW_RECHECK`]).
    pub fn follow(self, d: Shared, after: i64) -> Follow {
        Follow { d, log: self, after, done: false, revoked: false, checked: Instant::now() }
    }
}

/// The wire form of a log line.
fn log_to_api(l: jobs::JobLog) -> ProvisionerJobLog {
    ProvisionerJobLog {
        id: l.id,
        created_at: time(l.created_at),
        log_source: "provisioner".into(),
        log_level: l.level.as_str().to_owned(),
        stage: l.stage,
        output: l.output,
    }
}

/// Whether the session that opened a follow may still read the log's object, as a new request
/// would be judged ([`current_subject`]) against the object's current ACL.
async fn may_still_follow(d: &Domain, key_id: &str, guarded: Guarded) -> Result<bool> {
    let Some(subject) = current_subject(d, key_id).await? else { return Ok(false) };
    let allowed = match guarded {
        Guarded::Workspace(id) => {
            let ws = workspaces::get(d.store(), id).await?;
            let authz = WorkspaceAuthz::load(d, &ws).await?;
            subject.authorize(Action::Read, &authz.object()).allowed
        }
        Guarded::Template(id) => {
            let template = templates::get(d.store(), id).await?;
            if template.deleted {
                return Ok(false);
            }
            let authz = TemplateAuthz::load(d, &template).await?;
            subject.authorize(Action::Read, &authz.object()).allowed
        }
        Guarded::OrgTemplates(org) => {
            let object = Object::of(ResourceType::Template).in_org(org.uuid());
            subject.authorize(Action::Read, &object).allowed
        }
        Guarded::DryRun { org, initiator } => {
            let object = crate::dry_runs::planned_workspace(org, initiator);
            subject.authorize(Action::Read, &object).allowed
        }
    };
    Ok(allowed)
}

/// A follow of a job's log, between batches ([`Follow::next_batch`]).
pub struct Follow {
    d: Shared,
    log: JobLog,
    after: i64,
    done: bool,
    revoked: bool,
    checked: Instant,
}

impl Follow {
    /// The next batch of lines (waiting for one), or `None` at the end: after the batch that
    /// saw the job finished, once the reader lost access (re-judged every [`FOLLOW_RECHECK`];
    /// then [`Follow::revoked`] says so), or after an error. Cancel-safe: dropping the future
    /// between polls loses no line.
    pub async fn next_batch(&mut self) -> Option<Result<Vec<ProvisionerJobLog>>> {
        if self.done {
            return None;
        }
        loop {
            if self.checked.elapsed() >= FOLLOW_RECHECK {
                match may_still_follow(&self.d, &self.log.key_id, self.log.guarded).await {
                    Ok(true) => self.checked = Instant::now(),
                    Ok(false) => {
                        self.done = true;
                        self.revoked = true;
                        return None;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            // Read the status before the lines, so lines written just before completion are
            // still sent.
            let finished = match jobs::get(self.d.store(), self.log.job).await {
                Ok(j) => !j.status().is_active(),
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::internal(e)));
                }
            };
            let lines = match jobs::list_logs(self.d.store(), self.log.job, self.after).await {
                Ok(l) => l,
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::internal(e)));
                }
            };
            if !lines.is_empty() || finished {
                self.after = lines.last().map_or(self.after, |l| l.id);
                self.done = finished;
                return Some(Ok(lines.into_iter().map(log_to_api).collect()));
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }

    /// Whether the follow ended because its reader may no longer read the log.
    pub fn revoked(&self) -> bool {
        self.revoked
    }
}

/// Cancels `job` for an authorized caller (the caller checked the object the job builds or
/// imports) and records it on `entry` inside the same transaction: at once while pending, by
/// request while running (its worker ends it). A finished or already canceled job is Coder's
/// 400.
pub(crate) async fn cancel(
    d: &Domain,
    caller: &crate::Caller,
    job: JobId,
    entry: &mut crate::audit::Entry,
) -> Result<atrium_api::Response> {
    let row = jobs::get(d.store(), job).await?;
    if row.completed_at.is_some() {
        return Err(Error::bad_request("Job has already completed!"));
    }
    if row.canceled_at.is_some() {
        return Err(Error::bad_request("Job has already been marked as canceled!"));
    }
    let mut tx = d.store().begin().await?;
    jobs::cancel(&mut tx, job, atrium_store::DbTime::now()).await?;
    entry.changed(&serde_json::json!({"canceled": false}), &serde_json::json!({"canceled": true}));
    crate::audit::write(&mut tx, caller.meta(), entry, 200).await?;
    tx.commit().await?;
    Ok(atrium_api::Response::message("Job has been marked as canceled..."))
}
