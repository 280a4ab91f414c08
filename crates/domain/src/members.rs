//! Organization members and their org roles (coder-api.md §1.3, rbac.md §4.2).

use std::collections::HashMap;

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::orgs::resolve_org;
use crate::user_roles::{RoleEdit, assign_error};
use crate::users::resolve_user;
use crate::{Caller, Domain, Error, Result};
use atrium_api::orgs::{
    OrganizationMember, OrganizationMemberWithUserData, PaginatedMembersResponse,
};
use atrium_api::users::{SlimRole, UpdateRoles};
use atrium_engine::assign::{
    Assignable, CustomRoleInfo, RoleScope, can_assign, check_role_change_with,
};
use atrium_engine::{Action, BuiltinRole, Object, ResourceType};
use atrium_store::lists::{self, Page};
use atrium_store::{DbTime, OrgId, StoreError, UserId, orgs, roles, users};
use serde_json::json;

/// Every member of an organization the caller may read, as far as the caller may read them
/// (the org is 404 when unreadable; members are filtered by the engine's residual filter).
pub async fn list(
    d: &Domain,
    caller: &Caller,
    org: &str,
) -> Result<Vec<OrganizationMemberWithUserData>> {
    Ok(listed(d, caller, org, Page::default()).await?.0)
}

/// A page of [`list`], with the count of every member the caller may read.
pub async fn paginated(
    d: &Domain,
    caller: &Caller,
    org: &str,
    page: Page,
) -> Result<PaginatedMembersResponse> {
    let (members, count) = listed(d, caller, org, page).await?;
    Ok(PaginatedMembersResponse { members, count })
}

/// One member; an org or membership the caller may not read is not found.
pub async fn get(
    d: &Domain,
    caller: &Caller,
    org: &str,
    user: &str,
) -> Result<OrganizationMemberWithUserData> {
    let org = resolve_org(d, caller, org).await?;
    let (_, m) = resolve_member(d, caller, org.id, user).await?;
    with_user_data(d, &m).await
}

