//! Template versions (coder-api.md §1.6): an uploaded source plus a provisioner; creating one
//! queues an import job, whose status and logs the version shows.
//!
//! A version is checked as its template (rbac.md §2); a version not yet attached to a
//! template (the first one, before `POST .../templates`) as an org-wide template object.

use atrium_api::Response as Message;
use atrium_api::templates::{
    CreateTemplateVersionRequest, MinimalUser, ProvisionerJob as ApiJob, ProvisionerJobInput,
    ProvisionerJobLog, ProvisionerJobMetadata, TemplateVersion as ApiVersion,
};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus, ProvisionerJob};
use atrium_store::{
    DbTime, FileId, JobId, JobKind, StoreError, TemplateId, TemplateVersionId, templates, users,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::convert::time;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::jobs::provisioner::Provisioner;
use crate::routes::files::readable_file;
use crate::routes::orgs::resolve_org;
use crate::routes::templates::{Resolved, readable_template, template_id};

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_version))
        .routes(routes!(get_version))
        .routes(routes!(get_version_logs))
        .routes(routes!(list_template_versions, set_active_version))
}

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
    state: &Shared,
    job: &ProvisionerJob,
    metadata: ProvisionerJobMetadata,
) -> ApiResult<ApiJob> {
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

fn uuid_field(input: &serde_json::Value, key: &str) -> Option<Uuid> {
    input.get(key).and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
}

/// The wire `TemplateVersion`, its import job included.
pub async fn to_api(state: &Shared, v: &templates::TemplateVersion) -> ApiResult<ApiVersion> {
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

/// Queues an import of an uploaded source with the `echo` or `terraform` provisioner.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/templateversions",
    tag = "Templates", params(("organization" = String, Path)),
    request_body = CreateTemplateVersionRequest,
    responses((status = 201, body = ApiVersion), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn create_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<CreateTemplateVersionRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "template_version").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &org).await?;
        entry.org = Some(org.id);
        // A version of an existing template changes that template; a first version needs the
        // right to create templates in the org.
        let template = match req.template_id.filter(|t| !t.is_nil()) {
            Some(id) => {
                let missing = || ApiError::new(StatusCode::NOT_FOUND, "Template does not exist.");
                let resolved = match readable_template(&state, &actor, TemplateId(id)).await {
                    Ok(r) if r.template.org_id == org.id => r,
                    Ok(_) => return Err(missing()),
                    Err(e) if e.status() == StatusCode::NOT_FOUND => return Err(missing()),
                    Err(e) => return Err(e),
                };
                actor.require(Action::Update, &resolved.authz.object())?;
                Some(resolved.template)
            }
            None => {
                let object = Object::of(ResourceType::Template).in_org(org.id.uuid());
                actor.require(Action::Create, &object)?;
                None
            }
        };
        match req.storage_method.as_str() {
            "file" => {}
            "" => return Err(ApiError::required("storage_method")),
            other => return Err(ApiError::tag_failed("storage_method", "oneof", other)),
        }
        let provisioner = match req.provisioner.as_str() {
            "" => return Err(ApiError::required("provisioner")),
            p => Provisioner::parse(p)
                .ok_or_else(|| ApiError::tag_failed("provisioner", "oneof", p))?,
        };
        if !req.example_id.is_empty() {
            return Err(ApiError::bad_request(
                "Atrium has no bundled examples; upload the template as a file instead.",
            ));
        }
        let file_id =
            req.file_id.filter(|f| !f.is_nil()).ok_or_else(|| ApiError::required("file_id"))?;
        let file = match readable_file(&state, &actor, FileId(file_id)).await {
            Ok(f) => f,
            Err(e) if e.status() == StatusCode::NOT_FOUND => {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "File not found."));
            }
            Err(e) => return Err(e),
        };
        let name = if req.name.is_empty() { generated_name() } else { req.name.clone() };
        if !version_name_valid(&name) {
            return Err(ApiError::tag_failed("name", "template_version_name", &name));
        }
        if req.message.len() > 1 << 20 {
            return Err(ApiError::tag_failed("message", "lt", "…"));
        }
        let now = DbTime::now();
        let version_id = TemplateVersionId::new_v4();
        let mut tx = state.legacy_store().begin().await?;
        let job = jobs::insert(
            &mut tx,
            &jobs::NewJob {
                id: JobId::new_v4(),
                org_id: org.id,
                initiator_id: actor.id(),
                kind: JobKind::TemplateVersionImport,
                provisioner: provisioner.as_str(),
                file_id: Some(file.id),
                input: &json!({"template_version_id": version_id}),
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
                readme: "",
                job_id: job.id,
                file_id: Some(file.id),
                created_by: actor.id(),
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { constraint }
                if constraint == "template_versions_template_id_name_key" =>
            {
                ApiError::conflict(format!("A template version named \"{name}\" already exists."))
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
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        state.jobs.wake();
        Ok(json_response(StatusCode::CREATED, &to_api(&state, &version).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// A version the actor may read (as its template, or org-wide while it has none), or 404.
pub async fn readable_version(
    state: &Shared,
    actor: &Actor,
    param: &str,
) -> ApiResult<templates::TemplateVersion> {
    let Ok(id) = param.parse::<TemplateVersionId>() else {
        return Err(ApiError::bad_request(format!("Invalid UUID \"{param}\".")));
    };
    let version = match templates::get_version(state.legacy_store(), id).await {
        Ok(v) => v,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
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

/// A template version, with its import job's status.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}", tag = "Templates",
    params(("templateversion" = Uuid, Path)),
    responses((status = 200, body = ApiVersion), (status = 404, body = Message)))]
async fn get_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let version = readable_version(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &to_api(&state, &version).await?))
}

/// The import job's log lines, after line `after` if given.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/logs", tag = "Templates",
    params(("templateversion" = Uuid, Path), ("after" = Option<i64>, Query)),
    responses((status = 200, body = Vec<ProvisionerJobLog>), (status = 404, body = Message)))]
async fn get_version_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let version = readable_version(&state, &actor, &param).await?;
    let after = match params.single("after")? {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|e| {
            ApiError::bad_request("Query parameters have invalid values.").validation(
                "after",
                format!("Query param \"after\" must be a valid 64-bit integer: {e}"),
            )
        })?,
    };
    let logs = jobs::list_logs(state.legacy_store(), version.job_id, after).await?;
    let out: Vec<ProvisionerJobLog> = logs
        .into_iter()
        .map(|l| ProvisionerJobLog {
            id: l.id,
            created_at: time(l.created_at),
            log_source: "provisioner".into(),
            log_level: l.level.as_str().to_owned(),
            stage: l.stage,
            output: l.output,
        })
        .collect();
    Ok(json_response(StatusCode::OK, &out))
}

