//! Workspaces (coder-api.md §1.7, §2.3): create (also on a user's behalf), list with `q`, get,
//! rename. Builds live in [`super::builds`].

use crate::builds::build_with_template;
use crate::convert::time;
use crate::orgs::org_object;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::workspaces::{CreateWorkspaceRequest, Workspace, WorkspaceHealth};
use atrium_engine::query::{QueryError, TermParser, terms};
use atrium_engine::{Action, ActionSet, Object, ResourceType};
use atrium_store::workspace_list::WorkspaceFilter;
use atrium_store::{
    StoreError, TemplateVersionId, UserId, WorkspaceId, orgs, templates, users, workspaces,
};
use uuid::Uuid;

/// A workspace as the engine sees it: `workspace` with its sharing ACLs, or, once dormant,
/// `workspace_dormant` without them (rbac.md §2, §7.2).
pub struct WorkspaceAuthz {
    pub dormant: bool,
    pub id: Uuid,
    pub owner: Uuid,
    pub org: Uuid,
    pub users: Vec<(Uuid, ActionSet)>,
    pub groups: Vec<(Uuid, ActionSet)>,
}

impl WorkspaceAuthz {
    pub async fn load(state: &Domain, ws: &workspaces::Workspace) -> Result<Self> {
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
    state: &Domain,
    actor: &Caller,
    param: &str,
) -> Result<(workspaces::Workspace, WorkspaceAuthz)> {
    let id: WorkspaceId = param.parse().map_err(|_| Error::not_found())?;
    let ws = match workspaces::get(state.legacy_store(), id).await {
        Ok(w) if !w.deleted => w,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let authz = WorkspaceAuthz::load(state, &ws).await?;
    actor.require_or_404(Action::Read, &authz.object())?;
    Ok((ws, authz))
}

/// The wire `Workspace` with its latest build.
pub async fn to_api(state: &Domain, ws: &workspaces::Workspace) -> Result<Workspace> {
    let owner = users::get(state.legacy_store(), ws.owner_id).await?;
    view(state, ws, owner).await
}

/// [`to_api`] with the owner already known (the caller, usually).
pub async fn view(
    state: &Domain,
    ws: &workspaces::Workspace,
    owner: users::User,
) -> Result<Workspace> {
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

pub fn bad_template(field: &str, message: String) -> Error {
    Error::bad_request(message).validation(field, "template not found")
}

/// `template_id` and `template_version_id` exclude each other (Coder's `excluded_with`
/// validator; a nil UUID counts as absent). Returns the two, normalized.
pub fn template_fields(req: &CreateWorkspaceRequest) -> Result<(Option<Uuid>, Option<Uuid>)> {
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
pub const STATUSES: &[&str] = &[
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
pub async fn parse_query(
    state: &Domain,
    actor: &Caller,
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

/// Users an org's workspaces belong to, for the suspension stop (kept here with the other
/// workspace logic).
pub async fn live_workspaces_of(
    state: &Domain,
    user: UserId,
) -> Result<Vec<workspaces::Workspace>> {
    Ok(workspaces::list_by_owner(state.legacy_store(), user)
        .await?
        .into_iter()
        .filter(|w| !w.deleted)
        .collect())
}
