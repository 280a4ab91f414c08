//! Template versions (coder-api.md §1.6): an uploaded source plus a provisioner; creating one
//! queues an import job, whose status and logs the version shows.
//!
//! A version is checked as its template (rbac.md §2); a version not yet attached to a
//! template (the first one, before `POST .../templates`) as an org-wide template object.

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::files::readable_file;
use crate::job_logs::{Guarded, JobLog};
use crate::jobs::provisioner::Provisioner;
use crate::orgs::resolve_org;
use crate::templates::{Resolved, readable_template, template_id};
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::Response as Message;
use atrium_api::templates::{
    CreateTemplateVersionRequest, MinimalUser, ProvisionerJob as ApiJob, ProvisionerJobInput,
    ProvisionerJobMetadata, TemplateVersion as ApiVersion, UpdateActiveTemplateVersion,
};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus, ProvisionerJob};
use atrium_store::{
    DbTime, FileId, JobId, JobKind, StoreError, TemplateId, TemplateVersionId, templates, users,
};
use serde_json::json;
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
    let queue = if job.status() == JobStatus::Pending {
        jobs::queue_position(state.store(), job).await?
    } else {
        (0, 0)
    };
    Ok(job_view(job, metadata, queue))
}

/// The wire job, its queue position and size already known (`(0, 0)` unless pending).
pub fn job_view(
    job: &ProvisionerJob,
    metadata: ProvisionerJobMetadata,
    (queue_position, queue_size): (i64, i64),
) -> ApiJob {
    let status = job.status();
    let input = match job.kind {
        JobKind::TemplateVersionImport | JobKind::TemplateVersionDryRun => ProvisionerJobInput {
            template_version_id: uuid_field(&job.input.0, "template_version_id"),
            workspace_build_id: None,
        },
        JobKind::WorkspaceBuild => ProvisionerJobInput {
            template_version_id: None,
            workspace_build_id: uuid_field(&job.input.0, "workspace_build_id"),
        },
    };
    ApiJob {
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
    }
}

fn uuid_field(input: &serde_json::Value, key: &str) -> Option<Uuid> {
    input.get(key).and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
}

