//! Workspace sharing (rbac.md §7.2): a workspace's user and group ACL. `admin` grants every
//! workspace action but `delete`; `use` grants `read`, `start`, `stop`, `ssh` and
//! `application_connect`. Changing the ACL needs `create` on the workspace, so the
//! creation-ban role also blocks sharing in its org (rbac.md §9.8).
//!
//! Granting cannot escalate (Atrium's rule; Coder's experimental sharing has none): a grantor
//! may only grant a role whose every action it holds on the workspace itself, and grantees
//! must belong to the workspace's organization (users as members, groups as its groups or its
//! Everyone group). Removing a grant needs only `create`.

use crate::audit::{self, Entry};
use crate::groups::{GroupRef, api_groups_for};
use crate::workspaces::{WorkspaceAuthz, resolve_workspace};
use crate::{Caller, Domain, Error, Result};
use atrium_api::workspaces::{
    UpdateWorkspaceAcl, WorkspaceAclResponse, WorkspaceGroup, WorkspaceUser,
};
use atrium_engine::acl::AclKind;
use atrium_engine::{Action, ActionSet};
use atrium_store::value::Acl;
use atrium_store::{GroupId, OrgId, StoreError, UserId, groups, orgs, users, workspaces};
use serde_json::json;
use std::collections::BTreeMap;

/// The workspace ACL's role table (the engine's, rbac.md §7.2).
const KIND: AclKind = AclKind::Workspace;

/// The wire view of an ACL, as Coder's: live users (id, username, avatar) and the groups of
/// the org that still exist as full group objects (their members filtered by what the caller
/// may read, as every group view is).
async fn acl_response(
    state: &Domain,
    caller: &Caller,
    org: OrgId,
    acl: &Acl,
) -> Result<WorkspaceAclResponse> {
    let mut out = WorkspaceAclResponse { users: vec![], group: vec![] };
    let user_ids: Vec<UserId> = acl.users.iter().map(|(id, _)| *id).collect();
    let live: BTreeMap<UserId, users::User> = users::get_many(state.store(), &user_ids)
        .await?
        .into_iter()
        .filter(|u| !u.deleted)
        .map(|u| (u.id, u))
        .collect();
    for (id, set) in &acl.users {
        if let Some(u) = live.get(id) {
            out.users.push(WorkspaceUser {
                id: id.uuid(),
                username: u.username.clone(),
                avatar_url: u.avatar_url.clone(),
                role: KIND.role_of(*set).into(),
            });
        }
    }
    let org_row = orgs::get(state.store(), org).await?;
    let group_ids: Vec<GroupId> = acl.groups.iter().map(|(id, _)| *id).collect();
    let rows: BTreeMap<GroupId, groups::Group> =
        groups::get_many(state.store(), &group_ids).await?.into_iter().map(|g| (g.id, g)).collect();
    let mut shown = Vec::new();
    for (id, set) in &acl.groups {
        let row = if id.is_everyone_of(org) {
            None
        } else {
            match rows.get(id) {
                Some(g) if g.org_id == org => Some(g),
                // A deleted group, or one of another org, grants nothing.
                _ => continue,
            }
        };
        shown.push(((&org_row, *id, row), KIND.role_of(*set)));
    }
    let items: Vec<GroupRef<'_>> = shown.iter().map(|(item, _)| *item).collect();
    let views = api_groups_for(state, caller, &items).await?;
    for (group, (_, role)) in views.into_iter().zip(&shown) {
        out.group.push(WorkspaceGroup { group, role: (*role).to_owned() });
    }
    Ok(out)
}

fn invalid(field: &str, detail: String) -> Error {
    Error::bad_request("Invalid request to update workspace ACL").validation(field, detail)
}

/// Who the workspace is shared with; needs `read` (404) and `create` on the workspace (403,
/// where Coder answers 500).
pub async fn get_acl(d: &Domain, caller: &Caller, param: &str) -> Result<WorkspaceAclResponse> {
    let (ws, authz) = resolve_workspace(d, caller, param).await?;
    // As Coder's dbauthz: reading the ACL needs what editing it needs (`create`), so a `use`
    // grantee does not learn who else the workspace is shared with.
    caller.require(Action::Create, &authz.object())?;
    let acl = workspaces::get_acl(d.store(), ws.id).await?;
    acl_response(d, caller, ws.org_id, &acl).await
}

