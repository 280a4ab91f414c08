//! Groups (coder-api.md §1.5). Each org has an implicit Everyone group whose id is the org id:
//! it holds every member, and cannot be renamed, edited or deleted.

use std::collections::HashMap;

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::orgs::resolve_org;
use crate::validate;
use crate::{Caller, Domain, Error, Result};
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateGroupRequest, Group, PatchGroupRequest, ReducedUser};
use atrium_engine::group;
use atrium_engine::name::validate_name;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::error::Optional;
use atrium_store::lists;
use atrium_store::{DbTime, GroupId, GroupSource, OrgId, StoreError, UserId, groups, orgs, users};
use serde_json::json;

/// The name of every org's implicit group of all its members.
pub const EVERYONE: &str = "Everyone";

/// The org's groups the caller may read, Everyone first (the org is 404 when unreadable).
pub async fn list_in_org(d: &Domain, caller: &Caller, org: &str) -> Result<Vec<Group>> {
    let org = resolve_org(d, caller, org).await?;
    let groups = readable_groups(d, caller, org).await?;
    api_groups(d, caller, &groups).await
}

/// Groups across the orgs the caller may read (or in `organization`, an id or name), those
/// holding `has_member` (an id or username) when given. An org or user the caller may not
/// read is answered like a missing one: Coder's 400 on the query parameter.
pub async fn list(
    d: &Domain,
    caller: &Caller,
    organization: Option<&str>,
    has_member: Option<&str>,
) -> Result<Vec<Group>> {
    let invalid = |field: &str, detail: String| {
        Error::bad_request("Query parameters have invalid values.").validation(field, detail)
    };
    let orgs_to_list = match organization {
        Some(o) => vec![resolve_org(d, caller, o).await.map_err(|_| {
            invalid(
                "organization",
                format!(
                    "Query param \"organization\" has invalid value: organization \"{o}\" not found"
                ),
            )
        })?],
        None => {
            let filter = caller.subject().list_filter_for(Action::Read);
            lists::organizations(d.store(), &filter).await?
        }
    };
    let member = match has_member {
        None => None,
        Some(m) => {
            // A user the caller may not read is answered like a missing one.
            let found = users::get_by_id_or_username(d.store(), m)
                .await
                .optional()?
                .filter(|u| !u.deleted && caller.can(Action::Read, &Caller::user_object(u.id)));
            let missing = || {
                invalid(
                    "has_member",
                    format!("Query param \"has_member\" has invalid value: user \"{m}\" not found"),
                )
            };
            Some(found.ok_or_else(missing)?.id)
        }
    };
    let mut found = Vec::new();
    for org in orgs_to_list {
        found.extend(readable_groups(d, caller, org).await?);
    }
    if let Some(user) = member {
        let items: Vec<GroupRef<'_>> =
            found.iter().map(|g| (&g.org, g.id, g.row.as_ref())).collect();
        let lists = members_of(d, &items).await?;
        let keep: Vec<bool> = lists.iter().map(|ids| ids.contains(&user)).collect();
        let mut keep = keep.into_iter();
        found.retain(|_| keep.next().unwrap_or(false));
    }
    api_groups(d, caller, &found).await
}

/// A group by org and name (`Everyone` is the org's Everyone group); one the caller may not
/// read is not found.
pub async fn get_by_name(d: &Domain, caller: &Caller, org: &str, name: &str) -> Result<Group> {
    let org = resolve_org(d, caller, org).await?;
    let id = if name == EVERYONE {
        GroupId::everyone(org.id)
    } else {
        groups::get_by_name(d.store(), org.id, name).await?.id
    };
    let g = resolve_group(d, caller, &id.to_string()).await?;
    api_group(d, caller, &g).await
}

/// A group by id (the org id names its Everyone group); one the caller may not read is not
/// found.
pub async fn get(d: &Domain, caller: &Caller, group: &str) -> Result<Group> {
    let g = resolve_group(d, caller, group).await?;
    api_group(d, caller, &g).await
}

