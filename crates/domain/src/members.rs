//! Organization members and their org roles (coder-api.md §1.3, rbac.md §4.2).

use crate::convert::time;
use crate::orgs::resolve_org;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::orgs::{OrganizationMember, OrganizationMemberWithUserData};
use atrium_api::users::SlimRole;
use atrium_engine::{Action, BuiltinRole, Object, ResourceType};
use atrium_store::lists::{self, Page};
use atrium_store::{OrgId, StoreError, UserId, orgs, roles, users};

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
            None => match roles::get(state.legacy_store(), org, name).await {
                Ok(r) => r.display_name,
                Err(StoreError::NotFound { .. }) => String::new(),
                Err(e) => return Err(e.into()),
            },
        };
        out.push(SlimRole { name: name.clone(), display_name, organization_id: org.to_string() });
    }
    Ok(out)
}

pub async fn api_member(
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
pub async fn resolve_member(
    state: &Domain,
    actor: &Caller,
    org: OrgId,
    param: &str,
) -> Result<(users::User, orgs::Member)> {
    let user = if param == "me" {
        actor.user.clone()
    } else {
        let found = users::get_by_id_or_username(state.legacy_store(), param).await;
        match found {
            Ok(u) if !u.deleted => u,
            Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
            Err(e) => return Err(e.into()),
        }
    };
    actor.require_or_404(Action::Read, &member_object(org, user.id))?;
    match orgs::get_member(state.legacy_store(), org, user.id).await {
        Ok(m) => Ok((user, m)),
        Err(StoreError::NotFound { .. }) => Err(Error::not_found()),
        Err(e) => Err(e.into()),
    }
}

pub async fn with_user_data(
    state: &Domain,
    m: &orgs::Member,
) -> Result<OrganizationMemberWithUserData> {
    let roles = orgs::get_member_roles(state.legacy_store(), m.org_id, m.user_id).await?;
    let user = users::get(state.legacy_store(), m.user_id).await?;
    let site = users::get_site_roles(state.legacy_store(), m.user_id).await?;
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

pub async fn listed(
    state: &Domain,
    actor: &Caller,
    param: &str,
    page: Page,
) -> Result<(Vec<OrganizationMemberWithUserData>, i64)> {
    let org = resolve_org(state, actor, param).await?;
    let filter = actor.subject.list_filter(Action::Read, ResourceType::OrganizationMember);
    let rows = lists::org_members(state.legacy_store(), org.id, &filter, page).await?;
    let mut out = Vec::with_capacity(rows.rows.len());
    for m in &rows.rows {
        out.push(with_user_data(state, m).await?);
    }
    Ok((out, rows.count))
}