/// Shares the workspace with users and groups (merged: unnamed grantees keep their role).
/// Needs `read` (404) and `create` on the workspace, and every action of each role granted
/// (403); grantees must be members (users) or groups of the workspace's org (400). The
/// workspace row is locked first, so the ACL is read, checked against and replaced in one
/// transaction with the membership checks.
pub async fn patch_acl(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: UpdateWorkspaceAcl,
) -> Result<()> {
    let mut entry = Entry::new("write", "workspace").by(caller);
    let result = async {
        let (ws, _) = resolve_workspace(d, caller, param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        let mut tx = d.store().begin().await?;
        workspaces::lock_live(&mut tx, ws.id).await?;
        let old = workspaces::get_acl(&mut tx, ws.id).await?;
        // Decided against the ACL as it is now, not as `resolve_workspace` read it.
        let authz = WorkspaceAuthz::with_acl(&ws, &old);
        caller.require(Action::Create, &authz.object())?;
        // No escalation: every role granted must be one the grantor holds here.
        for role in req.user_roles.values().chain(req.group_roles.values()) {
            let Ok(Some(set)) = KIND.parse_role(role) else { continue };
            if let Some(missing) =
                Action::ALL.iter().find(|a| set.grants(**a) && !caller.can(**a, &authz.object()))
            {
                return Err(Error::forbidden_with(format!(
                    "You cannot grant the \"{role}\" role on this workspace: you do not have its \
                     \"{}\" permission.",
                    missing.as_str()
                )));
            }
        }
        let mut users_map: BTreeMap<UserId, ActionSet> = old.users.iter().copied().collect();
        let mut groups_map: BTreeMap<GroupId, ActionSet> = old.groups.iter().copied().collect();
        for (id, role) in &req.user_roles {
            let user: UserId = id
                .parse()
                .map_err(|_| invalid("user_roles", format!("{id} is not a valid UUID.")))?;
            let set = KIND.parse_role(role).map_err(|e| invalid("user_roles", e.to_string()))?;
            if set.is_some() {
                match users::get(&mut tx, user).await {
                    Ok(u) if !u.deleted => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => {
                        return Err(invalid(
                            "user_roles",
                            format!("user with ID {id} does not exist"),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
                // Only members of the workspace's organization may be granted a role; the
                // membership stays locked until the grant commits, so a removal racing this
                // edit either waits for it or is seen here.
                match orgs::lock_member(&mut tx, ws.org_id, user).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => {
                        return Err(invalid(
                            "user_roles",
                            format!(
                                "user with ID {id} is not a member of the workspace's organization"
                            ),
                        ));
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
            let group: GroupId = id
                .parse()
                .map_err(|_| invalid("group_roles", format!("{id} is not a valid UUID.")))?;
            let set = KIND.parse_role(role).map_err(|e| invalid("group_roles", e.to_string()))?;
            if set.is_some() && !group.is_everyone_of(ws.org_id) {
                match groups::get(&mut tx, group).await {
                    Ok(g) if g.org_id == ws.org_id => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => {
                        return Err(invalid(
                            "group_roles",
                            format!("group with ID {id} does not exist"),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match set {
                Some(s) => groups_map.insert(group, s),
                None => groups_map.remove(&group),
            };
        }
        let new = Acl {
            users: users_map.into_iter().collect(),
            groups: groups_map.into_iter().collect(),
        };
        workspaces::set_acl(&mut tx, ws.id, &new).await?;
        entry.changed(&acl_view(&old), &acl_view(&new));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Stops sharing the workspace with anyone; needs `read` (404) and `create` on it (403).
pub async fn delete_acl(d: &Domain, caller: &Caller, param: &str) -> Result<()> {
    let mut entry = Entry::new("write", "workspace").by(caller);
    let result = async {
        let (ws, authz) = resolve_workspace(d, caller, param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        caller.require(Action::Create, &authz.object())?;
        let mut tx = d.store().begin().await?;
        // Under the lock PATCH takes, so an edit in flight is cleared too, not re-applied.
        workspaces::lock_live(&mut tx, ws.id).await?;
        workspaces::set_acl(&mut tx, ws.id, &Acl::default()).await?;
        entry.changed(&json!({"shared": true}), &json!({"shared": false}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The audit view of an ACL: grantee id → role.
fn acl_view(acl: &Acl) -> serde_json::Value {
    json!({
        "user_acl": acl.users.iter().map(|(u, s)| (u.to_string(), KIND.role_of(*s))).collect::<BTreeMap<_, _>>(),
        "group_acl": acl.groups.iter().map(|(g, s)| (g.to_string(), KIND.role_of(*s))).collect::<BTreeMap<_, _>>(),
    })
}
