//! Templates (coder-api.md §1.6): create from an imported version, list by what you may read,
//! get, update, delete; the ACL lives in [`acl`].
//!
//! A template is checked as rbac.md §2 says: type `template`, its id, its org, no owner, and
//! its user and group ACL — so an Everyone entry (keyed by the org id) lets every org member
//! read and use it, and an `admin` entry is every template action.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::validate;
use atrium_api::Response as Message;
use atrium_api::templates::{CreateTemplateRequest, Template as ApiTemplate, UpdateTemplateMeta};
use atrium_domain::orgs::{org_object, resolve_org};
#[allow(unused_imports)]
use atrium_domain::templates::*;
use atrium_engine::name::validate_name;
use atrium_engine::query::{QueryError, TermParser, terms};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus};
use atrium_store::lists::{self, Page, TemplateQuery};
use atrium_store::{
    Acl, DbTime, GroupId, OrgId, StoreError, TemplateId, TemplateVersionId, orgs, templates,
    workspaces,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

mod acl;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_templates, create_template))
        .routes(routes!(get_template_by_name))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, update_template, delete_template))
        .merge(acl::routes())
}

/// Creates a template from an imported version; Everyone gets `use` unless asked otherwise
/// (or the server closes new templates by default).
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/templates", tag = "Templates",
    params(("organization" = String, Path)), request_body = CreateTemplateRequest,
    responses((status = 201, body = ApiTemplate), (status = 400, body = Message),
        (status = 403, body = Message), (status = 409, body = Message)))]
