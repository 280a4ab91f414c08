//! Template versions (coder-api.md §1.6): an uploaded source plus a provisioner; creating one
//! queues an import job, whose status and logs the version shows.
//!
//! A version is checked as its template (rbac.md §2); a version not yet attached to a
//! template (the first one, before `POST .../templates`) as an org-wide template object.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::convert::time;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::jobs::provisioner::Provisioner;
use atrium_api::Response as Message;
use atrium_api::templates::{
    CreateTemplateVersionRequest, ProvisionerJobLog, TemplateVersion as ApiVersion,
};
use atrium_domain::files::readable_file;
use atrium_domain::orgs::resolve_org;
#[allow(unused_imports)]
use atrium_domain::template_versions::*;
use atrium_domain::templates::{Resolved, readable_template, template_id};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus};
use atrium_store::{
    DbTime, FileId, JobId, JobKind, StoreError, TemplateId, TemplateVersionId, templates,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_version))
        .routes(routes!(get_version))
        .routes(routes!(get_version_logs))
        .routes(routes!(list_template_versions, set_active_version))
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
                    Err(e) => return Err(e.into()),
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
            Err(e) => return Err(e.into()),
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
