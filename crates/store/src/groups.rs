//! Groups and their members. An org's Everyone group is implicit: it has no row, its id is the
//! org id ([`GroupId::everyone`]), and every org member belongs to it.

use sqlx::FromRow;

use crate::db::{Db, backend_of, on_conn};
use crate::dialect::{Locking, locking};
use crate::error::StoreError;
use crate::id::{GroupId, OrgId, UserId};
use crate::time::DbTime;
use crate::value::GroupSource;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "group" };
const MEMBER_NOT_FOUND: StoreError = StoreError::NotFound { entity: "group member" };
/// [`add_member`]'s refusal: the user is not (or no longer) a member of the group's org.
pub const NOT_AN_ORG_MEMBER: StoreError = StoreError::NotFound { entity: "organization member" };

/// The user's membership of the group's org, locked (`FOR SHARE`) on PostgreSQL so that an
/// org-member removal racing the insert either waits for it (and then deletes the new group
/// row with the others) or commits first (and this finds no membership). SQLite's write
/// transactions are already serialized.
const LOCK_ORG_MEMBERSHIP: Locking = locking!(
    "SELECT m.user_id FROM organization_members m \
     JOIN groups g ON g.org_id = m.org_id \
     WHERE g.id = $1 AND m.user_id = $2",
    "FOR SHARE OF m"
);

/// A group row, locked (`FOR UPDATE` on PostgreSQL) for a read-modify-write of the group or
/// its members.
const LOCK_GROUP: Locking = locking!("SELECT id FROM groups WHERE id = $1", "FOR UPDATE");

/// A group row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: String,
    pub display_name: String,
    pub avatar_url: String,
    pub quota_allowance: i32,
    pub source: GroupSource,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// What [`insert`] writes.
#[derive(Clone, Debug)]
pub struct NewGroup<'a> {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: &'a str,
    pub display_name: &'a str,
    pub avatar_url: &'a str,
    pub quota_allowance: i32,
    pub source: GroupSource,
    pub created_at: DbTime,
}

/// The fields an update changes.
#[derive(Clone, Debug)]
pub struct GroupUpdate<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub avatar_url: &'a str,
    pub quota_allowance: i32,
}

macro_rules! cols {
    () => {
        "id, org_id, name, display_name, avatar_url, quota_allowance, source, created_at, \
         updated_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO groups (id, org_id, name, display_name, avatar_url, quota_allowance, source, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM groups WHERE id = $1");
const GET_BY_NAME: &str =
    concat!("SELECT ", cols!(), " FROM groups WHERE org_id = $1 AND name = $2");
const LIST: &str = concat!("SELECT ", cols!(), " FROM groups WHERE org_id = $1 ORDER BY name");
const LIST_FOR_USER: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = $1) \
     ORDER BY org_id, name"
);
const UPDATE: &str = concat!(
    "UPDATE groups SET name = $2, display_name = $3, avatar_url = $4, quota_allowance = $5, \
     updated_at = $6 WHERE id = $1 RETURNING ",
    cols!()
);
const DELETE: &str = "DELETE FROM groups WHERE id = $1";
// Group ACL rows have no foreign key (the Everyone group is not a row), so a deleted group's
// grants are removed here, in the same transaction.
const DELETE_TEMPLATE_GRANTS: &str = "DELETE FROM template_acl_groups WHERE group_id = $1";
const DELETE_WORKSPACE_GRANTS: &str = "DELETE FROM workspace_acl_groups WHERE group_id = $1";
const ADD_MEMBER: &str = "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) \
     ON CONFLICT (group_id, user_id) DO NOTHING";
const REMOVE_MEMBER: &str = "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
const LIST_MEMBERS: &str = "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id";
const GROUP_IDS_OF_USER: &str =
    "SELECT group_id FROM group_members WHERE user_id = $1 ORDER BY group_id";

/// Inserts a group. A name taken in the org is `Unique` on `groups_org_id_name_key`.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewGroup<'_>) -> Result<Group, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(new.id)
        .bind(new.org_id)
        .bind(new.name)
        .bind(new.display_name)
        .bind(new.avatar_url)
        .bind(new.quota_allowance)
        .bind(new.source)
        .bind(new.created_at)
        .fetch_one(c)
        .await)?)
}

