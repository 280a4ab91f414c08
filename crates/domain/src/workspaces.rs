//! Workspaces (coder-api.md §1.7, §2.3): create (also on a user's behalf), list with `q`, get,
//! rename. Builds live in [`super::builds`].

use std::collections::HashMap;

use crate::audit::{self, Entry};
use crate::builds::{BuildFacts, queue_build};
use crate::caller::load_subject_input;
use crate::convert::time;
use crate::orgs::{org_object, resolve_org};
use crate::templates::TemplateAuthz;
use crate::users::resolve_user;
use crate::{Caller, Domain, Error, Kind, Page, Result};
use atrium_api::workspaces::{
    CreateWorkspaceRequest, UpdateWorkspaceRequest, Workspace, WorkspaceHealth, WorkspacesResponse,
};
use atrium_engine::name::validate_name;
use atrium_engine::query::{QueryError, TermParser, terms};
use atrium_engine::{Action, ActionSet, Object, ResourceType, RoleOptions, Scope};
use atrium_store::error::Optional;
use atrium_store::value::Acl;
use atrium_store::workspace_list::{self, WorkspaceFilter};
use atrium_store::{
    BuildReason, BuildTransition, DbTime, OrgId, StoreError, TemplateId, TemplateVersionId, UserId,
    WorkspaceId, orgs, templates, users, workspaces,
};
use serde_json::json;
use uuid::Uuid;

/// A workspace as the engine sees it: `workspace` with its sharing ACLs, or, once dormant,
/// `workspace_dormant` without them (rbac.md §2, §7.2).
pub struct WorkspaceAuthz {
    pub(crate) dormant: bool,
    pub(crate) id: Uuid,
    pub(crate) owner: Uuid,
    pub(crate) org: Uuid,
    pub(crate) users: Vec<(Uuid, ActionSet)>,
    pub(crate) groups: Vec<(Uuid, ActionSet)>,
}

impl WorkspaceAuthz {
    /// The workspace with its current ACL (not read once dormant).
    pub async fn load(state: &Domain, ws: &workspaces::Workspace) -> Result<Self> {
        let acl = if ws.dormant_at.is_some() {
            Acl::default()
        } else {
            workspaces::get_acl(state.store(), ws.id).await?
        };
        Ok(Self::with_acl(ws, &acl))
    }

    /// The workspace with an ACL already read (inside a transaction, say).
    pub(crate) fn with_acl(ws: &workspaces::Workspace, acl: &Acl) -> Self {
        let dormant = ws.dormant_at.is_some();
        let (users, groups) = if dormant {
            (vec![], vec![])
        } else {
            (
                acl.users.iter().map(|(u, s)| (u.uuid(), *s)).collect(),
                acl.groups.iter().map(|(g, s)| (g.uuid(), *s)).collect(),
            )
        };
        WorkspaceAuthz {
            dormant,
            id: ws.id.uuid(),
            owner: ws.owner_id.uuid(),
            org: ws.org_id.uuid(),
            users,
            groups,
        }
    }

