//! Workspace sharing (rbac.md §7.2): a workspace's user and group ACL. `admin` grants every
//! workspace action but `delete`; `use` grants `read`, `start`, `stop`, `ssh` and
//! `application_connect`. Changing the ACL needs `create` on the workspace, so the
//! creation-ban role also blocks sharing in its org (rbac.md §9.8).
//!
//! Granting cannot escalate (Atrium's rule; Coder's experimental sharing has none): a grantor
//! may only grant a role whose every action it holds on the workspace itself, and grantees
//! must belong to the workspace's organization (users as members, groups as its groups or its
//! Everyone group). Removing a grant needs only `create`.

#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
pub use atrium_api::workspaces::{UpdateWorkspaceAcl, WorkspaceAclResponse, WorkspaceGrantee};
use atrium_engine::{Action, ActionSet, Wild};
use atrium_store::value::Acl;
use atrium_store::{OrgId, groups, users};

/// `admin`: everything but `delete` (`create` doubles as "may edit the ACL").
pub fn admin_actions() -> ActionSet {
    [
        Action::Create,
        Action::Read,
        Action::Update,
        Action::Start,
        Action::Stop,
        Action::Ssh,
        Action::ApplicationConnect,
        Action::CreateAgent,
        Action::DeleteAgent,
    ]
    .into_iter()
    .map(Wild::Is)
    .collect()
}

/// `use`: connect and power, no changes.
pub fn use_actions() -> ActionSet {
    [Action::ApplicationConnect, Action::Read, Action::Ssh, Action::Start, Action::Stop]
        .into_iter()
        .map(Wild::Is)
        .collect()
}

pub fn role_of(set: ActionSet) -> &'static str {
    if set == admin_actions() {
        "admin"
    } else if set == use_actions() {
        "use"
    } else {
        ""
    }
}

pub async fn acl_response(state: &Domain, org: OrgId, acl: &Acl) -> Result<WorkspaceAclResponse> {
    let mut out = WorkspaceAclResponse { users: vec![], group: vec![] };
    for (id, set) in &acl.users {
        if let Ok(u) = users::get(state.legacy_store(), *id).await
            && !u.deleted
        {
            out.users.push(WorkspaceGrantee {
                id: id.uuid(),
                name: u.username,
                avatar_url: u.avatar_url,
                role: role_of(*set).into(),
            });
        }
    }
    for (id, set) in &acl.groups {
        let (name, avatar_url) = if id.is_everyone_of(org) {
            ("Everyone".to_owned(), String::new())
        } else {
            match groups::get(state.legacy_store(), *id).await {
                Ok(g) => (g.name, g.avatar_url),
                Err(_) => continue,
            }
        };
        out.group.push(WorkspaceGrantee {
            id: id.uuid(),
            name,
            avatar_url,
            role: role_of(*set).into(),
        });
    }
    Ok(out)
}

pub fn invalid(field: &str, detail: String) -> Error {
    Error::bad_request("Invalid request to update workspace ACL").validation(field, detail)
}

pub fn parse_role(field: &str, role: &str) -> Result<Option<ActionSet>> {
    match role {
        "admin" => Ok(Some(admin_actions())),
        "use" => Ok(Some(use_actions())),
        "" => Ok(None),
        other => Err(invalid(field, format!("role \"{other}\" is not a valid workspace role"))),
    }
}