/// The wire `TemplateVersion`, its import job included.
pub async fn to_api(state: &Domain, v: &templates::TemplateVersion) -> Result<ApiVersion> {
    let job = jobs::get(state.store(), v.job_id).await?;
    let template = match v.template_id {
        Some(t) => Some(templates::get(state.store(), t).await?),
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
    let creator = users::get(state.store(), v.created_by).await?;
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
fn version_name_valid(name: &str) -> bool {
    name.len() <= 64
        && name
            .split(['_', '.', '-'])
            .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A default version name in Coder's style (`adjective_noun`), from random bits.
fn generated_name() -> String {
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
    let version = match templates::get_version(state.store(), id).await {
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

/// Queues an import of an uploaded source with the `echo` or `terraform` provisioner. The org
/// must be readable; a version of an existing template needs `update` on that template, a
/// first version `create` on templates in the org; the file must be readable (404).
pub async fn create(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: CreateTemplateVersionRequest,
) -> Result<ApiVersion> {
    let mut entry = Entry::new("create", "template_version").by(caller);
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        // A version of an existing template changes that template; a first version needs the
        // right to create templates in the org.
        let template = match req.template_id.filter(|t| !t.is_nil()) {
            Some(id) => {
                let missing = || Error::new(Kind::NotFound, "Template does not exist.");
                let resolved = match readable_template(d, caller, TemplateId(id)).await {
                    Ok(r) if r.template.org_id == org.id => r,
                    Ok(_) => return Err(missing()),
                    Err(e) if e.kind == Kind::NotFound => return Err(missing()),
                    Err(e) => return Err(e),
                };
                caller.require(Action::Update, &resolved.authz.object())?;
                Some(resolved.template)
            }
            None => {
                let object = Object::of(ResourceType::Template).in_org(org.id.uuid());
                caller.require(Action::Create, &object)?;
                None
            }
        };
        match req.storage_method.as_str() {
            "file" => {}
            "" => return Err(Error::required("storage_method")),
            other => return Err(Error::tag_failed("storage_method", "oneof", other)),
        }
        let provisioner = match req.provisioner.as_str() {
            "" => return Err(Error::required("provisioner")),
            p => {
                Provisioner::parse(p).ok_or_else(|| Error::tag_failed("provisioner", "oneof", p))?
            }
        };
        if !req.example_id.is_empty() {
            return Err(Error::bad_request(
                "Atrium has no bundled examples; upload the template as a file instead.",
            ));
        }
        let file_id =
            req.file_id.filter(|f| !f.is_nil()).ok_or_else(|| Error::required("file_id"))?;
        let file = match readable_file(d, caller, FileId(file_id)).await {
            Ok(f) => f,
            Err(e) if e.kind == Kind::NotFound => {
                return Err(Error::new(Kind::NotFound, "File not found."));
            }
            Err(e) => return Err(e),
        };
        let name = if req.name.is_empty() { generated_name() } else { req.name.clone() };
        if !version_name_valid(&name) {
            return Err(Error::tag_failed("name", "template_version_name", &name));
        }
        if req.message.len() > 1 << 20 {
            return Err(Error::tag_failed("message", "lt", "…"));
        }
        // The archive's README.md, shown on the version's page (as Coder does); an archive
        // that cannot be read fails its import job instead, so an error here means no readme.
        let readme = crate::jobs::archive::read_file(&file.data, "README.md")
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let now = DbTime::now();
        let version_id = TemplateVersionId::new_v4();
        let mut tx = d.store().begin().await?;
        let job = jobs::insert(
            &mut tx,
            &jobs::NewJob {
                id: JobId::new_v4(),
                org_id: org.id,
                initiator_id: caller.id(),
                kind: JobKind::TemplateVersionImport,
                provisioner: provisioner.as_str(),
                file_id: Some(file.id),
                input: &json!({"template_version_id": version_id,
                               "user_variable_values": req.user_variable_values}),
                created_at: now,
            },
        )
        .await?;
        let version = templates::insert_version(
            &mut tx,
            &templates::NewTemplateVersion {
                id: version_id,
                template_id: template.as_ref().map(|t| t.id),
                org_id: org.id,
                name: &name,
                message: &req.message,
                readme: &readme,
                job_id: job.id,
                file_id: Some(file.id),
                created_by: caller.id(),
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { constraint }
                if constraint == "template_versions_template_id_name_key" =>
            {
                Error::conflict(format!("A template version named \"{name}\" already exists."))
                    .validation("name", "This value is already in use and should be unique.")
            }
            e => e.into(),
        })?;
        entry.resource(version.id.uuid(), version.name.clone());
        entry.changed(
            &json!({}),
            &json!({"name": version.name, "template_id": version.template_id,
                    "file_id": file.id, "provisioner": provisioner.as_str()}),
        );
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        d.jobs.wake();
        to_api(d, &version).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// A version the caller may read ([`readable_version`]), with its import job's status.
pub async fn get(d: &Domain, caller: &Caller, version: &str) -> Result<ApiVersion> {
    let version = readable_version(d, caller, version).await?;
    to_api(d, &version).await
}

/// Opens a version's import log for following; needs read on the version as
/// [`readable_version`] judges it (404 otherwise). The follow re-judges its reader the same way.
pub async fn open_log(d: &Domain, caller: &Caller, version: &str) -> Result<JobLog> {
    let version = readable_version(d, caller, version).await?;
    let guarded = match version.template_id {
        Some(t) => Guarded::Template(t),
        None => Guarded::OrgTemplates(version.org_id),
    };
    Ok(JobLog::new(version.job_id, guarded, caller.key_id()))
}

/// A readable template's versions (404 otherwise), oldest first.
pub async fn list(
    d: &Domain,
    caller: &Caller,
    template: &str,
    page: crate::Page,
    after_id: Option<Uuid>,
) -> Result<Vec<ApiVersion>> {
    let Resolved { template, .. } = readable_template(d, caller, template_id(template)?).await?;
    let mut versions = templates::list_versions(d.store(), template.id).await?;
    if let Some(after) = after_id {
        // As Coder pages them: the versions after the cursor in (created_at, id) order. The
        // cursor must be one of this template's versions.
        let at = versions.iter().position(|v| v.id.uuid() == after).ok_or_else(|| {
            Error::bad_request(format!("Record at \"after_id\" (\"{after}\") does not exists."))
        })?;
        versions.drain(..=at);
    }
    let mut out = Vec::new();
    for v in crate::paging::page(versions, page) {
        out.push(to_api(d, &v).await?);
    }
    Ok(out)
}

/// Makes one of the template's successfully imported versions the active one. Needs a
/// readable template (404) and `update` on it (403).
pub async fn set_active(
    d: &Domain,
    caller: &Caller,
    template: &str,
    req: UpdateActiveTemplateVersion,
) -> Result<Message> {
    let mut entry = Entry::new("write", "template").by(caller);
    let result = async {
        let Resolved { template, authz } =
            readable_template(d, caller, template_id(template)?).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        caller.require(Action::Update, &authz.object())?;
        let id = req.id.filter(|v| !v.is_nil()).ok_or_else(|| Error::required("id"))?;
        let version = match templates::get_version(d.store(), TemplateVersionId(id)).await {
            Ok(v) => v,
            Err(StoreError::NotFound { .. }) => {
                return Err(Error::new(Kind::NotFound, "Template version not found."));
            }
            Err(e) => return Err(e.into()),
        };
        if version.template_id != Some(template.id) {
            return Err(Error::bad_request(
                "The provided template version doesn't belong to the specified template.",
            ));
        }
        let status = jobs::get(d.store(), version.job_id).await?.status();
        if status != JobStatus::Succeeded {
            return Err(Error::bad_request(
                "Only versions that have been built successfully can be promoted.",
            )
            .detail(format!(
                "Attempted to promote a version with a {} build",
                status_str(status)
            )));
        }
        let mut tx = d.store().begin().await?;
        templates::set_active_version(&mut tx, template.id, version.id, DbTime::now()).await?;
        entry.changed(
            &json!({"active_version_id": template.active_version_id}),
            &json!({"active_version_id": version.id}),
        );
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(Message::message("Updated the active template version!"))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}
