//! Workspaces (coder-api.md §1.7, §2.3): create (also on a user's behalf), list with `q`, get,
//! rename. Builds live in [`super::builds`].

use crate::Shared;
use crate::actor::{Actor, load_subject_input};
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::workspaces::{
    CreateWorkspaceRequest, UpdateWorkspaceRequest, Workspace, WorkspacesResponse,
};
use atrium_domain::builds::queue_build;
use atrium_domain::orgs::resolve_org;
use atrium_domain::templates::TemplateAuthz;
use atrium_domain::users::resolve_user;
#[allow(unused_imports)]
use atrium_domain::workspaces::*;
use atrium_engine::name::validate_name;
use atrium_engine::{Action, Object, ResourceType, RoleOptions, Scope};
use atrium_store::lists::Page;
use atrium_store::workspace_list::{self};
use atrium_store::{
    BuildReason, BuildTransition, DbTime, StoreError, TemplateId, TemplateVersionId, WorkspaceId,
    orgs, templates, users, workspaces,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_in_org))
        .routes(routes!(create_for_user))
        .routes(routes!(list_workspaces))
        .routes(routes!(get_workspace, rename_workspace))
        .routes(routes!(get_by_owner_and_name))
}

/// The create flow both routes share (Coder's `createWorkspace`).
async fn create(
    state: &Shared,
    actor: &Actor,
    org: orgs::Organization,
    owner: users::User,
    req: CreateWorkspaceRequest,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "workspace").by(actor);
    entry.org = Some(org.id);
    entry.resource_target = req.name.clone();
    entry.additional_fields = json!({"workspace_owner": owner.username});
    let result = async {
        let object =
            Object::of(ResourceType::Workspace).in_org(org.id.uuid()).with_owner(owner.id.uuid());
        actor.require_or_404(Action::Create, &object)?;
        if req.name.is_empty() {
            return Err(ApiError::required("name"));
        }
        if validate_name(&req.name).is_err() {
            return Err(ApiError::tag_failed("name", "workspace_name", &req.name));
        }
        // The template, from its id or from a version of it (never both).
        let (template_field, version_field) = template_fields(&req)?;
        let template_id = match (template_field, version_field) {
            (Some(t), _) => TemplateId(t),
            (None, Some(v)) => {
                match templates::get_version(state.legacy_store(), TemplateVersionId(v)).await {
                    Ok(version) => version.template_id.ok_or_else(|| {
                        bad_template(
                            "template_version_id",
                            format!("Template version \"{v}\" doesn't exist."),
                        )
                    })?,
                    Err(StoreError::NotFound { .. }) => {
                        return Err(ApiError::from(bad_template(
                            "template_version_id",
                            format!("Template version \"{v}\" doesn't exist."),
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            (None, None) => return Err(ApiError::required("template_id")),
        };
        let template = match templates::get(state.legacy_store(), template_id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::from(bad_template(
                    "template_id",
                    format!("Template \"{template_id}\" doesn't exist."),
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if template.deleted {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Template \"{}\" has been deleted!", template.name),
            ));
        }
        let template_authz = TemplateAuthz::load(state, &template).await?;
        if !actor.can(Action::Read, &template_authz.object()) {
            return Err(ApiError::from(bad_template(
                "template_id",
                format!("Template \"{template_id}\" doesn't exist."),
            )));
        }
        if template.org_id != org.id {
            return Err(ApiError::forbidden_with(format!(
                "Template is not in organization \"{}\".",
                org.name
            )));
        }
        // The caller must be allowed to use the template (Coder's check)...
        if !actor.can(Action::Use, &template_authz.object()) {
            return Err(ApiError::forbidden_with(format!(
                "Unauthorized access to use the template \"{}\".",
                template.name
            ))
            .detail(
                "Although you are able to view the template, you are unable to create a \
                 workspace using it. Please contact an administrator about your permissions if \
                 you feel this is an error.",
            ));
        }
        // ...and so must the owner, not only the caller (its ACL; Atrium's addition).
        let owner_subject = if owner.id == actor.id() {
            actor.subject.clone()
        } else {
            let input = load_subject_input(&state.domain, owner.id).await?;
            std::sync::Arc::new(atrium_engine::stored::build(
                &input,
                Scope::ALL,
                RoleOptions::default(),
            ))
        };
        if !owner_subject.can(Action::Use, &template_authz.object()) {
            return Err(ApiError::forbidden_with(format!(
                "The workspace owner \"{}\" may not use template \"{}\".",
                owner.username, template.name
            )));
        }
        // A version given alone is the template's own (the template came from it above).
        let version_id = match version_field {
            Some(v) => TemplateVersionId(v),
            None => template.active_version_id.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Template \"{}\" has no active version.",
                    template.name
                ))
            })?,
        };
        let conflict = || {
            ApiError::conflict(format!("Workspace \"{}\" already exists.", req.name))
                .validation("name", "This value is already in use and should be unique.")
        };
        match workspaces::get_by_owner_and_name(state.legacy_store(), owner.id, &req.name).await {
            Ok(_) => return Err(conflict()),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let now = DbTime::now();
        let mut tx = state.legacy_store().begin().await?;
        let ws = workspaces::insert(
            &mut tx,
            &workspaces::NewWorkspace {
                id: WorkspaceId::new_v4(),
                owner_id: owner.id,
                org_id: org.id,
                template_id: template.id,
                name: &req.name,
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => conflict(),
            // Deleted since it was read above: the insert re-checks under a lock.
            StoreError::NotFound { entity: "template" } => ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Template \"{}\" has been deleted!", template.name),
            ),
            e => e.into(),
        })?;
        queue_build(
            &mut tx,
            &ws,
            version_id,
            BuildTransition::Start,
            BuildReason::Initiator,
            actor.id(),
            None,
        )
        .await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.changed(
            &json!({}),
            &json!({"name": ws.name, "owner_id": ws.owner_id, "template_id": ws.template_id}),
        );
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        state.jobs.wake();
        Ok(json_response(StatusCode::CREATED, &to_api(state, &ws).await?))
    }
    .await;
    audit::finish(state, &actor.meta, &entry, result).await
}