/// Adds a user to an organization (also to its Everyone group, which is implicit). Requires
/// `create` on the membership and the right to assign `organization-member` there. Already a
/// member is Coder's 400 (decided by the primary key inside the transaction).
pub async fn add(d: &Domain, caller: &Caller, org: &str, user: &str) -> Result<OrganizationMember> {
    let mut entry = Entry::new("create", "organization_member").by(caller);
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        caller.require(Action::Create, &member_object(org.id, user.id))?;
        crate::idp_sync::refuse_manual_membership(d, &user).await?;
        // Joining hands out the implied organization-member role, so the actor must be able to
        // assign it (Coder's member insert runs the role-assignment check).
        let assign = Object::of(ResourceType::AssignOrgRole).in_org(org.id.uuid());
        if !caller.can(Action::Assign, &assign)
            || !can_assign(
                caller.subject().roles(),
                Assignable::Builtin(BuiltinRole::OrganizationMember),
                Some(org.id.uuid()),
            )
        {
            return Err(Error::forbidden());
        }
        let mut tx = d.store().begin().await?;
        let m = orgs::add_member(&mut tx, org.id, user.id, DbTime::now()).await.map_err(|e| {
            match e {
                StoreError::Unique { constraint } if constraint == "organization_members_pkey" => {
                    Error::bad_request("Organization member already exists in this organization")
                }
                // The org (or the user) went away since it was read.
                e if e.is_foreign_key_conflict() => Error::not_found(),
                e => e.into(),
            }
        })?;
        entry.changed(&json!({}), &json!({"user_id": user.id, "organization_id": org.id}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        api_member(d, &m, &[]).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The custom role named `name` (case-insensitively) among an org's `custom` roles, as the
/// engine's role-change check asks for it.
pub(crate) fn custom_role_info(custom: &[roles::CustomRole], name: &str) -> Option<CustomRoleInfo> {
    custom
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| CustomRoleInfo { name: c.name.clone(), assignable_by: c.assignable_by.0.clone() })
}

/// Removes a member (requires `delete` on the membership, and the right to unassign each org
/// role they hold, which goes with it, as do the org's group memberships).
pub async fn remove(d: &Domain, caller: &Caller, org: &str, user: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "organization_member").by(caller);
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        let (user, _) = resolve_member(d, caller, org.id, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        caller.require(Action::Delete, &member_object(org.id, user.id))?;
        crate::idp_sync::refuse_manual_membership(d, &user).await?;
        let mut tx = d.store().begin().await?;
        // Leaving takes the member's org roles with it, so the caller must be able to unassign
        // each: else an org user admin could lift a creation ban or demote an org admin by
        // removing and re-adding the member.
        orgs::lock_member_for_update(&mut tx, org.id, user.id).await?;
        let current = orgs::get_member_roles(&mut tx, org.id, user.id).await?;
        let custom = roles::list(&mut tx, org.id).await?;
        check_role_change_with(
            caller.subject(),
            RoleScope::Org(org.id.uuid()),
            &current,
            &[],
            |n| custom_role_info(&custom, n),
        )
        .map_err(|e| {
            assign_error(e).detail("Removing a member takes their organization roles away.")
        })?;
        orgs::remove_member(&mut tx, org.id, user.id).await?;
        entry.changed(&json!({"user_id": user.id, "organization_id": org.id}), &json!({}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Replaces a member's org roles (`organization-member` is implicit). Never one's own; each
/// role added or removed must be assignable by the caller (the engine's role-change check).
pub async fn update_roles(
    d: &Domain,
    caller: &Caller,
    org: &str,
    user: &str,
    req: &UpdateRoles,
) -> Result<OrganizationMember> {
    edit_roles(d, caller, org, user, &RoleEdit::Replace(req.roles.clone())).await
}

/// Changes a member's org roles by `edit`, computed on the roles read under the membership's
/// lock (so one role added or removed never overwrites a parallel change), with the same
/// checks as [`update_roles`].
pub async fn edit_roles(
    d: &Domain,
    caller: &Caller,
    org: &str,
    user: &str,
    edit: &RoleEdit,
) -> Result<OrganizationMember> {
    let mut entry = Entry::new("write", "organization_member").by(caller);
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        let (user, m) = resolve_member(d, caller, org.id, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        if user.id == caller.id() {
            return Err(Error::bad_request("You cannot change your own organization roles.")
                .detail("Another user with the appropriate permissions must change your roles."));
        }
        crate::idp_sync::refuse_manual_member_roles(d, org.id, &user).await?;
        // The current roles and the org's custom roles are read inside the write transaction,
        // under a lock on the membership (a parallel change waits, then reads this one's
        // roles), so the change is computed and checked against what it replaces.
        let mut tx = d.store().begin().await?;
        orgs::lock_member_for_update(&mut tx, org.id, user.id).await?;
        let current = orgs::get_member_roles(&mut tx, org.id, user.id).await?;
        let custom = roles::list(&mut tx, org.id).await?;
        let change = check_role_change_with(
            caller.subject(),
            RoleScope::Org(org.id.uuid()),
            &current,
            &edit.requested(&current)?,
            |n| custom_role_info(&custom, n),
        )
        .map_err(assign_error)?;
        let new = change.apply(&current);
        let names: Vec<&str> = new.iter().map(String::as_str).collect();
        orgs::set_member_roles(&mut tx, org.id, user.id, &names, DbTime::now()).await?;
        entry.changed(&json!({"roles": current}), &json!({"roles": new}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        api_member(d, &m, &new).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The engine object of a membership (owned by the member, in the org).
pub fn member_object(org: OrgId, user: UserId) -> Object<'static> {
    Object::of(ResourceType::OrganizationMember)
        .with_id(user.uuid())
        .with_owner(user.uuid())
        .in_org(org.uuid())
}

/// Display names of an org's roles: built-ins, and its custom roles read once (only when a
/// name is not built in), matched without case as role names are.
struct RoleNames {
    org: OrgId,
    custom: Vec<(String, String)>,
}

impl RoleNames {
    async fn load<'a>(
        state: &Domain,
        org: OrgId,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Result<Self> {
        let custom = if names.into_iter().any(|n| BuiltinRole::parse(n).is_none()) {
            roles::list(state.store(), org)
                .await?
                .into_iter()
                .map(|r| (r.name, r.display_name))
                .collect()
        } else {
            Vec::new()
        };
        Ok(RoleNames { org, custom })
    }

    fn slim(&self, names: &[String]) -> Vec<SlimRole> {
        names
            .iter()
            .map(|name| {
                let display_name = match BuiltinRole::parse(name) {
                    Some(b) => b.display_name().to_owned(),
                    None => self
                        .custom
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, d)| d.clone())
                        .unwrap_or_default(),
                };
                SlimRole { name: name.clone(), display_name, organization_id: self.org.to_string() }
            })
            .collect()
    }
}

async fn api_member(
    state: &Domain,
    m: &orgs::Member,
    roles: &[String],
) -> Result<OrganizationMember> {
    let names = RoleNames::load(state, m.org_id, roles).await?;
    Ok(member_view(m, &names, roles))
}

fn member_view(m: &orgs::Member, names: &RoleNames, roles: &[String]) -> OrganizationMember {
    OrganizationMember {
        user_id: m.user_id.uuid(),
        organization_id: m.org_id.uuid(),
        created_at: time(m.created_at),
        updated_at: time(m.updated_at),
        roles: names.slim(roles),
    }
}

/// Resolves `{user}` on a member route: the membership must exist and be readable (404
/// otherwise), as Coder's member-param lookup; no site-level read of the user is needed.
async fn resolve_member(
    state: &Domain,
    actor: &Caller,
    org: OrgId,
    param: &str,
) -> Result<(users::User, orgs::Member)> {
    let user = if param == "me" {
        actor.user().clone()
    } else {
        let found = users::get_by_id_or_username(state.store(), param).await;
        match found {
            Ok(u) if !u.deleted => u,
            Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
            Err(e) => return Err(e.into()),
        }
    };
    actor.require_or_404(Action::Read, &member_object(org, user.id))?;
    match orgs::get_member(state.store(), org, user.id).await {
        Ok(m) => Ok((user, m)),
        Err(StoreError::NotFound { .. }) => Err(Error::not_found()),
        Err(e) => Err(e.into()),
    }
}

async fn with_user_data(
    state: &Domain,
    m: &orgs::Member,
) -> Result<OrganizationMemberWithUserData> {
    let mut one = with_user_data_many(state, m.org_id, std::slice::from_ref(m)).await?;
    one.pop().ok_or_else(Error::not_found)
}

/// Members of `org` with their user data: four statements whatever their number (org roles,
/// users, site roles, and the org's custom role names when one is held).
async fn with_user_data_many(
    state: &Domain,
    org: OrgId,
    rows: &[orgs::Member],
) -> Result<Vec<OrganizationMemberWithUserData>> {
    let ids: Vec<UserId> = rows.iter().map(|m| m.user_id).collect();
    let mut org_roles: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, role) in orgs::member_roles_in(state.store(), org, &ids).await? {
        org_roles.entry(user).or_default().push(role);
    }
    let mut users_by_id: HashMap<UserId, users::User> =
        users::get_many(state.store(), &ids).await?.into_iter().map(|u| (u.id, u)).collect();
    let mut site: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, role) in users::site_roles_of(state.store(), &ids).await? {
        site.entry(user).or_default().push(role);
    }
    let names = RoleNames::load(state, org, org_roles.values().flatten()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let user = users_by_id.remove(&m.user_id).ok_or_else(Error::not_found)?;
        let roles = org_roles.remove(&m.user_id).unwrap_or_default();
        let site = site.remove(&m.user_id).unwrap_or_default();
        out.push(OrganizationMemberWithUserData {
            member: member_view(m, &names, &roles),
            global_roles: crate::users::api_user(&user, &site, vec![]).roles,
            username: user.username,
            name: user.name,
            email: user.email,
            avatar_url: user.avatar_url,
        });
    }
    Ok(out)
}

async fn listed(
    state: &Domain,
    actor: &Caller,
    param: &str,
    page: Page,
) -> Result<(Vec<OrganizationMemberWithUserData>, i64)> {
    let org = resolve_org(state, actor, param).await?;
    let filter = actor.subject().list_filter_for(Action::Read);
    let rows = lists::org_members(state.store(), org.id, &filter, page).await?;
    Ok((with_user_data_many(state, org.id, &rows.rows).await?, rows.count))
}
