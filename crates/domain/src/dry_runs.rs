//! Template version dry-runs (Coder's `/templateversions/{id}/dry-run` family): a plan of the
//! workspace a version would build, queued as a `template_version_dry_run` job and run by the
//! same workers as imports and builds ([`crate::jobs`]). `coder create` and `coder start` start
//! one before every build, then read its matched provisioners, status, log and resources.
//!
//! Authorized as Coder does: the version must be readable (404); starting one needs `create`
//! on a workspace of the caller's in the version's org (404 otherwise: no dry-run for who may
//! not create workspaces); reading one needs `read` on a workspace of its initiator in that org
//! (403), and cancelling one `update` on it (404). A job that is not a dry-run, or a dry-run of
//! another version, is a 403.

use atrium_api::Response as Message;
use atrium_api::clients::{CreateTemplateVersionDryRunRequest, MatchedProvisioners};
use atrium_api::templates::{ProvisionerJob as ApiJob, ProvisionerJobMetadata};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, NewJob, ProvisionerJob};
use atrium_store::{DbTime, JobId, JobKind, OrgId, StoreError, UserId, templates};
use serde_json::{Value, json};

use crate::job_logs::{Guarded, JobLog};
use crate::template_versions::{job_to_api, readable_version};
use crate::{Caller, Domain, Error, Kind, Result};

/// The workspace a dry-run plans, as an authorization object: `initiator`'s, in `org`.
pub(crate) fn planned_workspace(org: OrgId, initiator: UserId) -> Object<'static> {
    Object::of(ResourceType::Workspace).in_org(org.uuid()).with_owner(initiator.uuid())
}

