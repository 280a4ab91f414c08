//! Template versions (coder-api.md §1.6): an uploaded source plus a provisioner; creating one
//! queues an import job, whose status and logs the version shows.
//!
//! A version is checked as its template (rbac.md §2); a version not yet attached to a
//! template (the first one, before `POST .../templates`) as an org-wide template object.

use crate::convert::time;
use crate::templates::readable_template;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
pub use atrium_api::templates::UpdateActiveTemplateVersion;
use atrium_api::templates::{
    MinimalUser, ProvisionerJob as ApiJob, ProvisionerJobInput, ProvisionerJobMetadata,
    TemplateVersion as ApiVersion,
};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus, ProvisionerJob};
use atrium_store::{JobKind, StoreError, TemplateVersionId, templates, users};
use uuid::Uuid;

/// Coder's text for job statuses.
pub fn status_str(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Pending => "pending",
        JobStatus::Running => "running",
        JobStatus::Succeeded => "succeeded",
        JobStatus::Canceling => "canceling",
        JobStatus::Canceled => "canceled",
        JobStatus::Failed => "failed",
    }
}

/// The wire `ProvisionerJob`, with its place in the queue while pending.
pub async fn job_to_api(
    state: &Domain,
    job: &ProvisionerJob,
    metadata: ProvisionerJobMetadata,
) -> Result<ApiJob> {
    let status = job.status();
    let (queue_position, queue_size) = if status == JobStatus::Pending {
        jobs::queue_position(state.legacy_store(), job).await?
    } else {
        (0, 0)
    };
    let input = match job.kind {
        JobKind::TemplateVersionImport => ProvisionerJobInput {
            template_version_id: uuid_field(&job.input.0, "template_version_id"),
            workspace_build_id: None,
        },
        JobKind::WorkspaceBuild => ProvisionerJobInput {
            template_version_id: None,
            workspace_build_id: uuid_field(&job.input.0, "workspace_build_id"),
        },
    };
    Ok(ApiJob {
        id: job.id.uuid(),
        created_at: time(job.created_at),
        started_at: job.started_at.map(time),
        completed_at: job.completed_at.map(time),
        canceled_at: job.canceled_at.map(time),
        error: job.error.clone().unwrap_or_default(),
        status: status_str(status).to_owned(),
        worker_id: job.worker_id.as_deref().and_then(|w| w.parse().ok()),
        file_id: job.file_id.map(|f| f.uuid()).unwrap_or_default(),
        tags: [("scope".to_owned(), "organization".to_owned())].into_iter().collect(),
        queue_position,
        queue_size,
        organization_id: job.org_id.uuid(),
        input,
        job_type: job.kind.as_str().to_owned(),
        metadata,
        logs_overflowed: false,
    })
}

pub fn uuid_field(input: &serde_json::Value, key: &str) -> Option<Uuid> {
    input.get(key).and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
}

/// The wire `TemplateVersion`, its import job included.
pub async fn to_api(state: &Domain, v: &templates::TemplateVersion) -> Result<ApiVersion> {
    let job = jobs::get(state.legacy_store(), v.job_id).await?;
    let template = match v.template_id {
        Some(t) => Some(templates::get(state.legacy_store(), t).await?),
        None => None,
    };
    let metadata = ProvisionerJobMetadata {
        template_version_name: v.name.clone(),
        template_id: v.template_id.map(|t| t.uuid()).unwrap_or_default(),
        template_name: template.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
        template_display_name: template
            .as_ref()
            .map(|t| t.display_name.clone())
            .unwrap_or_default(),
        template_icon: template.as_ref().map(|t| t.icon.clone()).unwrap_or_default(),
        workspace_id: None,
        workspace_name: String::new(),
    };
    let creator = users::get(state.legacy_store(), v.created_by).await?;
    Ok(ApiVersion {
        id: v.id.uuid(),
        template_id: v.template_id.map(|t| t.uuid()),
        organization_id: v.org_id.uuid(),
        created_at: time(v.created_at),
        updated_at: time(v.updated_at),
        name: v.name.clone(),
        message: v.message.clone(),
        job: job_to_api(state, &job, metadata).await?,
        readme: v.readme.clone(),
        created_by: MinimalUser {
            id: creator.id.uuid(),
            username: creator.username,
            name: creator.name,
            avatar_url: creator.avatar_url,
        },
        archived: false,
    })
}

/// Coder's `template_version_name`: alphanumeric runs joined by single `_`, `.` or `-`, at
/// most 64 characters.
pub fn version_name_valid(name: &str) -> bool {
    name.len() <= 64
        && name
            .split(['_', '.', '-'])
            .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A default version name in Coder's style (`adjective_noun`), from random bits.
pub fn generated_name() -> String {
    const ADJECTIVES: [&str; 16] = [
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lively", "merry",
        "nice", "proud", "quick", "silly", "witty", "zealous",
    ];
    const NOUNS: [&str; 16] = [
        "babbage", "curie", "darwin", "euler", "gauss", "hopper", "kepler", "lovelace", "meitner",
        "newton", "noether", "pascal", "ritchie", "shannon", "turing", "wozniak",
    ];
    let bytes = Uuid::new_v4().into_bytes();
    let adjective = ADJECTIVES[usize::from(bytes[0] & 15)];
    let noun = NOUNS[usize::from(bytes[1] & 15)];
    format!("{adjective}_{noun}{}", bytes[2] % 100)
}

/// A version the actor may read (as its template, or org-wide while it has none), or 404.
pub async fn readable_version(
    state: &Domain,
    actor: &Caller,
    param: &str,
) -> Result<templates::TemplateVersion> {
    let Ok(id) = param.parse::<TemplateVersionId>() else {
        return Err(Error::bad_request(format!("Invalid UUID \"{param}\".")));
    };
    let version = match templates::get_version(state.legacy_store(), id).await {
        Ok(v) => v,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    match version.template_id {
        Some(t) => {
            readable_template(state, actor, t).await?;
        }
        None => {
            let object = Object::of(ResourceType::Template).in_org(version.org_id.uuid());
            actor.require_or_404(Action::Read, &object)?;
        }
    }
    Ok(version)
}