/// A group by id.
pub async fn get(db: impl Into<Db<'_>>, id: GroupId) -> Result<Group, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// The stored groups with these ids, in one statement.
pub async fn get_many(db: impl Into<Db<'_>>, ids: &[GroupId]) -> Result<Vec<Group>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    crate::batch::by_ids(db.into(), concat!("SELECT ", cols!(), " FROM groups"), "id", ids, "")
        .await
}

/// A group by org and exact name.
pub async fn get_by_name(
    db: impl Into<Db<'_>>,
    org: OrgId,
    name: &str,
) -> Result<Group, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_NAME).bind(org).bind(name).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// Locks a stored group (`FOR UPDATE` on PostgreSQL) until the caller's transaction ends, so
/// read-modify-writes of the group and its member list run one after the other, each reading
/// what the previous one committed; `NotFound` when the group is gone. (SQLite's write
/// transactions are serialized already.) Call it inside the write transaction, before reading.
pub async fn lock_group(db: impl Into<Db<'_>>, id: GroupId) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let found: Option<GroupId> =
        on_conn!(conn, |c| sqlx::query_scalar(LOCK_GROUP.sql(backend_of(&*c)))
            .bind(id)
            .fetch_optional(c)
            .await)?;
    found.map(|_| ()).ok_or(NOT_FOUND)
}

/// An org's stored groups, by name.
pub async fn list(db: impl Into<Db<'_>>, org: OrgId) -> Result<Vec<Group>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).bind(org).fetch_all(c).await)?)
}

/// The stored groups a user is in, across orgs.
pub async fn list_for_user(db: impl Into<Db<'_>>, user: UserId) -> Result<Vec<Group>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_FOR_USER).bind(user).fetch_all(c).await)?)
}

/// Changes name, display name, avatar and quota.
pub async fn update(
    db: impl Into<Db<'_>>,
    id: GroupId,
    update: &GroupUpdate<'_>,
    now: DbTime,
) -> Result<Group, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE)
        .bind(id)
        .bind(update.name)
        .bind(update.display_name)
        .bind(update.avatar_url)
        .bind(update.quota_allowance)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Deletes a group with its memberships and ACL grants, in one transaction.
pub async fn delete(db: impl Into<Db<'_>>, id: GroupId) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let done = sqlx::query(DELETE).bind(id).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(NOT_FOUND);
        }
        for sql in [DELETE_TEMPLATE_GRANTS, DELETE_WORKSPACE_GRANTS] {
            sqlx::query(sql).bind(id).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

/// Adds a member; adding one already there does nothing. Refused with
/// [`NOT_AN_ORG_MEMBER`] unless the user belongs to the group's org, checked under a lock on
/// that membership (call it inside the write transaction), so a group never keeps a member
/// whose org membership ended.
pub async fn add_member(
    db: impl Into<Db<'_>>,
    group: GroupId,
    user: UserId,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let member: Option<UserId> = sqlx::query_scalar(LOCK_ORG_MEMBERSHIP.sql(backend_of(&*c)))
            .bind(group)
            .bind(user)
            .fetch_optional(&mut *c)
            .await?;
        member.ok_or(NOT_AN_ORG_MEMBER)?;
        sqlx::query(ADD_MEMBER).bind(group).bind(user).execute(&mut *c).await?;
    });
    Ok(())
}

/// Removes a member.
pub async fn remove_member(
    db: impl Into<Db<'_>>,
    group: GroupId,
    user: UserId,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(REMOVE_MEMBER)
        .bind(group)
        .bind(user)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(MEMBER_NOT_FOUND) } else { Ok(()) }
}

/// A group's members.
pub async fn list_members(
    db: impl Into<Db<'_>>,
    group: GroupId,
) -> Result<Vec<UserId>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(LIST_MEMBERS).bind(group).fetch_all(c).await)?)
}

/// The ids of the stored groups a user is in (not the implicit Everyone groups): what an engine
/// `Subject` carries.
pub async fn group_ids_of_user(
    db: impl Into<Db<'_>>,
    user: UserId,
) -> Result<Vec<GroupId>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(GROUP_IDS_OF_USER).bind(user).fetch_all(c).await)?)
}

/// The members of each of these groups, as (group, user) pairs in one statement.
pub async fn member_ids_of(
    db: impl Into<Db<'_>>,
    groups: &[GroupId],
) -> Result<Vec<(GroupId, UserId)>, StoreError> {
    let ids: Vec<String> = groups.iter().map(ToString::to_string).collect();
    let select = "SELECT group_id, user_id FROM group_members";
    crate::batch::by_ids(db.into(), select, "group_id", ids, "ORDER BY group_id, user_id").await
}