fn metadata(version: &templates::TemplateVersion, job: &ProvisionerJob) -> ProvisionerJobMetadata {
    ProvisionerJobMetadata {
        template_version_name: version.name.clone(),
        template_id: version.template_id.map(|t| t.uuid()).unwrap_or_default(),
        workspace_name: job
            .input
            .0
            .get("workspace_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        ..Default::default()
    }
}

/// Queues a dry-run of a readable version whose import has finished (425 before that), with
/// the import's provisioner and source.
pub async fn create(
    d: &Domain,
    caller: &Caller,
    version: &str,
    req: CreateTemplateVersionDryRunRequest,
) -> Result<ApiJob> {
    let version = readable_version(d, caller, version).await?;
    caller.require_or_404(Action::Create, &planned_workspace(version.org_id, caller.id()))?;
    let import = jobs::get(d.store(), version.job_id).await?;
    if import.completed_at.is_none() {
        return Err(Error::new(Kind::TooEarly, "Template version import job hasn't completed!"));
    }
    let input = json!({
        "template_version_id": version.id,
        "workspace_name": req.workspace_name,
        "rich_parameter_values": req.rich_parameter_values,
    });
    let job = jobs::insert(
        d.store(),
        &NewJob {
            id: JobId::new_v4(),
            org_id: version.org_id,
            initiator_id: caller.id(),
            kind: JobKind::TemplateVersionDryRun,
            provisioner: &import.provisioner,
            file_id: import.file_id,
            input: &input,
            created_at: DbTime::now(),
        },
    )
    .await?;
    d.jobs.wake();
    job_to_api(d, &job, metadata(&version, &job)).await
}

/// A dry-run of `version` the caller may read, with the version.
async fn readable_dry_run(
    d: &Domain,
    caller: &Caller,
    version: &str,
    job: &str,
) -> Result<(templates::TemplateVersion, ProvisionerJob)> {
    let version = readable_version(d, caller, version).await?;
    let Ok(id) = job.parse::<JobId>() else {
        return Err(Error::bad_request(format!("Job ID \"{job}\" must be a valid UUID.")));
    };
    let job = match jobs::get(d.store(), id).await {
        Ok(j) => j,
        Err(StoreError::NotFound { .. }) => {
            return Err(Error::new(Kind::NotFound, format!("Provisioner job \"{id}\" not found.")));
        }
        Err(e) => return Err(e.into()),
    };
    if job.kind != JobKind::TemplateVersionDryRun {
        return Err(Error::forbidden());
    }
    caller.require(Action::Read, &planned_workspace(version.org_id, job.initiator_id))?;
    let planned = job.input.0.get("template_version_id").and_then(Value::as_str);
    if planned != Some(version.id.to_string().as_str()) {
        return Err(Error::forbidden());
    }
    Ok((version, job))
}

/// A dry-run's job.
pub async fn get(d: &Domain, caller: &Caller, version: &str, job: &str) -> Result<ApiJob> {
    let (version, job) = readable_dry_run(d, caller, version, job).await?;
    job_to_api(d, &job, metadata(&version, &job)).await
}

/// The provisioners that could run the dry-run: every in-process worker (`--provisioner-daemons`)
/// serves every organization and both provisioners, and is alive while the server is.
pub async fn matched_provisioners(
    d: &Domain,
    caller: &Caller,
    version: &str,
    job: &str,
) -> Result<MatchedProvisioners> {
    readable_dry_run(d, caller, version, job).await?;
    let count = i64::try_from(d.config.provisioner_daemons).unwrap_or(i64::MAX);
    let seen = (count > 0).then(|| crate::convert::time(DbTime::now()));
    Ok(MatchedProvisioners { count, available: count, most_recently_seen: seen })
}

/// The resources the dry-run planned, once it completed (400 before, as Coder): the plan's
/// managed resources in Coder's `WorkspaceResource` shape (no agents: Atrium has none yet).
pub async fn resources(
    d: &Domain,
    caller: &Caller,
    version: &str,
    job: &str,
) -> Result<Vec<Value>> {
    let (_, job) = readable_dry_run(d, caller, version, job).await?;
    if job.completed_at.is_none() {
        return Err(Error::bad_request("Job hasn't completed!"));
    }
    planned_resources(d, job.id).await
}

/// The resources a job planned (an import's start and stop plans, a dry-run's start plan) in
/// Coder's `WorkspaceResource` shape, without agents (Atrium has none yet).
pub(crate) async fn planned_resources(d: &Domain, job: JobId) -> Result<Vec<Value>> {
    let planned = atrium_store::job_resources::list(d.store(), job).await?;
    Ok(planned
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id.uuid(), "created_at": crate::convert::time(r.created_at),
                "job_id": r.job_id.uuid(), "workspace_transition": r.transition.as_str(),
                "type": r.type_, "name": r.name, "hide": false, "icon": "", "daily_cost": 0,
            })
        })
        .collect())
}

/// Opens a dry-run's log; the follow keeps checking `read` on the planned workspace.
pub async fn open_log(d: &Domain, caller: &Caller, version: &str, job: &str) -> Result<JobLog> {
    let (version, job) = readable_dry_run(d, caller, version, job).await?;
    let guarded = Guarded::DryRun { org: version.org_id, initiator: job.initiator_id };
    Ok(JobLog::new(job.id, guarded, caller.key_id()))
}

/// Cancels a dry-run: at once while pending, by request while running.
pub async fn cancel(d: &Domain, caller: &Caller, version: &str, job: &str) -> Result<Message> {
    let (version, job) = readable_dry_run(d, caller, version, job).await?;
    caller.require_or_404(Action::Update, &planned_workspace(version.org_id, job.initiator_id))?;
    if job.completed_at.is_some() {
        return Err(Error::bad_request("Job has already completed."));
    }
    if job.canceled_at.is_some() {
        return Err(Error::bad_request("Job has already been marked as canceled."));
    }
    match jobs::cancel(d.store(), job.id, DbTime::now()).await {
        Ok(_) => Ok(Message::message("Job has been marked as canceled.")),
        // It completed meanwhile.
        Err(StoreError::NotFound { .. }) => Err(Error::bad_request("Job has already completed.")),
        Err(e) => Err(e.into()),
    }
}
