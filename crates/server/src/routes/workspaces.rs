//! Workspaces (coder-api.md §1.7, §2.3): create (also on a user's behalf), list with `q`, get,
//! rename. Builds live in [`super::builds`].

use atrium_api::Response as Message;
use atrium_api::workspaces::{
    CreateWorkspaceRequest, UpdateWorkspaceRequest, Workspace, WorkspaceHealth, WorkspacesResponse,
};
use atrium_engine::name::validate_name;
use atrium_engine::query::{QueryError, TermParser, terms};
use atrium_engine::{Action, ActionSet, Object, ResourceType, RoleOptions, Scope};
use atrium_store::lists::Page;
use atrium_store::workspace_list::{self, WorkspaceFilter};
use atrium_store::{
    BuildReason, BuildTransition, DbTime, StoreError, TemplateId, TemplateVersionId, UserId,
    WorkspaceId, orgs, templates, users, workspaces,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::Shared;
use crate::actor::{Actor, load_subject_input};
use crate::audit::{self, Entry};
use crate::convert::time;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::routes::builds::{build_with_template, queue_build};
use crate::routes::orgs::{org_object, resolve_org};
use crate::routes::templates::TemplateAuthz;
use crate::routes::users::resolve_user;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_in_org))
        .routes(routes!(create_for_user))
        .routes(routes!(list_workspaces))
        .routes(routes!(get_workspace, rename_workspace))
        .routes(routes!(get_by_owner_and_name))
}

/// A workspace as the engine sees it: `workspace` with its sharing ACLs, or, once dormant,
/// `workspace_dormant` without them (rbac.md §2, §7.2).
pub struct WorkspaceAuthz {
    dormant: bool,
    id: Uuid,
    owner: Uuid,
    org: Uuid,
    users: Vec<(Uuid, ActionSet)>,
    groups: Vec<(Uuid, ActionSet)>,
}

impl WorkspaceAuthz {
    pub async fn load(state: &Shared, ws: &workspaces::Workspace) -> ApiResult<Self> {
        let dormant = ws.dormant_at.is_some();
        let (users, groups) = if dormant {
            (vec![], vec![])
        } else {
            let acl = workspaces::get_acl(state.legacy_store(), ws.id).await?;
            (
                acl.users.iter().map(|(u, s)| (u.uuid(), *s)).collect(),
                acl.groups.iter().map(|(g, s)| (g.uuid(), *s)).collect(),
            )
        };
        Ok(WorkspaceAuthz {
            dormant,
            id: ws.id.uuid(),
            owner: ws.owner_id.uuid(),
            org: ws.org_id.uuid(),
            users,
            groups,
        })
    }

    pub fn object(&self) -> Object<'_> {
        let t = if self.dormant { ResourceType::WorkspaceDormant } else { ResourceType::Workspace };
        Object::of(t)
            .with_id(self.id)
            .with_owner(self.owner)
            .in_org(self.org)
            .with_user_acl(&self.users)
            .with_group_acl(&self.groups)
    }
}