/// Creates a workspace in an org for `{user}` (`me`, or anyone the caller may create for).
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/members/{user}/workspaces", tag = "Workspaces",
    request_body = CreateWorkspaceRequest, params(("organization" = String, Path), ("user" = String, Path)),
    responses((status = 201, body = Workspace), (status = 404, body = Message), (status = 409, body = Message)))]
async fn create_in_org(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
    Body(req): Body<CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &org).await?;
    let owner = resolve_user(&state, &actor, &user).await?;
    create(&state, &actor, org, owner, req).await
}

/// Creates a workspace for `{user}` in the template's org.
#[utoipa::path(post, path = "/api/v2/users/{user}/workspaces", tag = "Workspaces",
    request_body = CreateWorkspaceRequest, params(("user" = String, Path)),
    responses((status = 201, body = Workspace)))]
async fn create_for_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<CreateWorkspaceRequest>,
) -> ApiResult<Response> {
    let owner = resolve_user(&state, &actor, &user).await?;
    let (template_field, version_field) = template_fields(&req)?;
    let template_org = match (template_field, version_field) {
        (Some(t), _) => {
            templates::get(state.legacy_store(), TemplateId(t)).await.ok().map(|t| t.org_id)
        }
        (None, Some(v)) => templates::get_version(state.legacy_store(), TemplateVersionId(v))
            .await
            .ok()
            .map(|v| v.org_id),
        (None, None) => None,
    };
    let Some(org_id) = template_org else {
        return Err(ApiError(match (template_field, version_field) {
            (None, Some(v)) => bad_template(
                "template_version_id",
                format!("Template version \"{v}\" doesn't exist."),
            ),
            (t, _) => bad_template(
                "template_id",
                format!("Template \"{}\" doesn't exist.", t.unwrap_or_default()),
            ),
        }));
    };
    let org = orgs::get(state.legacy_store(), org_id).await?;
    create(&state, &actor, org, owner, req).await
}

/// Workspaces the caller may read, filtered by `q`.
#[utoipa::path(get, path = "/api/v2/workspaces", tag = "Workspaces",
    params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = WorkspacesResponse), (status = 400, body = Message)))]
async fn list_workspaces(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let q = params.single("q")?.unwrap_or_default();
    let filter = parse_query(&state, &actor, q)
        .await
        .map_err(|errors| ApiError::invalid_query("Invalid workspace search query.", errors))?;
    let page = crate::extract::Page::from_query(&params)?;
    let authz = actor.subject.list_filter(Action::Read, ResourceType::Workspace);
    let listed = workspace_list::workspaces(
        state.legacy_store(),
        &filter,
        &authz,
        Page { limit: page.limit, offset: page.offset },
    )
    .await?;
    let mut out = Vec::with_capacity(listed.rows.len());
    for ws in &listed.rows {
        out.push(to_api(&state, ws).await?);
    }
    Ok(json_response(StatusCode::OK, &WorkspacesResponse { workspaces: out, count: listed.count }))
}

/// A workspace by id.
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 200, body = Workspace), (status = 404, body = Message)))]
async fn get_workspace(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let (ws, _) = resolve_workspace(&state, &actor, &param).await?;
    // The owner is usually the caller, already loaded.
    let body = if ws.owner_id == actor.id() {
        view(&state, &ws, actor.user.clone()).await?
    } else {
        to_api(&state, &ws).await?
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// A workspace by owner and name.
#[utoipa::path(get, path = "/api/v2/users/{user}/workspace/{workspacename}", tag = "Workspaces",
    params(("user" = String, Path), ("workspacename" = String, Path)), responses((status = 200, body = Workspace)))]
async fn get_by_owner_and_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let owner = resolve_user(&state, &actor, &user).await?;
    let ws = match workspaces::get_by_owner_and_name(state.legacy_store(), owner.id, &name).await {
        Ok(w) => w,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let (ws, _) = resolve_workspace(&state, &actor, &ws.id.to_string()).await?;
    Ok(json_response(StatusCode::OK, &to_api(&state, &ws).await?))
}

/// Renames a workspace.
#[utoipa::path(patch, path = "/api/v2/workspaces/{workspace}", tag = "Workspaces", request_body = UpdateWorkspaceRequest,
    params(("workspace" = String, Path)), responses((status = 204), (status = 409, body = Message)))]
async fn rename_workspace(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateWorkspaceRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "workspace").by(&actor);
    let result = async {
        let (ws, authz) = resolve_workspace(&state, &actor, &param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        actor.require(Action::Update, &authz.object())?;
        if req.name.is_empty() || req.name == ws.name {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        if validate_name(&req.name).is_err() {
            return Err(ApiError::tag_failed("name", "workspace_name", &req.name));
        }
        let mut tx = state.legacy_store().begin().await?;
        let renamed = workspaces::rename(&mut tx, ws.id, &req.name, DbTime::now()).await.map_err(
            |e| match e {
                StoreError::Conflict { .. } => {
                    ApiError::conflict(format!("Workspace \"{}\" already exists.", req.name))
                        .validation("name", "This value is already in use and should be unique.")
                }
                e => e.into(),
            },
        )?;
        entry.changed(&json!({"name": ws.name}), &json!({"name": renamed.name}));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
