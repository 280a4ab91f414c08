//! Site roles of a user and the assignable role list (coder-api.md §1.2, rbac.md §4), and the
//! role views and assignment errors the org-role routes share.

use std::collections::BTreeMap;

use atrium_api::users::{
    AssignableRoles, Permission as ApiPermission, Role as ApiRole, UpdateRoles, User as ApiUser,
    UserRoles,
};
use atrium_engine::account::{self, AccountAction};
use atrium_engine::assign::{
    AssignError, Assignable, CustomRoleInfo, RoleScope, can_assign, check_role_change_with,
};
use atrium_engine::{Action, BuiltinRole, Object, Permission, ResourceType, Role, RoleOptions};
use atrium_store::{DbTime, orgs, site_roles, users};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::members::member_object;
use crate::users::{guard_account, keep_an_owner, resolve_user, to_api};
use crate::{Caller, Domain, Error, Result};

/// `{roles, organization_roles}` of a user the caller may read ([`resolve_user`]); org roles
/// only in orgs whose members the caller may read.
pub async fn get(d: &Domain, caller: &Caller, user: &str) -> Result<UserRoles> {
    let user = resolve_user(d, caller, user).await?;
    let roles = users::get_site_roles(d.store(), user.id).await?;
    let memberships = orgs::list_memberships(d.store(), user.id).await?;
    let organization_roles: BTreeMap<uuid::Uuid, Vec<String>> = memberships
        .into_iter()
        .filter(|m| caller.can(Action::Read, &member_object(m.org_id, user.id)))
        .map(|m| (m.org_id.uuid(), m.roles))
        .collect();
    Ok(UserRoles { roles, organization_roles })
}

/// Replaces a user's site roles (`member` is implicit). Authorizes the account rules for role
/// changes (not your own, only owners touch owners, never the last owner) and assigning or
/// unassigning each changed role, all on the roles read under the owner-set lock.
pub async fn update(d: &Domain, caller: &Caller, user: &str, req: &UpdateRoles) -> Result<ApiUser> {
    edit(d, caller, user, &RoleEdit::Replace(req.roles.clone())).await
}

/// How a role write changes the roles it finds: all replaced (the API's PUT), or one role added
/// or removed (the dashboard's Assign and Remove), computed on the roles read under the write's
/// lock so that a parallel change is never overwritten.
#[derive(Clone, Debug)]
pub enum RoleEdit {
    Replace(Vec<String>),
    Add(String),
    Remove(String),
}

impl RoleEdit {
    /// The roles asked for, given the current ones. Removing a role not held is refused.
    pub fn requested(&self, current: &[String]) -> Result<Vec<String>> {
        let holds = |role: &str| current.iter().any(|c| c.eq_ignore_ascii_case(role));
        match self {
            RoleEdit::Replace(roles) => Ok(roles.clone()),
            RoleEdit::Add(role) if holds(role) => Ok(current.to_vec()),
            RoleEdit::Add(role) => Ok(current.iter().cloned().chain([role.clone()]).collect()),
            RoleEdit::Remove(role) if holds(role) => {
                Ok(current.iter().filter(|c| !c.eq_ignore_ascii_case(role)).cloned().collect())
            }
            RoleEdit::Remove(role) => {
                Err(Error::bad_request(format!("The user does not hold the role \"{role}\".")))
            }
        }
    }
}

