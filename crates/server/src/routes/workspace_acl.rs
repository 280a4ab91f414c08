//! Workspace sharing (rbac.md §7.2): a workspace's user and group ACL. `admin` grants every
//! workspace action but `delete`; `use` grants `read`, `start`, `stop`, `ssh` and
//! `application_connect`. Changing the ACL needs `create` on the workspace, so the
//! creation-ban role also blocks sharing in its org (rbac.md §9.8).
//!
//! Granting cannot escalate (Atrium's rule; Coder's experimental sharing has none): a grantor
//! may only grant a role whose every action it holds on the workspace itself, and grantees
//! must belong to the workspace's organization (users as members, groups as its groups or its
//! Everyone group). Removing a grant needs only `create`.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
#[allow(unused_imports)]
use atrium_domain::workspace_acl::*;
use atrium_domain::workspaces::resolve_workspace;
use atrium_engine::{Action, ActionSet};
use atrium_store::value::Acl;
use atrium_store::{GroupId, StoreError, UserId, groups, orgs, users, workspaces};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(get_acl, patch_acl, delete_acl))
}

/// Who the workspace is shared with; needs `create` on the workspace (403 otherwise, where
/// Coder answers 500).
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 200, body = WorkspaceAclResponse)))]
async fn get_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let (ws, authz) = resolve_workspace(&state, &actor, &param).await?;
    // As Coder's dbauthz: reading the ACL needs what editing it needs (`create`), so a `use`
    // grantee does not learn who else the workspace is shared with.
    actor.require(Action::Create, &authz.object())?;
    let acl = workspaces::get_acl(state.legacy_store(), ws.id).await?;
    Ok(json_response(StatusCode::OK, &acl_response(&state, ws.org_id, &acl).await?))
}

/// Shares the workspace with users and groups (merged: unnamed grantees keep their role).
#[utoipa::path(patch, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces", request_body = UpdateWorkspaceAcl,
    params(("workspace" = String, Path)), responses((status = 204), (status = 400, body = Message), (status = 403, body = Message)))]
async fn patch_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateWorkspaceAcl>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "workspace").by(&actor);
    let result = async {
        let (ws, authz) = resolve_workspace(&state, &actor, &param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        actor.require(Action::Create, &authz.object())?;
        // No escalation: every role granted must be one the grantor holds here.
        for role in req.user_roles.values().chain(req.group_roles.values()) {
            let set = match role.as_str() {
                "admin" => admin_actions(),
                "use" => use_actions(),
                _ => continue,
            };
            if let Some(missing) = Action::ALL.iter().find(|a| set.grants(**a) && !actor.can(**a, &authz.object())) {
                return Err(ApiError::forbidden_with(format!(
                    "You cannot grant the \"{role}\" role on this workspace: you do not have its \"{}\" permission.",
                    missing.as_str()
                )));
            }
        }
        let old = workspaces::get_acl(state.legacy_store(), ws.id).await?;
        let mut users_map: BTreeMap<UserId, ActionSet> = old.users.iter().copied().collect();
        let mut groups_map: BTreeMap<GroupId, ActionSet> = old.groups.iter().copied().collect();
        for (id, role) in &req.user_roles {
            let user: UserId = id.parse().map_err(|_| invalid("user_roles", format!("{id} is not a valid UUID.")))?;
            let set = parse_role("user_roles", role)?;
            if set.is_some() {
                match users::get(state.legacy_store(), user).await {
                    Ok(u) if !u.deleted => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => {
                        return Err(invalid("user_roles", format!("user with ID {id} does not exist")).into());
                    }
                    Err(e) => return Err(e.into()),
                }
                // Only members of the workspace's organization may be granted a role.
                match orgs::get_member(state.legacy_store(), ws.org_id, user).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => {
                        return Err(ApiError::from(invalid(
                            "user_roles",
                            format!("user with ID {id} is not a member of the workspace's organization"),
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match set {
                Some(s) => users_map.insert(user, s),
                None => users_map.remove(&user),
            };
        }
        for (id, role) in &req.group_roles {
            let group: GroupId = id.parse().map_err(|_| invalid("group_roles", format!("{id} is not a valid UUID.")))?;
            let set = parse_role("group_roles", role)?;
            if set.is_some() && !group.is_everyone_of(ws.org_id) {
                match groups::get(state.legacy_store(), group).await {
                    Ok(g) if g.org_id == ws.org_id => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => {
                        return Err(invalid("group_roles", format!("group with ID {id} does not exist")).into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match set {
                Some(s) => groups_map.insert(group, s),
                None => groups_map.remove(&group),
            };
        }
        let new = Acl { users: users_map.into_iter().collect(), groups: groups_map.into_iter().collect() };
        let mut tx = state.legacy_store().begin().await?;
        workspaces::set_acl(&mut tx, ws.id, &new).await?;
        let view = |acl: &Acl| {
            json!({
                "user_acl": acl.users.iter().map(|(u, s)| (u.to_string(), role_of(*s))).collect::<BTreeMap<_, _>>(),
                "group_acl": acl.groups.iter().map(|(g, s)| (g.to_string(), role_of(*s))).collect::<BTreeMap<_, _>>(),
            })
        };
        entry.changed(&view(&old), &view(&new));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Stops sharing the workspace with anyone.
#[utoipa::path(delete, path = "/api/v2/workspaces/{workspace}/acl", tag = "Workspaces",
    params(("workspace" = String, Path)), responses((status = 204)))]
async fn delete_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "workspace").by(&actor);
    let result = async {
        let (ws, authz) = resolve_workspace(&state, &actor, &param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        actor.require(Action::Create, &authz.object())?;
        let mut tx = state.legacy_store().begin().await?;
        workspaces::set_acl(&mut tx, ws.id, &Acl::default()).await?;
        entry.changed(&json!({"shared": true}), &json!({"shared": false}));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
