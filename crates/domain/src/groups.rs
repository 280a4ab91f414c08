//! Groups (coder-api.md §1.5). Each org has an implicit Everyone group whose id is the org id:
//! it holds every member, and cannot be renamed, edited or deleted.

use crate::convert::time;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::orgs::{Group, ReducedUser};
use atrium_engine::name::validate_name;
use atrium_engine::{Action, ActionSet, Object, ResourceType, Wild};
use atrium_store::lists;
use atrium_store::{GroupId, OrgId, StoreError, UserId, groups, orgs, users};

pub const EVERYONE: &str = "Everyone";

/// A group as the engine sees it: members of a group may read it (rbac.md §7.3); for the
/// Everyone group the entry is keyed by the org id, so every member reads it.
pub fn with_group_object<T>(group: GroupId, org: OrgId, f: impl FnOnce(&Object<'_>) -> T) -> T {
    let acl = [(group.uuid(), [Wild::Is(Action::Read)].into_iter().collect::<ActionSet>())];
    let object = Object::of(ResourceType::Group)
        .with_id(group.uuid())
        .in_org(org.uuid())
        .with_group_acl(&acl);
    f(&object)
}

/// A group (stored, or the synthesized Everyone group).
pub struct Resolved {
    pub id: GroupId,
    pub org: orgs::Organization,
    pub row: Option<groups::Group>,
}

impl Resolved {
    pub fn is_everyone(&self) -> bool {
        self.row.is_none()
    }
    pub fn name(&self) -> &str {
        self.row.as_ref().map_or(EVERYONE, |g| g.name.as_str())
    }
}

/// A user in Coder's `ReducedUser` shape.
pub fn reduced(u: &users::User) -> ReducedUser {
    ReducedUser {
        id: u.id.uuid(),
        username: u.username.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        avatar_url: u.avatar_url.clone(),
        created_at: time(u.created_at),
        updated_at: time(u.updated_at),
        last_seen_at: u.last_seen_at.map(time),
        status: u.status.as_str().to_owned(),
        login_type: u.login_type.as_str().to_owned(),
        theme_preference: String::new(),
    }
}

/// A group's member ids: a stored group's rows, or every member of the org for its Everyone
/// group (`row` is `None`).
pub async fn member_ids(
    state: &Domain,
    org: OrgId,
    row: Option<&groups::Group>,
) -> Result<Vec<UserId>> {
    Ok(match row {
        Some(r) => groups::list_members(state.legacy_store(), r.id).await?,
        None => orgs::list_members(state.legacy_store(), org)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect(),
    })
}

/// A group membership as the engine sees it: owned by the member, in the group's org
/// (rbac.md §2, `group_member`).
pub fn group_member_object(org: OrgId, user: UserId) -> Object<'static> {
    Object::of(ResourceType::GroupMember)
        .with_id(user.uuid())
        .with_owner(user.uuid())
        .in_org(org.uuid())
}

/// The wire group (a stored one, or the org's Everyone group when `row` is `None`) as `actor`
/// may see it. As Coder's dbauthz: `members` is post-filtered by `read` on each membership (a
/// plain member sees only themselves), while `total_member_count` counts every live member
/// (Coder counts them once the group itself is readable).
pub async fn api_group_for(
    state: &Domain,
    actor: &Caller,
    org: &orgs::Organization,
    id: GroupId,
    row: Option<&groups::Group>,
) -> Result<Group> {
    let ids = member_ids(state, org.id, row).await?;
    let mut members = Vec::new();
    let mut total: i64 = 0;
    for id in ids {
        match users::get(state.legacy_store(), id).await {
            Ok(u) if !u.deleted => {
                total += 1;
                if actor.can(Action::Read, &group_member_object(org.id, u.id)) {
                    members.push(reduced(&u));
                }
            }
            Ok(_) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (display_name, avatar_url, quota, source) = match row {
        Some(r) => (
            r.display_name.clone(),
            r.avatar_url.clone(),
            i64::from(r.quota_allowance),
            r.source.as_str(),
        ),
        None => (String::new(), String::new(), 0, "user"),
    };
    Ok(Group {
        id: id.uuid(),
        name: row.map_or(EVERYONE, |g| g.name.as_str()).to_owned(),
        display_name,
        organization_id: org.id.uuid(),
        organization_name: org.name.clone(),
        organization_display_name: org.display_name.clone(),
        total_member_count: total,
        members,
        avatar_url,
        quota_allowance: quota,
        source: source.to_owned(),
    })
}

pub async fn api_group(state: &Domain, actor: &Caller, g: &Resolved) -> Result<Group> {
    api_group_for(state, actor, &g.org, g.id, g.row.as_ref()).await
}

/// Loads a group by id (the org id means its Everyone group) with a read check → 404.
pub async fn resolve_group(state: &Domain, actor: &Caller, param: &str) -> Result<Resolved> {
    let Ok(id) = param.parse::<GroupId>() else { return Err(Error::not_found()) };
    let resolved = match groups::get(state.legacy_store(), id).await {
        Ok(row) => {
            Resolved { id, org: orgs::get(state.legacy_store(), row.org_id).await?, row: Some(row) }
        }
        Err(StoreError::NotFound { .. }) => {
            match orgs::get(state.legacy_store(), OrgId(id.uuid())).await {
                Ok(org) => Resolved { id, org, row: None },
                Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let readable = with_group_object(resolved.id, resolved.org.id, |o| actor.can(Action::Read, o));
    if readable { Ok(resolved) } else { Err(Error::not_found()) }
}

pub async fn readable_groups(
    state: &Domain,
    actor: &Caller,
    org: orgs::Organization,
) -> Result<Vec<Resolved>> {
    let mut out = Vec::new();
    let everyone = GroupId::everyone(org.id);
    if with_group_object(everyone, org.id, |o| actor.can(Action::Read, o)) {
        out.push(Resolved { id: everyone, org: org.clone(), row: None });
    }
    let filter = actor.subject.list_filter(Action::Read, ResourceType::Group);
    for row in lists::groups(state.legacy_store(), org.id, &filter).await? {
        out.push(Resolved { id: row.id, org: org.clone(), row: Some(row) });
    }
    Ok(out)
}

pub fn check_group_name(name: &str) -> Result<()> {
    if name == EVERYONE {
        return Err(Error::bad_request("Invalid group name.")
            .validation("name", "\"Everyone\" is a reserved group name"));
    }
    if name.is_empty() {
        return Err(Error::required("name"));
    }
    validate_name(name).map_err(|_| Error::tag_failed("name", "group_name", name))
}

pub fn parse_user_ids(list: &[String]) -> Result<Vec<UserId>> {
    list.iter()
        .map(|s| {
            s.parse::<UserId>()
                .map_err(|_| Error::bad_request(format!("ID \"{s}\" must be a valid user UUID.")))
        })
        .collect()
}