async fn create_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<CreateTemplateRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "template").by(&actor);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(&state, &actor, &org).await?;
        entry.org = Some(org.id);
        actor.require(Action::Create, &Object::of(ResourceType::Template).in_org(org.id.uuid()))?;
        if req.name.is_empty() {
            return Err(ApiError::required("name"));
        }
        if validate_name(&req.name).is_err() {
            return Err(ApiError::tag_failed("name", "template_name", &req.name));
        }
        validate_display_name(&req.display_name)?;
        validate::text("description", &req.description, validate::TEMPLATE_DESCRIPTION_MAX)?;
        validate::icon_url("icon", &req.icon)?;
        let version_id = req
            .template_version_id
            .filter(|v| !v.is_nil())
            .ok_or_else(|| ApiError::required("template_version_id"))?;
        let version =
            match templates::get_version(state.legacy_store(), TemplateVersionId(version_id)).await
            {
                Ok(v) if v.org_id == org.id => v,
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(version_missing(version_id).into());
                }
                Err(e) => return Err(e.into()),
            };
        if version.template_id.is_some() {
            return Err(ApiError::bad_request(format!(
                "Template version {version_id} is already part of a template"
            ))
            .validation("template_version_id", "Template version is already part of a template"));
        }
        let job = jobs::get(state.legacy_store(), version.job_id).await?;
        if job.status() != JobStatus::Succeeded {
            return Err(ApiError::bad_request(format!(
                "Template version {version_id} has not been imported successfully."
            ))
            .validation("template_version_id", "The version's import job has not succeeded"));
        }
        match templates::get_by_name(state.legacy_store(), org.id, &req.name).await {
            Ok(_) => return Err(name_taken(&req.name).into()),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let closed = req.disable_everyone_group_access || state.config.templates_closed_by_default;
        let acl = Acl {
            users: vec![],
            groups: if closed { vec![] } else { vec![(GroupId::everyone(org.id), use_actions())] },
        };
        let mut tx = state.legacy_store().begin().await?;
        let template = templates::insert(
            &mut tx,
            &templates::NewTemplate {
                id: TemplateId::new_v4(),
                org_id: org.id,
                name: &req.name,
                display_name: &req.display_name,
                description: &req.description,
                icon: &req.icon,
                active_version_id: Some(version.id),
                created_by: actor.id(),
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { constraint } if constraint == "templates_name_key" => {
                name_taken(&req.name)
            }
            e => e.into(),
        })?;
        templates::set_acl(&mut tx, template.id, &acl).await?;
        entry.resource(template.id.uuid(), template.name.clone());
        let mut new = template_json(&template);
        new["group_acl"] = atrium_domain::template_acl::acl_json(&acl)["group_acl"].clone();
        entry.changed(&json!({}), &new);
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        let body = Converter { orgs: HashMap::from([(org.id, org)]), ..Converter::default() }
            .convert(&state, &template)
            .await?;
        Ok(json_response(StatusCode::CREATED, &body))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// `q` for template lists (coder-api.md §2.4): free text, `name`, `exact_name`,
/// `display_name`, `ids` and `organization` (a name or id, which must be readable).
async fn parse_query(
    state: &Shared,
    actor: &Actor,
    params: &QueryParams,
) -> ApiResult<(TemplateQuery, Option<OrgId>)> {
    let q = params.single("q")?.unwrap_or_default();
    let mut p = TermParser::new(terms(q, "search").map_err(search_error)?);
    let query = TemplateQuery {
        search: p.string("search"),
        name: p.string("name"),
        exact_name: p.string("exact_name"),
        display_name: p.string("display_name"),
        ids: p.list("ids", |s| s.parse::<TemplateId>().ok()),
    };
    let org_param = p.string("organization");
    // Atrium has no deprecated templates and never lists deleted ones: asking for either
    // matches nothing, asking for their absence everything (Coder's UI sends
    // `deprecated:false`).
    let mut nothing = false;
    for key in ["deprecated", "deleted"] {
        match p.string(key).as_deref() {
            None | Some("false") => {}
            Some("true") => nothing = true,
            Some(other) => p.errors.push(QueryError {
                field: key.into(),
                detail: format!("Query param \"{key}\" must be a valid boolean: \"{other}\""),
            }),
        }
    }
    let mut query = query;
    if nothing {
        // No template has the nil id.
        query.ids = vec![TemplateId(Uuid::nil())];
    }
    let errors = p.finish();
    if !errors.is_empty() {
        return Err(search_error(errors).into());
    }
    let org = match org_param {
        None => None,
        Some(param) => {
            let found = orgs::get_by_id_or_name(state.legacy_store(), &param).await;
            match found {
                Ok(o) if actor.can(Action::Read, &org_object(o.id)) => Some(o.id),
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::from(search_error(vec![QueryError {
                        field: "organization".into(),
                        detail: format!(
                            "Organization \"{param}\" either does not exist, or you are unauthorized to view it"
                        ),
                    }])));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok((query, org))
}

async fn list(
    state: &Shared,
    actor: &Actor,
    org: Option<OrgId>,
    query: &TemplateQuery,
    params: &QueryParams,
) -> ApiResult<Response> {
    let page = crate::extract::Page::from_query(params)?;
    let filter = actor.subject.list_filter(Action::Read, ResourceType::Template);
    let listed = lists::templates(
        state.legacy_store(),
        org,
        query,
        &filter,
        Page { limit: page.limit, offset: page.offset },
    )
    .await?;
    let mut converter = Converter::default();
    let mut out = Vec::with_capacity(listed.rows.len());
    for t in &listed.rows {
        out.push(converter.convert(state, t).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// The org's templates the caller may read, by name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/templates", tag = "Templates",
    params(("organization" = String, Path), ("q" = Option<String>, Query)),
    responses((status = 200, body = Vec<ApiTemplate>), (status = 404, body = Message)))]
async fn list_org_templates(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &org).await?;
    // The path's org wins over a `q` organization, as in Coder.
    let (query, _) = parse_query(&state, &actor, &params).await?;
    list(&state, &actor, Some(org.id), &query, &params).await
}

/// Every template the caller may read, across orgs.
#[utoipa::path(get, path = "/api/v2/templates", tag = "Templates",
    params(("q" = Option<String>, Query)),
    responses((status = 200, body = Vec<ApiTemplate>), (status = 400, body = Message)))]
async fn list_templates(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let (query, org) = parse_query(&state, &actor, &params).await?;
    list(&state, &actor, org, &query, &params).await
}

/// A template by org and name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/templates/{templatename}",
    tag = "Templates", params(("organization" = String, Path), ("templatename" = String, Path)),
    responses((status = 200, body = ApiTemplate), (status = 404, body = Message)))]