/// Creates a group in the org (requires `create` on groups there). A name taken in the org is
/// Coder's 409 (decided by the unique constraint inside the transaction).
pub async fn create(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &CreateGroupRequest,
) -> Result<Group> {
    let mut entry = Entry::new("create", "group").by(caller);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        caller.require(Action::Create, &Object::of(ResourceType::Group).in_org(org.id.uuid()))?;
        check_group_name(&req.name)?;
        validate::display_name("display_name", &req.display_name)?;
        validate::icon_url("avatar_url", &req.avatar_url)?;
        let quota = quota(req.quota_allowance)?;
        let mut tx = d.store().begin().await?;
        let row = groups::insert(
            &mut tx,
            &groups::NewGroup {
                id: GroupId::new_v4(),
                org_id: org.id,
                name: &req.name,
                display_name: &req.display_name,
                avatar_url: &req.avatar_url,
                quota_allowance: quota,
                source: GroupSource::User,
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { constraint } if constraint == NAME_KEY => {
                Error::conflict(format!("A group named \"{}\" already exists.", req.name))
                    .validation("name", "Group names must be unique")
            }
            // The org went away since it was read.
            e if e.is_foreign_key_conflict() => Error::not_found(),
            e => e.into(),
        })?;
        entry.resource(row.id.uuid(), row.name.clone());
        entry.changed(&json!({}), &json!({"name": row.name, "display_name": row.display_name}));
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        let g = Resolved { id: row.id, org, row: Some(row) };
        api_group(d, caller, &g).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Renames or edits a group, and adds and removes members (user ids; they must be members of
/// the group's org). Requires `update` on the group. The Everyone group cannot be renamed,
/// edited or have members added or removed. Membership is read and changed inside one
/// transaction, under a lock on the group.
pub async fn patch(
    d: &Domain,
    caller: &Caller,
    group: &str,
    req: &PatchGroupRequest,
) -> Result<Group> {
    let mut entry = Entry::new("write", "group").by(caller);
    let result = async {
        let g = resolve_group(d, caller, group).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| caller.can(Action::Update, o)) {
            return Err(Error::forbidden());
        }
        let Some(row) = &g.row else {
            if !req.add_users.is_empty() || !req.remove_users.is_empty() {
                return Err(Error::forbidden_with(
                    "Cannot add or remove users from the \"Everyone\" group!",
                ));
            }
            if !req.name.is_empty() && req.name != EVERYONE {
                return Err(Error::bad_request("Cannot rename the \"Everyone\" group!"));
            }
            if req.display_name.as_deref().is_some_and(|d| !d.is_empty()) {
                return Err(Error::bad_request(
                    "Cannot update the Display Name for the \"Everyone\" group!",
                ));
            }
            return api_group(d, caller, &g).await;
        };
        if req.name == EVERYONE {
            return Err(Error::bad_request("\"Everyone\" is a reserved group name!"));
        }
        validate::display_name("display_name", req.display_name.as_deref().unwrap_or_default())?;
        validate::icon_url("avatar_url", req.avatar_url.as_deref().unwrap_or_default())?;
        if !req.name.is_empty() && req.name != row.name {
            check_group_name(&req.name)?;
        }
        let add = parse_user_ids(&req.add_users)?;
        let remove = parse_user_ids(&req.remove_users)?;
        let not_an_org_member = || {
            Error::bad_request(format!("User must be a member of organization \"{}\"", g.org.name))
        };
        let not_a_group_member =
            || Error::bad_request("Failed to add or remove non-existent group member");
        let mut tx = d.store().begin().await?;
        // The group stays locked until this edit commits, so parallel edits read each other's
        // members (a group deleted meanwhile is not found).
        groups::lock_group(&mut tx, row.id).await?;
        let current = groups::list_members(&mut tx, row.id).await?;
        for (i, user) in add.iter().enumerate() {
            if current.contains(user) || add[..i].contains(user) {
                return Err(Error::bad_request("Cannot add the same user to a group twice!"));
            }
            // Locked until commit: a removal from the org racing this edit waits for it (and
            // then takes the new group row with it) or is seen here.
            match orgs::lock_member(&mut tx, g.org.id, *user).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => return Err(not_an_org_member()),
                Err(e) => return Err(e.into()),
            }
        }
        if remove.iter().any(|u| !current.contains(u)) {
            return Err(not_a_group_member());
        }
        let touched: Vec<UserId> = add.iter().chain(&remove).copied().collect();
        crate::idp_sync::refuse_manual_group_edit(&d.config.oidc, &mut tx, &g.org, row, &touched).await?;
        let quota = match req.quota_allowance {
            Some(q) => quota(q)?,
            None => row.quota_allowance,
        };
        let name = if req.name.is_empty() { row.name.clone() } else { req.name.clone() };
        let update = groups::GroupUpdate {
            name: &name,
            display_name: req.display_name.as_deref().unwrap_or(&row.display_name),
            avatar_url: req.avatar_url.as_deref().unwrap_or(&row.avatar_url),
            quota_allowance: quota,
        };
        let updated =
            groups::update(&mut tx, row.id, &update, DbTime::now()).await.map_err(|e| match e {
                StoreError::Unique { constraint } if constraint == NAME_KEY => {
                    Error::conflict(format!("A group with name \"{name}\" already exists."))
                }
                e => e.into(),
            })?;
        // Org membership is decided again under a lock: a removal from the org racing this
        // update must not leave the user in the group.
        for user in &add {
            groups::add_member(&mut tx, row.id, *user).await.map_err(|e| match e {
                StoreError::NotFound { entity: "organization member" } => not_an_org_member(),
                e => e.into(),
            })?;
        }
        for user in &remove {
            groups::remove_member(&mut tx, row.id, *user).await.map_err(|e| match e {
                // Removed by a concurrent request since `current` was read.
                StoreError::NotFound { .. } => not_a_group_member(),
                e => e.into(),
            })?;
        }
        entry.changed(
            &json!({"name": row.name, "display_name": row.display_name, "members": current}),
            &json!({"name": updated.name, "display_name": updated.display_name,
                    "members": current.iter().chain(&add).filter(|u| !remove.contains(u)).collect::<Vec<_>>()}),
        );
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        let g = Resolved { id: updated.id, org: g.org.clone(), row: Some(updated) };
        api_group(d, caller, &g).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Deletes a group (requires `delete` on it), with its memberships and ACL grants; never the
/// Everyone group.
pub async fn delete(d: &Domain, caller: &Caller, group: &str) -> Result<Message> {
    let mut entry = Entry::new("delete", "group").by(caller);
    let result = async {
        let g = resolve_group(d, caller, group).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| caller.can(Action::Delete, o)) {
            return Err(Error::forbidden());
        }
        if g.is_everyone() {
            return Err(Error::bad_request(
                "\"Everyone\" is a reserved group and cannot be deleted!",
            ));
        }
        let mut tx = d.store().begin().await?;
        groups::delete(&mut tx, g.id).await?;
        entry.changed(&json!({"name": g.name()}), &json!({}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(Message::message("Successfully deleted group!"))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The unique constraint on a group's name in its org.
const NAME_KEY: &str = "groups_org_id_name_key";

/// A requested quota allowance, in range of the stored column.
fn quota(q: i64) -> Result<i32> {
    i32::try_from(q).map_err(|_| {
        Error::bad_request("Validation failed.").validation("quota_allowance", "out of range")
    })
}

/// The engine's group object ([`atrium_engine::group::with_group_object`]: members of a group
/// may read it, every org member the Everyone group), for typed ids.
pub fn with_group_object<T>(group: GroupId, org: OrgId, f: impl FnOnce(&Object<'_>) -> T) -> T {
    group::with_group_object(group.uuid(), org.uuid(), f)
}

/// A group (stored, or the synthesized Everyone group).
struct Resolved {
    id: GroupId,
    org: orgs::Organization,
    row: Option<groups::Group>,
}

impl Resolved {
    fn is_everyone(&self) -> bool {
        self.row.is_none()
    }
    fn name(&self) -> &str {
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

/// The engine's group-membership object ([`atrium_engine::group::group_member_object`]), for
/// typed ids.
pub fn group_member_object(org: OrgId, user: UserId) -> Object<'static> {
    group::group_member_object(org.uuid(), user.uuid())
}

/// The wire group (a stored one, or the org's Everyone group when `row` is `None`) as `actor`
/// may see it. As Coder's dbauthz: `members` is post-filtered by `read` on each membership (a
/// member of a group sees the group, not who else is in it, unless allowed), while
/// `total_member_count` counts every live member.
pub async fn api_group_for(
    state: &Domain,
    actor: &Caller,
    org: &orgs::Organization,
    id: GroupId,
    row: Option<&groups::Group>,
) -> Result<Group> {
    let mut one = api_groups_for(state, actor, &[(org, id, row)]).await?;
    one.pop().ok_or_else(|| Error::internal("a group view went missing"))
}

/// A group to show: its org, its id, and its stored row (`None` for an Everyone group).
pub type GroupRef<'a> = (&'a orgs::Organization, GroupId, Option<&'a groups::Group>);

/// [`api_group_for`] for many groups: three statements whatever their number.
pub async fn api_groups_for(
    state: &Domain,
    actor: &Caller,
    items: &[GroupRef<'_>],
) -> Result<Vec<Group>> {
    let member_lists = members_of(state, items).await?;
    let all: Vec<UserId> = member_lists.iter().flatten().copied().collect();
    let live: HashMap<UserId, users::User> = users::get_many(state.store(), &all)
        .await?
        .into_iter()
        .filter(|u| !u.deleted)
        .map(|u| (u.id, u))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for ((org, id, row), ids) in items.iter().zip(member_lists) {
        let mut members = Vec::new();
        let mut total: i64 = 0;
        for u in ids.iter().filter_map(|id| live.get(id)) {
            total += 1;
            if actor.can(Action::Read, &group_member_object(org.id, u.id)) {
                members.push(reduced(u));
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
        out.push(Group {
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
        });
    }
    Ok(out)
}

/// Each group's member ids, in `items`' order: stored groups from their member table, Everyone
/// groups from their org's members (two statements).
async fn members_of(state: &Domain, items: &[GroupRef<'_>]) -> Result<Vec<Vec<UserId>>> {
    let stored: Vec<GroupId> = items.iter().filter_map(|(_, _, row)| row.map(|r| r.id)).collect();
    let mut of_group: HashMap<GroupId, Vec<UserId>> = HashMap::new();
    for (group, user) in groups::member_ids_of(state.store(), &stored).await? {
        of_group.entry(group).or_default().push(user);
    }
    let everyone: Vec<OrgId> =
        items.iter().filter(|(_, _, row)| row.is_none()).map(|(org, _, _)| org.id).collect();
    let mut of_org: HashMap<OrgId, Vec<UserId>> = HashMap::new();
    for (org, user) in orgs::member_ids_of(state.store(), &everyone).await? {
        of_org.entry(org).or_default().push(user);
    }
    Ok(items
        .iter()
        .map(|(org, _, row)| match row {
            Some(r) => of_group.get(&r.id).cloned().unwrap_or_default(),
            None => of_org.get(&org.id).cloned().unwrap_or_default(),
        })
        .collect())
}

async fn api_group(state: &Domain, actor: &Caller, g: &Resolved) -> Result<Group> {
    api_group_for(state, actor, &g.org, g.id, g.row.as_ref()).await
}

async fn api_groups(state: &Domain, actor: &Caller, gs: &[Resolved]) -> Result<Vec<Group>> {
    let items: Vec<GroupRef<'_>> = gs.iter().map(|g| (&g.org, g.id, g.row.as_ref())).collect();
    api_groups_for(state, actor, &items).await
}

/// Loads a group by id (the org id means its Everyone group) with a read check → 404.
async fn resolve_group(state: &Domain, actor: &Caller, param: &str) -> Result<Resolved> {
    let Ok(id) = param.parse::<GroupId>() else { return Err(Error::not_found()) };
    let resolved = match groups::get(state.store(), id).await {
        Ok(row) => {
            Resolved { id, org: orgs::get(state.store(), row.org_id).await?, row: Some(row) }
        }
        Err(StoreError::NotFound { .. }) => {
            match orgs::get(state.store(), OrgId(id.uuid())).await {
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

async fn readable_groups(
    state: &Domain,
    actor: &Caller,
    org: orgs::Organization,
) -> Result<Vec<Resolved>> {
    let mut out = Vec::new();
    let everyone = GroupId::everyone(org.id);
    if with_group_object(everyone, org.id, |o| actor.can(Action::Read, o)) {
        out.push(Resolved { id: everyone, org: org.clone(), row: None });
    }
    let filter = actor.subject().list_filter_for(Action::Read);
    for row in lists::groups(state.store(), org.id, &filter).await? {
        out.push(Resolved { id: row.id, org: org.clone(), row: Some(row) });
    }
    Ok(out)
}

fn check_group_name(name: &str) -> Result<()> {
    if name == EVERYONE {
        return Err(Error::bad_request("Invalid group name.")
            .validation("name", "\"Everyone\" is a reserved group name"));
    }
    if name.is_empty() {
        return Err(Error::required("name"));
    }
    validate_name(name).map_err(|_| Error::tag_failed("name", "group_name", name))
}

fn parse_user_ids(list: &[String]) -> Result<Vec<UserId>> {
    list.iter()
        .map(|s| {
            s.parse::<UserId>()
                .map_err(|_| Error::bad_request(format!("ID \"{s}\" must be a valid user UUID.")))
        })
        .collect()
}