/// Changes a user's site roles by `edit`, with the same checks as [`update`].
pub async fn edit(d: &Domain, caller: &Caller, user: &str, edit: &RoleEdit) -> Result<ApiUser> {
    let mut entry = Entry::new("write", "user").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        if user.login_type == atrium_store::LoginType::Oidc
            && !d.config.oidc.oidc_user_role_field.is_empty()
        {
            return Err(Error::bad_request(
                "Cannot modify roles for OIDC users when role sync is enabled.",
            )
            .detail(
                "'User Role Field' is set in the OIDC configuration. All role changes must come from the oidc identity provider.",
            ));
        }
        // The whole decision runs on the roles read under the owner-set lock, so a concurrent
        // promotion or demotion cannot slip past the owner rules.
        let mut tx = d.store().begin().await?;
        let (target, current) =
            guard_account(&mut tx, caller, user.id, AccountAction::ChangeRoles).await?;
        let site_custom = site_roles::list(&mut tx).await?;
        let requested = edit.requested(&current)?;
        let change =
            check_role_change_with(caller.subject(), RoleScope::Site, &current, &requested, |n| {
                site_custom.iter().find(|r| r.name.eq_ignore_ascii_case(n)).map(|r| {
                    CustomRoleInfo {
                        name: r.name.clone(),
                        assignable_by: r.assignable_by.0.clone(),
                    }
                })
            })
            .map_err(assign_error)?;
        let removes_owner = change.removed.iter().any(|r| r == BuiltinRole::Owner.name());
        if account::removes_an_owner(target, AccountAction::ChangeRoles, removes_owner) {
            keep_an_owner(&mut tx, user.id, AccountAction::ChangeRoles).await?;
        }
        // Kept roles as stored, added ones by their stored names (custom names ignore case).
        let new = change.apply(&current);
        users::set_site_roles(
            &mut tx,
            user.id,
            &new.iter().map(String::as_str).collect::<Vec<_>>(),
            DbTime::now(),
        )
        .await?;
        entry.changed(&json!({"roles": current}), &json!({"roles": new}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        to_api(d, caller, &user).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Site roles with whether the caller may assign each (the static table, rbac.md §4.3), then
/// the site-wide custom and restriction roles (issue 20). Authorizes reading assignable roles.
pub async fn list_site_roles(d: &Domain, caller: &Caller) -> Result<Vec<AssignableRoles>> {
    caller.require(Action::Read, &Object::of(ResourceType::AssignRole))?;
    let custom = crate::site_roles::list(d, caller).await?;
    Ok(BuiltinRole::ALL
        .into_iter()
        .filter(|b| !b.is_org_role() && *b != BuiltinRole::Member && !b.display_name().is_empty())
        .filter_map(|b| b.expand(None, RoleOptions::default()).ok())
        .map(|role| AssignableRoles {
            assignable: role.builtin.is_some_and(|b| {
                can_assign(caller.subject().roles(), Assignable::Builtin(b), None)
            }),
            built_in: true,
            role: api_role(&role),
        })
        .chain(custom)
        .collect())
}

fn api_permission(p: &Permission) -> ApiPermission {
    ApiPermission {
        negate: p.negate,
        resource_type: p.resource_type.to_string(),
        action: p.action.to_string(),
    }
}

/// An engine role in Coder's `Role` JSON.
pub fn api_role(role: &Role) -> ApiRole {
    ApiRole {
        name: role.name.clone(),
        organization_id: role.org.map(|o| o.to_string()).unwrap_or_default(),
        display_name: role.display_name.clone(),
        site_permissions: role.site.iter().map(api_permission).collect(),
        organization_permissions: role.org_perms.iter().map(api_permission).collect(),
        user_permissions: role.user.iter().map(api_permission).collect(),
        // The built-in ban is the one built-in restriction role (issue 20).
        restriction: role.builtin == Some(BuiltinRole::OrganizationWorkspaceCreationBan),
        assignable_by: Vec::new(),
    }
}

/// Maps an assignment refusal to Coder's statuses: RBAC denial → 403, the rest → 400 with the
/// error text as message.
pub fn assign_error(e: AssignError) -> Error {
    match e {
        AssignError::Forbidden => Error::forbidden(),
        e @ (AssignError::NotAnOrgRole
        | AssignError::NotASiteRole
        | AssignError::Suffixed(_)
        | AssignError::Unsupported(_)
        | AssignError::NotAuthorized(_)) => Error::bad_request(e.to_string()),
    }
}