    /// The engine's object for this workspace.
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
    state: &Domain,
    actor: &Caller,
    param: &str,
) -> Result<(workspaces::Workspace, WorkspaceAuthz)> {
    let id: WorkspaceId = param.parse().map_err(|_| Error::not_found())?;
    let ws = match workspaces::get(state.store(), id).await {
        Ok(w) if !w.deleted => w,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let authz = WorkspaceAuthz::load(state, &ws).await?;
    actor.require_or_404(Action::Read, &authz.object())?;
    Ok((ws, authz))
}

/// Creates a workspace for `user` (Coder's `createWorkspace`): in `org` when given
/// (`POST /organizations/{org}/members/{user}/workspaces`), else in the template's org
/// (`POST /users/{user}/workspaces`). Authorizes `create` on a workspace owned by the user in
/// the org (404 otherwise), `read` (else "doesn't exist") and `use` on the template by the
/// caller, and `use` by the owner too (Atrium's addition). Queues the first start build.
pub async fn create(
    d: &Domain,
    caller: &Caller,
    org: Option<&str>,
    user: &str,
    req: CreateWorkspaceRequest,
) -> Result<Workspace> {
    let (org, owner) = match org {
        Some(org) => {
            let org = resolve_org(d, caller, org).await?;
            (org, resolve_user(d, caller, user).await?)
        }
        None => {
            let owner = resolve_user(d, caller, user).await?;
            (template_org(d, &req).await?, owner)
        }
    };
    let mut entry = Entry::new("create", "workspace").by(caller);
    entry.org = Some(org.id);
    entry.resource_target = req.name.clone();
    entry.additional_fields = json!({"workspace_owner": owner.username});
    let result = create_in(d, caller, &org, &owner, &req, &mut entry).await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The org of the template (or template version) a `POST /users/{user}/workspaces` names; a
/// missing one is refused as Coder words it.
async fn template_org(d: &Domain, req: &CreateWorkspaceRequest) -> Result<orgs::Organization> {
    let (template_field, version_field) = template_fields(req)?;
    let template_org = match (template_field, version_field) {
        (Some(t), _) => {
            templates::get(d.store(), TemplateId(t)).await.optional()?.map(|t| t.org_id)
        }
        (None, Some(v)) => templates::get_version(d.store(), TemplateVersionId(v))
            .await
            .optional()?
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
    Ok(orgs::get(d.store(), org_id).await?)
}

/// [`create`] once the org and the owner are known (audited by the caller).
async fn create_in(
    d: &Domain,
    caller: &Caller,
    org: &orgs::Organization,
    owner: &users::User,
    req: &CreateWorkspaceRequest,
    entry: &mut Entry,
) -> Result<Workspace> {
    let object =
        Object::of(ResourceType::Workspace).in_org(org.id.uuid()).with_owner(owner.id.uuid());
    caller.require_or_404(Action::Create, &object)?;
    if req.name.is_empty() {
        return Err(Error::required("name"));
    }
    if validate_name(&req.name).is_err() {
        return Err(Error::tag_failed("name", "workspace_name", &req.name));
    }
    // The template, from its id or from a version of it (never both).
    let (template_field, version_field) = template_fields(req)?;
    let template_id = match (template_field, version_field) {
        (Some(t), _) => TemplateId(t),
        (None, Some(v)) => match templates::get_version(d.store(), TemplateVersionId(v)).await {
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
        },
        (None, None) => return Err(Error::required("template_id")),
    };
    let template = match templates::get(d.store(), template_id).await {
        Ok(t) => t,
        Err(StoreError::NotFound { .. }) => {
            return Err(bad_template(
                "template_id",
                format!("Template \"{template_id}\" doesn't exist."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let template_deleted =
        || Error::new(Kind::NotFound, format!("Template \"{}\" has been deleted!", template.name));
    if template.deleted {
        return Err(template_deleted());
    }
    let template_authz = TemplateAuthz::load(d, &template).await?;
    if !caller.can(Action::Read, &template_authz.object()) {
        return Err(bad_template(
            "template_id",
            format!("Template \"{template_id}\" doesn't exist."),
        ));
    }
    if template.org_id != org.id {
        return Err(Error::forbidden_with(format!(
            "Template is not in organization \"{}\".",
            org.name
        )));
    }
    // The caller must be allowed to use the template (Coder's check)...
    if !caller.can(Action::Use, &template_authz.object()) {
        return Err(Error::forbidden_with(format!(
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
    let owner_may_use = if owner.id == caller.id() {
        caller.can(Action::Use, &template_authz.object())
    } else {
        let input = load_subject_input(d, owner.id).await?;
        let subject = atrium_engine::stored::build(&input, Scope::ALL, RoleOptions::default());
        subject.can(Action::Use, &template_authz.object())
    };
    if !owner_may_use {
        return Err(Error::forbidden_with(format!(
            "The workspace owner \"{}\" may not use template \"{}\".",
            owner.username, template.name
        )));
    }
    // A version given alone is the template's own (the template came from it above).
    let version_id = match version_field {
        Some(v) => TemplateVersionId(v),
        None => template.active_version_id.ok_or_else(|| {
            Error::bad_request(format!("Template \"{}\" has no active version.", template.name))
        })?,
    };
    let conflict = || {
        Error::conflict(format!("Workspace \"{}\" already exists.", req.name))
            .validation("name", "This value is already in use and should be unique.")
    };
    match workspaces::get_by_owner_and_name(d.store(), owner.id, &req.name).await {
        Ok(_) => return Err(conflict()),
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let now = DbTime::now();
    let mut tx = d.store().begin().await?;
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
        StoreError::Unique { .. } => conflict(),
        // Deleted since it was read above: the insert re-checks under a lock.
        StoreError::NotFound { entity: "template" } => template_deleted(),
        e => e.into(),
    })?;
    queue_build(
        &mut tx,
        &ws,
        version_id,
        BuildTransition::Start,
        BuildReason::Initiator,
        caller.id(),
        None,
    )
    .await?;
    entry.resource(ws.id.uuid(), ws.name.clone());
    entry.changed(
        &json!({}),
        &json!({"name": ws.name, "owner_id": ws.owner_id, "template_id": ws.template_id}),
    );
    audit::write(&mut tx, caller.meta(), entry, 201).await?;
    tx.commit().await?;
    d.jobs.wake();
    to_api(d, &ws).await
}

/// The workspaces the caller may read (the engine's list filter), narrowed by `q`.
pub async fn list(d: &Domain, caller: &Caller, q: &str, page: Page) -> Result<WorkspacesResponse> {
    let filter = parse_query(d, caller, q).await?;
    let authz = caller.subject().list_filter_for(Action::Read);
    let listed = workspace_list::workspaces(d.store(), &filter, &authz, page).await?;
    let workspaces = views(d, &listed.rows, Some(caller.user())).await?;
    Ok(WorkspacesResponse { workspaces, count: listed.count })
}

/// [`list`] as the serialized `WorkspacesResponse`, each workspace's view from the view cache
/// where warm (the page and the count, then at most one statement for the views not cached).
pub async fn list_json(d: &Domain, caller: &Caller, q: &str, page: Page) -> Result<Vec<u8>> {
    let filter = parse_query(d, caller, q).await?;
    let authz = caller.subject().list_filter_for(Action::Read);
    let listed = workspace_list::workspaces(d.store(), &filter, &authz, page).await?;
    let ids: Vec<WorkspaceId> = listed.rows.iter().map(|w| w.id).collect();
    let views = crate::workspace_views::json_many(d, &ids).await?;
    // `WorkspacesResponse`'s fields, in its order.
    let mut out = Vec::with_capacity(views.iter().map(|v| v.len() + 1).sum::<usize>() + 40);
    out.extend_from_slice(b"{\"workspaces\":[");
    for (i, view) in views.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(view);
    }
    out.extend_from_slice(format!("],\"count\":{}}}", listed.count).as_bytes());
    Ok(out)
}

/// A live workspace by id, as the serialized wire `Workspace`; needs `read` on it (404
/// otherwise). Served from the view cache when warm (no statement, no serialization), else
/// read in one statement and cached.
pub async fn get_json(d: &Domain, caller: &Caller, param: &str) -> Result<std::sync::Arc<[u8]>> {
    let id: WorkspaceId = param.parse().map_err(|_| Error::not_found())?;
    if let Some(hit) = d.workspace_views.lookup(id) {
        caller.require_or_404(Action::Read, &hit.authz.object())?;
        return Ok(hit.json.clone());
    }
    let epoch = d.workspace_views.epoch();
    let (authz, view) = crate::workspace_views::read(d, id).await?.ok_or_else(Error::not_found)?;
    let json = crate::workspace_views::serialize(&view)?;
    let allowed = caller.require_or_404(Action::Read, &authz.object());
    // The view does not depend on who asked, so a refused read caches it too.
    d.workspace_views.insert(epoch, id, authz, json.clone());
    allowed?;
    Ok(json)
}

/// A live workspace by owner and name; needs `read` on the owner (its resolution) and on the
/// workspace (404 otherwise).
pub async fn get_by_owner_and_name(
    d: &Domain,
    caller: &Caller,
    user: &str,
    name: &str,
) -> Result<Workspace> {
    let owner = resolve_user(d, caller, user).await?;
    let ws = match workspaces::get_by_owner_and_name(d.store(), owner.id, name).await {
        Ok(w) => w,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let (ws, _) = resolve_workspace(d, caller, &ws.id.to_string()).await?;
    to_api(d, &ws).await
}

/// Renames a workspace (an empty or unchanged name changes nothing); needs `read` (404) and
/// `update` (403) on it.
pub async fn rename(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: UpdateWorkspaceRequest,
) -> Result<()> {
    let mut entry = Entry::new("write", "workspace").by(caller);
    let result = async {
        let (ws, authz) = resolve_workspace(d, caller, param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        caller.require(Action::Update, &authz.object())?;
        if req.name.is_empty() || req.name == ws.name {
            return Ok(());
        }
        if validate_name(&req.name).is_err() {
            return Err(Error::tag_failed("name", "workspace_name", &req.name));
        }
        let mut tx = d.store().begin().await?;
        let renamed = workspaces::rename(&mut tx, ws.id, &req.name, DbTime::now()).await.map_err(
            |e| match e {
                StoreError::Unique { .. } => {
                    Error::conflict(format!("Workspace \"{}\" already exists.", req.name))
                        .validation("name", "This value is already in use and should be unique.")
                }
                e => e.into(),
            },
        )?;
        entry.changed(&json!({"name": ws.name}), &json!({"name": renamed.name}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The wire `Workspace` with its latest build.
async fn to_api(state: &Domain, ws: &workspaces::Workspace) -> Result<Workspace> {
    one(views(state, std::slice::from_ref(ws), None).await?)
}

fn one(mut views: Vec<Workspace>) -> Result<Workspace> {
    views.pop().ok_or_else(|| Error::internal("a workspace view went missing"))
}

/// The wire views of many workspaces in a fixed number of statements whatever their number:
/// latest builds, owners and initiators, organizations, templates, then the builds' jobs,
/// versions and queue positions ([`BuildFacts`]). `known` is a user already loaded.
async fn views(
    state: &Domain,
    rows: &[workspaces::Workspace],
    known: Option<&users::User>,
) -> Result<Vec<Workspace>> {
    let store = state.store();
    let latest: HashMap<WorkspaceId, workspaces::WorkspaceBuild> =
        workspaces::latest_builds(store, &rows.iter().map(|w| w.id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|b| (b.workspace_id, b))
            .collect();
    let wanted: Vec<UserId> = rows
        .iter()
        .map(|w| w.owner_id)
        .chain(latest.values().map(|b| b.initiator_id))
        .filter(|id| known.is_none_or(|k| k.id != *id))
        .collect();
    let mut people: HashMap<UserId, users::User> =
        users::get_many(store, &wanted).await?.into_iter().map(|u| (u.id, u)).collect();
    if let Some(k) = known {
        people.insert(k.id, k.clone());
    }
    let orgs_by_id: HashMap<OrgId, orgs::Organization> =
        orgs::get_many(store, &rows.iter().map(|w| w.org_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
    let templates_by_id: HashMap<TemplateId, templates::Template> =
        templates::get_many(store, &rows.iter().map(|w| w.template_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    let builds: Vec<&workspaces::WorkspaceBuild> = latest.values().collect();
    let known_people: Vec<&users::User> = people.values().collect();
    let facts = BuildFacts::load(state, &builds, &known_people).await?;
    let mut out = Vec::with_capacity(rows.len());
    for ws in rows {
        // Rows a workspace references are foreign keys: missing means deleted underneath us.
        let (Some(owner), Some(org), Some(template), Some(latest)) = (
            people.get(&ws.owner_id),
            orgs_by_id.get(&ws.org_id),
            templates_by_id.get(&ws.template_id),
            latest.get(&ws.id),
        ) else {
            return Err(Error::not_found());
        };
        out.push(assemble(ws, owner, org, template, facts.view(ws, owner, template, latest)?));
    }
    Ok(out)
}

/// The wire `Workspace` from its rows and its latest build's view.
pub(crate) fn assemble(
    ws: &workspaces::Workspace,
    owner: &users::User,
    org: &orgs::Organization,
    template: &templates::Template,
    build: atrium_api::workspaces::WorkspaceBuild,
) -> Workspace {
    let active = template.active_version_id.map(TemplateVersionId::uuid).unwrap_or_default();
    Workspace {
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
    }
}

fn bad_template(field: &str, message: String) -> Error {
    Error::bad_request(message).validation(field, "template not found")
}

/// `template_id` and `template_version_id` exclude each other (Coder's `excluded_with`
/// validator; a nil UUID counts as absent). Returns the two, normalized.
fn template_fields(req: &CreateWorkspaceRequest) -> Result<(Option<Uuid>, Option<Uuid>)> {
    let template = req.template_id.filter(|t| !t.is_nil());
    let version = req.template_version_id.filter(|v| !v.is_nil());
    if let (Some(t), Some(v)) = (template, version) {
        let tag = |value: Uuid| {
            format!("Validation failed for tag \"excluded_with\" with value: \"{value}\"")
        };
        return Err(Error::bad_request(crate::error::text::VALIDATION_FAILED)
            .validation("template_id", tag(t))
            .validation("template_version_id", tag(v)));
    }
    Ok((template, version))
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

/// Parses the workspaces `q` (coder-api.md §2.3) into a store filter; a store failure on the
/// way is an error of its own, not a query error.
async fn parse_query(state: &Domain, actor: &Caller, q: &str) -> Result<WorkspaceFilter> {
    let invalid = |errors| Error::invalid_query("Invalid workspace search query.", errors);
    let mut p = TermParser::new(terms(q, "name").map_err(invalid)?);
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
        let found = orgs::get_by_id_or_name(state.store(), &o)
            .await
            .optional()?
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
    if let Some(o) = p.string("outdated") {
        match o.as_str() {
            "true" => f.outdated = Some(true),
            "false" => f.outdated = Some(false),
            _ => errors.push(QueryError {
                field: "outdated".into(),
                detail: format!("Query param \"outdated\" must be a valid boolean: \"{o}\""),
            }),
        }
    }
    // Atrium has no agents and stores no build parameters yet: asking for an agent status or
    // a parameter matches no workspace (as in Coder with none).
    if p.string("has-agent").is_some() {
        f.nothing = true;
    }
    let params = p.list("param", |v| {
        let parts: Vec<&str> = v.split('=').collect();
        match parts.as_slice() {
            [name] => Some(name.to_string()),
            [name, value] if !value.is_empty() => Some(name.to_string()),
            _ => None,
        }
    });
    if !params.is_empty() {
        f.nothing = true;
    }
    errors.extend(p.finish());
    if errors.is_empty() { Ok(f) } else { Err(invalid(errors)) }
}