/// A live workspace the actor may read (else 404).
pub async fn resolve_workspace(
    state: &Shared,
    actor: &Actor,
    param: &str,
) -> ApiResult<(workspaces::Workspace, WorkspaceAuthz)> {
    let id: WorkspaceId = param.parse().map_err(|_| ApiError::not_found())?;
    let ws = match workspaces::get(state.legacy_store(), id).await {
        Ok(w) if !w.deleted => w,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let authz = WorkspaceAuthz::load(state, &ws).await?;
    actor.require_or_404(Action::Read, &authz.object())?;
    Ok((ws, authz))
}

/// The wire `Workspace` with its latest build.
pub async fn to_api(state: &Shared, ws: &workspaces::Workspace) -> ApiResult<Workspace> {
    let owner = users::get(state.legacy_store(), ws.owner_id).await?;
    view(state, ws, owner).await
}

/// [`to_api`] with the owner already known (the caller, usually).
pub async fn view(
    state: &Shared,
    ws: &workspaces::Workspace,
    owner: users::User,
) -> ApiResult<Workspace> {
    let org = orgs::get(state.legacy_store(), ws.org_id).await?;
    let template = templates::get(state.legacy_store(), ws.template_id).await?;
    let latest = workspaces::latest_build(state.legacy_store(), ws.id).await?;
    let build = build_with_template(state, ws, &owner, &template, &latest).await?;
    let active = template.active_version_id.map(TemplateVersionId::uuid).unwrap_or_default();
    Ok(Workspace {
        id: ws.id.uuid(),
        created_at: time(ws.created_at),
        updated_at: time(ws.updated_at),
        owner_id: owner.id.uuid(),
        owner_name: owner.username.clone(),
        owner_avatar_url: owner.avatar_url.clone(),
        organization_id: org.id.uuid(),
        organization_name: org.name.clone(),
        template_id: template.id.uuid(),
        template_name: template.name.clone(),
        template_display_name: template.display_name.clone(),
        template_icon: template.icon.clone(),
        template_active_version_id: active,
        template_require_active_version: false,
        outdated: build.template_version_id != active,
        latest_build: build,
        name: ws.name.clone(),
        last_used_at: time(ws.last_used_at),
        dormant_at: ws.dormant_at.map(time),
        deleting_at: None,
        automatic_updates: "never".into(),
        health: WorkspaceHealth { healthy: true, failing_agents: vec![] },
        favorite: false,
    })
}

fn bad_template(field: &str, message: String) -> ApiError {
    ApiError::bad_request(message).validation(field, "template not found")
}

/// `template_id` and `template_version_id` exclude each other (Coder's `excluded_with`
/// validator; a nil UUID counts as absent). Returns the two, normalized.
fn template_fields(req: &CreateWorkspaceRequest) -> ApiResult<(Option<Uuid>, Option<Uuid>)> {
    let template = req.template_id.filter(|t| !t.is_nil());
    let version = req.template_version_id.filter(|v| !v.is_nil());
    if let (Some(t), Some(v)) = (template, version) {
        let tag = |value: Uuid| {
            format!("Validation failed for tag \"excluded_with\" with value: \"{value}\"")
        };
        return Err(ApiError::bad_request(crate::error::text::VALIDATION_FAILED)
            .validation("template_id", tag(t))
            .validation("template_version_id", tag(v)));
    }
    Ok((template, version))
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
                        return Err(bad_template(
                            "template_version_id",
                            format!("Template version \"{v}\" doesn't exist."),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            (None, None) => return Err(ApiError::required("template_id")),
        };
        let template = match templates::get(state.legacy_store(), template_id).await {
            Ok(t) => t,
            Err(StoreError::NotFound { .. }) => {
                return Err(bad_template(
                    "template_id",
                    format!("Template \"{template_id}\" doesn't exist."),
                ));
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
            return Err(bad_template(
                "template_id",
                format!("Template \"{template_id}\" doesn't exist."),
            ));
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
        return Err(match (template_field, version_field) {
            (None, Some(v)) => bad_template(
                "template_version_id",
                format!("Template version \"{v}\" doesn't exist."),
            ),
            (t, _) => bad_template(
                "template_id",
                format!("Template \"{}\" doesn't exist.", t.unwrap_or_default()),
            ),
        });
    };
    let org = orgs::get(state.legacy_store(), org_id).await?;
    create(&state, &actor, org, owner, req).await
}

/// Workspace statuses Coder accepts in `status:`.
const STATUSES: &[&str] = &[
    "pending",
    "starting",
    "running",
    "stopping",
    "stopped",
    "failed",
    "canceling",
    "canceled",
    "deleting",
    "deleted",
];

/// Parses the workspaces `q` (coder-api.md §2.3) into a store filter.
async fn parse_query(
    state: &Shared,
    actor: &Actor,
    q: &str,
) -> Result<WorkspaceFilter, Vec<QueryError>> {
    let mut p = TermParser::new(terms(q, "name")?);
    let mut f = WorkspaceFilter::default();
    let mut errors = Vec::new();
    if let Some(name) = p.string("name") {
        // Free text `owner/name` names both.
        let parts: Vec<&str> = name.split('/').collect();
        match parts.as_slice() {
            [n] => f.name = Some((*n).to_owned()),
            [o, n] => {
                f.owner_username = Some((*o).to_owned());
                f.name = Some((*n).to_owned());
            }
            _ => errors.push(QueryError {
                field: "q".into(),
                detail: format!("Query element \"{name}\" can only contain 1 '/'"),
            }),
        }
    }
    match p.string("owner").as_deref() {
        Some("me") => f.owner_id = Some(actor.id()),
        Some(o) => f.owner_username = Some(o.to_owned()),
        None => {}
    }
    f.template_name = p.string("template");
    f.status = p.one_of("status", STATUSES);
    f.ids = p.list("id", |s| s.parse::<WorkspaceId>().ok());
    if let Some(o) = p.string("organization") {
        // An org the caller may not read is answered like a missing one.
        let found = orgs::get_by_id_or_name(state.legacy_store(), &o)
            .await
            .ok()
            .filter(|org| actor.can(Action::Read, &org_object(org.id)));
        match found {
            Some(org) => f.org_id = Some(org.id),
            None => errors.push(QueryError {
                field: "organization".into(),
                detail: format!(
                    "organization \"{o}\" either does not exist, or you are unauthorized to view it"
                ),
            }),
        }
    }
    if let Some(d) = p.string("dormant") {
        match d.as_str() {
            "true" => f.dormant = Some(true),
            "false" => f.dormant = Some(false),
            _ => errors.push(QueryError {
                field: "dormant".into(),
                detail: format!("Query param \"dormant\" must be a valid boolean: \"{d}\""),
            }),
        }
    }
    errors.extend(p.finish());
    if errors.is_empty() { Ok(f) } else { Err(errors) }
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

/// Users an org's workspaces belong to, for the suspension stop (kept here with the other
/// workspace logic).
pub async fn live_workspaces_of(
    state: &Shared,
    user: UserId,
) -> ApiResult<Vec<workspaces::Workspace>> {
    Ok(workspaces::list_by_owner(state.legacy_store(), user)
        .await?
        .into_iter()
        .filter(|w| !w.deleted)
        .collect())
}