/// A template's versions, oldest first.
#[utoipa::path(get, path = "/api/v2/templates/{template}/versions", tag = "Templates",
    params(("template" = Uuid, Path)),
    responses((status = 200, body = Vec<ApiVersion>), (status = 404, body = Message)))]
async fn list_template_versions(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let Resolved { template, .. } = readable_template(&state, &actor, template_id(&param)?).await?;
    let mut out = Vec::new();
    for v in templates::list_versions(state.legacy_store(), template.id).await? {
        out.push(to_api(&state, &v).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// `PATCH /templates/{template}/versions`: `{"id": <version>}`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
struct UpdateActiveTemplateVersion {
    #[serde(default)]
    id: Option<Uuid>,
}

/// Makes one of the template's successfully imported versions the active one.
#[utoipa::path(patch, path = "/api/v2/templates/{template}/versions", tag = "Templates",
    params(("template" = Uuid, Path)), request_body = UpdateActiveTemplateVersion,
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn set_active_version(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateActiveTemplateVersion>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "template").by(&actor);
    let result = async {
        let Resolved { template, authz } =
            readable_template(&state, &actor, template_id(&param)?).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        actor.require(Action::Update, &authz.object())?;
        let id = req.id.filter(|v| !v.is_nil()).ok_or_else(|| ApiError::required("id"))?;
        let version = match templates::get_version(state.legacy_store(), TemplateVersionId(id))
            .await
        {
            Ok(v) => v,
            Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "Template version not found."));
            }
            Err(e) => return Err(e.into()),
        };
        if version.template_id != Some(template.id) {
            return Err(ApiError::bad_request(
                "The provided template version doesn't belong to the specified template.",
            ));
        }
        let status = jobs::get(state.legacy_store(), version.job_id).await?.status();
        if status != JobStatus::Succeeded {
            return Err(ApiError::bad_request(
                "Only versions that have been built successfully can be promoted.",
            )
            .detail(format!(
                "Attempted to promote a version with a {} build",
                status_str(status)
            )));
        }
        let mut tx = state.legacy_store().begin().await?;
        templates::set_active_version(&mut tx, template.id, version.id, DbTime::now()).await?;
        entry.changed(
            &json!({"active_version_id": template.active_version_id}),
            &json!({"active_version_id": version.id}),
        );
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Updated the active template version!")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
