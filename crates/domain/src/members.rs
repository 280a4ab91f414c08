//! Organization members and their org roles (coder-api.md §1.3, rbac.md §4.2).

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::orgs::resolve_org;
use crate::user_roles::assign_error;
use crate::users::resolve_user;
use crate::{Caller, Domain, Error, Result};
use atrium_api::orgs::{
    OrganizationMember, OrganizationMemberWithUserData, PaginatedMembersResponse,
};
use atrium_api::users::{SlimRole, UpdateRoles};
use atrium_engine::assign::{Assignable, RoleScope, can_assign, check_role_change};
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
                StoreError::Conflict { constraint }
                    if constraint == "organization_members_pkey" =>
                {
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

/// Removes a member (requires `delete` on the membership); their org roles and the org's group
/// memberships go with it.
pub async fn remove(d: &Domain, caller: &Caller, org: &str, user: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "organization_member").by(caller);
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        let (user, _) = resolve_member(d, caller, org.id, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        caller.require(Action::Delete, &member_object(org.id, user.id))?;
        let mut tx = d.store().begin().await?;
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
        // The current roles and the org's custom roles are read inside the write transaction,
        // under a lock on the membership (a parallel change waits, then reads this one's
        // roles), so the change is computed and checked against what it replaces.
        let mut tx = d.store().begin().await?;
        orgs::lock_member_for_update(&mut tx, org.id, user.id).await?;
        let current = orgs::get_member_roles(&mut tx, org.id, user.id).await?;
        let custom = roles::list(&mut tx, org.id).await?;
        let change = check_role_change(
            caller.subject(),
            RoleScope::Org(org.id.uuid()),
            &current,
            &req.roles,
            |name| {
                custom.iter().find(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.clone())
            },
        )
        .map_err(assign_error)?;
        let mut new: Vec<String> =
            current.iter().filter(|r| !change.removed.contains(r)).cloned().collect();
        new.extend(change.added.iter().cloned());
        new.sort();
        new.dedup();
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

/// Org role names as `SlimRole`s (display names from built-ins or the org's custom roles).
pub async fn slim_org_roles(state: &Domain, org: OrgId, names: &[String]) -> Result<Vec<SlimRole>> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let display_name = match BuiltinRole::parse(name) {
            Some(b) => b.display_name().to_owned(),
            None => match roles::get(state.store(), org, name).await {
                Ok(r) => r.display_name,
                Err(StoreError::NotFound { .. }) => String::new(),
                Err(e) => return Err(e.into()),
            },
        };
        out.push(SlimRole { name: name.clone(), display_name, organization_id: org.to_string() });
    }
    Ok(out)
}

async fn api_member(
    state: &Domain,
    m: &orgs::Member,
    roles: &[String],
) -> Result<OrganizationMember> {
    Ok(OrganizationMember {
        user_id: m.user_id.uuid(),
        organization_id: m.org_id.uuid(),
        created_at: time(m.created_at),
        updated_at: time(m.updated_at),
        roles: slim_org_roles(state, m.org_id, roles).await?,
    })
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
    let roles = orgs::get_member_roles(state.store(), m.org_id, m.user_id).await?;
    let user = users::get(state.store(), m.user_id).await?;
    let site = users::get_site_roles(state.store(), m.user_id).await?;
    let global_roles = crate::users::api_user(&user, &site, vec![]).roles;
    Ok(OrganizationMemberWithUserData {
        member: api_member(state, m, &roles).await?,
        username: user.username,
        name: user.name,
        email: user.email,
        avatar_url: user.avatar_url,
        global_roles,
    })
}

async fn listed(
    state: &Domain,
    actor: &Caller,
    param: &str,
    page: Page,
) -> Result<(Vec<OrganizationMemberWithUserData>, i64)> {
    let org = resolve_org(state, actor, param).await?;
    let filter = actor.subject().list_filter(Action::Read, ResourceType::OrganizationMember);
    let rows = lists::org_members(state.store(), org.id, &filter, page).await?;
    let mut out = Vec::with_capacity(rows.rows.len());
    for m in &rows.rows {
        out.push(with_user_data(state, m).await?);
    }
    Ok((out, rows.count))
}