async fn get_template_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &org).await?;
    let template = match templates::get_by_name(state.legacy_store(), org.id, &name).await {
        Ok(t) => t,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let resolved = readable_template(&state, &actor, template.id).await?;
    Ok(json_response(StatusCode::OK, &to_api(&state, &resolved.template).await?))
}

/// A template by id.
#[utoipa::path(get, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)),
    responses((status = 200, body = ApiTemplate), (status = 404, body = Message)))]
async fn get_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(template): Path<String>,
) -> ApiResult<Response> {
    let resolved = resolve(&state, &actor, &template).await?;
    Ok(json_response(StatusCode::OK, &to_api(&state, &resolved.template).await?))
}

/// Changes name, display name, description or icon (absent fields keep their value);
/// `disable_everyone_group_access: true` also drops the Everyone group's ACL entry.
#[utoipa::path(patch, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)), request_body = UpdateTemplateMeta,
    responses((status = 200, body = ApiTemplate), (status = 403, body = Message),
        (status = 409, body = Message)))]
async fn update_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateTemplateMeta>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "template").by(&actor);
    let result = async {
        let Resolved { template, authz } = resolve(&state, &actor, &param).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        actor.require(Action::Update, &authz.object())?;
        // An empty name keeps the old one (Coder: users cannot clear it).
        let name = req.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&template.name);
        if validate_name(name).is_err() {
            return Err(ApiError::tag_failed("name", "template_name", name));
        }
        let display_name = req.display_name.as_deref().unwrap_or(&template.display_name);
        validate_display_name(display_name)?;
        if let Some(d) = &req.description {
            validate::text("description", d, validate::TEMPLATE_DESCRIPTION_MAX)?;
        }
        validate::icon_url("icon", req.icon.as_deref().unwrap_or_default())?;
        let update = templates::TemplateUpdate {
            name,
            display_name,
            description: req.description.as_deref().unwrap_or(&template.description),
            icon: req.icon.as_deref().unwrap_or(&template.icon),
        };
        let mut tx = state.legacy_store().begin().await?;
        let updated = templates::update(&mut tx, template.id, &update, DbTime::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { constraint } if constraint == "templates_name_key" => {
                    name_taken(name)
                }
                e => e.into(),
            })?;
        let mut old = template_json(&template);
        let mut new = template_json(&updated);
        if req.disable_everyone_group_access == Some(true) {
            let mut acl = templates::get_acl(&mut tx, template.id).await?;
            old["group_acl"] = atrium_domain::template_acl::acl_json(&acl)["group_acl"].clone();
            acl.groups.retain(|(g, _)| !g.is_everyone_of(template.org_id));
            templates::set_acl(&mut tx, template.id, &acl).await?;
            new["group_acl"] = atrium_domain::template_acl::acl_json(&acl)["group_acl"].clone();
        }
        entry.resource(updated.id.uuid(), updated.name.clone());
        entry.changed(&old, &new);
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &to_api(&state, &updated).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Deletes a template; refused while any live workspace uses it.
#[utoipa::path(delete, path = "/api/v2/templates/{template}", tag = "Templates",
    params(("template" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message)))]
async fn delete_template(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "template").by(&actor);
    let result = async {
        let Resolved { template, authz } = resolve(&state, &actor, &param).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        actor.require(Action::Delete, &authz.object())?;
        let mut tx = state.legacy_store().begin().await?;
        // The store counts the workspaces whoever asks (those the caller cannot see still use
        // the template), under a lock a racing workspace creation also takes.
        templates::soft_delete(&mut tx, template.id, DbTime::now()).await.map_err(|e| match e {
            StoreError::Conflict { constraint }
                if constraint == workspaces::TEMPLATE_HAS_WORKSPACES =>
            {
                ApiError::bad_request(
                    "All workspaces must be deleted before a template can be removed.",
                )
            }
            e => e.into(),
        })?;
        entry.changed(&json!({"deleted": false}), &json!({"deleted": true}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Template has been deleted!")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
