//! Organizations, their members, and the members' org roles.
//!
//! INVARIANT(single-default-org): at most one organization has `is_default`; the partial unique
//! index `organizations_single_default` enforces it. At least one is kept by the store: the
//! default cannot be deleted, and [`set_default`] moves the flag in one transaction.

use sqlx::FromRow;

use crate::db::{Db, backend_of, on_conn};
use crate::dialect::{Locking, locking};
use crate::error::StoreError;
use crate::id::{OrgId, UserId};
use crate::time::DbTime;
use crate::users::dedup;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "organization" };
const MEMBER_NOT_FOUND: StoreError = StoreError::NotFound { entity: "organization member" };

/// The pseudo-constraint reported when deleting the default organization.
pub const DEFAULT_UNDELETABLE: &str = "organizations_default_undeletable";

/// An organization row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub is_default: bool,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// What [`insert`] writes.
#[derive(Clone, Debug)]
pub struct NewOrg<'a> {
    pub id: OrgId,
    pub name: &'a str,
    pub display_name: &'a str,
    pub description: &'a str,
    pub icon: &'a str,
    /// Inserting a second default is `Unique` on `organizations_single_default`.
    pub is_default: bool,
    pub created_at: DbTime,
}

/// The fields an update changes.
#[derive(Clone, Debug)]
pub struct OrgUpdate<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub description: &'a str,
    pub icon: &'a str,
}

/// A membership, with the member's org roles (besides the implicit `organization-member`).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Member {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    #[sqlx(skip)]
    pub roles: Vec<String>,
}

macro_rules! cols {
    () => {
        "id, name, display_name, description, icon, is_default, created_at, updated_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO organizations (id, name, display_name, description, icon, is_default, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM organizations WHERE id = $1");
const GET_BY_NAME: &str =
    concat!("SELECT ", cols!(), " FROM organizations WHERE lower(name) = lower($1)");
const GET_DEFAULT: &str = concat!("SELECT ", cols!(), " FROM organizations WHERE is_default");
const LIST: &str = concat!("SELECT ", cols!(), " FROM organizations ORDER BY lower(name)");
const LIST_FOR_USER: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM organizations WHERE id IN (SELECT org_id FROM organization_members WHERE user_id = $1) \
     ORDER BY lower(name)"
);
const UPDATE: &str = concat!(
    "UPDATE organizations SET name = $2, display_name = $3, description = $4, icon = $5, \
     updated_at = $6 WHERE id = $1 RETURNING ",
    cols!()
);
const CLEAR_DEFAULT: &str =
    "UPDATE organizations SET is_default = FALSE, updated_at = $2 WHERE is_default AND id <> $1";
const SET_DEFAULT: &str =
    "UPDATE organizations SET is_default = TRUE, updated_at = $2 WHERE id = $1";
const DELETE: &str = "DELETE FROM organizations WHERE id = $1 AND NOT is_default";
const IS_DEFAULT: &str = "SELECT is_default FROM organizations WHERE id = $1";
const LIVE_WORKSPACES: &str = "SELECT COUNT(*) FROM workspaces WHERE org_id = $1 AND NOT deleted";
const LIVE_TEMPLATES: &str = "SELECT COUNT(*) FROM templates WHERE org_id = $1 AND NOT deleted";
// What a deletable org still holds once its templates and workspaces are soft-deleted, in
// foreign-key order: the workspaces (their builds and ACL rows cascade), every template
// version (attached or not), the templates (their ACL rows cascade). Deleting the org row then
// cascades its jobs (and their logs), groups (and their members), members (and their roles) and
// custom roles. Grants to the org's groups (Everyone's id is the org id) on other objects are
// inert, and go too. Files are not org-scoped (shared by hash across orgs) and stay.
const PURGE: [&str; 5] = [
    "DELETE FROM template_acl_groups WHERE group_id = $1 \
     OR group_id IN (SELECT id FROM groups WHERE org_id = $1)",
    "DELETE FROM workspace_acl_groups WHERE group_id = $1 \
     OR group_id IN (SELECT id FROM groups WHERE org_id = $1)",
    "DELETE FROM workspaces WHERE org_id = $1",
    "DELETE FROM template_versions WHERE org_id = $1",
    "DELETE FROM templates WHERE org_id = $1",
];

const MEMBER_COLS_INSERT: &str = "INSERT INTO organization_members (org_id, user_id, created_at, \
     updated_at) VALUES ($1, $2, $3, $3) RETURNING org_id, user_id, created_at, updated_at";
const GET_MEMBER: &str = "SELECT org_id, user_id, created_at, updated_at \
     FROM organization_members WHERE org_id = $1 AND user_id = $2";
const LIST_MEMBERS: &str = "SELECT org_id, user_id, created_at, updated_at \
     FROM organization_members WHERE org_id = $1 ORDER BY created_at, user_id";
const LIST_MEMBER_ROLES_OF_ORG: &str = "SELECT user_id, role_name FROM organization_member_roles \
     WHERE org_id = $1 ORDER BY user_id, role_name";
const LIST_MEMBERSHIPS: &str = "SELECT org_id, user_id, created_at, updated_at \
     FROM organization_members WHERE user_id = $1 ORDER BY org_id";
const LIST_MEMBER_ROLES_OF_USER: &str = "SELECT org_id, role_name FROM organization_member_roles \
     WHERE user_id = $1 ORDER BY org_id, role_name";
const REMOVE_MEMBER: &str = "DELETE FROM organization_members WHERE org_id = $1 AND user_id = $2";
// Leaving an org also leaves its groups (Coder's trigger on organization_members), so coming
// back restores no group grant.
const REMOVE_MEMBER_GROUPS: &str = "DELETE FROM group_members WHERE user_id = $2 \
     AND group_id IN (SELECT id FROM groups WHERE org_id = $1)";
// Workspace sharing grants only go to members of the workspace's org; they end with the
// membership, so a grant cannot outlive the check made when it was given.
const REMOVE_MEMBER_WORKSPACE_GRANTS: &str = "DELETE FROM workspace_acl_users WHERE user_id = $2 \
     AND workspace_id IN (SELECT id FROM workspaces WHERE org_id = $1)";
const GET_MEMBER_ROLES: &str = "SELECT role_name FROM organization_member_roles \
     WHERE org_id = $1 AND user_id = $2 ORDER BY role_name";
// A membership locked against a racing removal (`FOR SHARE`: checks that only need the member
// to stay a member do not wait for each other) or, for a read-modify-write of its roles,
// against every other writer (`FOR UPDATE`, which [`set_member_roles`]'s update also takes).
// See dialect.rs item 5.
const LOCK_MEMBER: Locking = locking!(
    "SELECT user_id FROM organization_members WHERE org_id = $1 AND user_id = $2",
    "FOR SHARE"
);
const LOCK_MEMBER_FOR_UPDATE: Locking = locking!(
    "SELECT user_id FROM organization_members WHERE org_id = $1 AND user_id = $2",
    "FOR UPDATE"
);
const TOUCH_MEMBER: &str =
    "UPDATE organization_members SET updated_at = $3 WHERE org_id = $1 AND user_id = $2";
const DELETE_MEMBER_ROLES: &str =
    "DELETE FROM organization_member_roles WHERE org_id = $1 AND user_id = $2";
const INSERT_MEMBER_ROLE: &str =
    "INSERT INTO organization_member_roles (org_id, user_id, role_name) VALUES ($1, $2, $3)";

/// Inserts an organization. A name taken (ignoring case) is `Unique` on
/// `organizations_name_key`.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewOrg<'_>) -> Result<Organization, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(new.id)
        .bind(new.name)
        .bind(new.display_name)
        .bind(new.description)
        .bind(new.icon)
        .bind(new.is_default)
        .bind(new.created_at)
        .fetch_one(c)
        .await)?)
}

/// An organization by id.
pub async fn get(db: impl Into<Db<'_>>, id: OrgId) -> Result<Organization, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// An organization by name, ignoring case.
pub async fn get_by_name(db: impl Into<Db<'_>>, name: &str) -> Result<Organization, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_NAME).bind(name).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// The default organization.
pub async fn get_default(db: impl Into<Db<'_>>) -> Result<Organization, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_DEFAULT).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// Every organization, by name.
pub async fn list(db: impl Into<Db<'_>>) -> Result<Vec<Organization>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).fetch_all(c).await)?)
}

/// The organizations a user is a member of, by name.
pub async fn list_for_user(
    db: impl Into<Db<'_>>,
    user: UserId,
) -> Result<Vec<Organization>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_FOR_USER).bind(user).fetch_all(c).await)?)
}

/// Changes name, display name, description and icon.
pub async fn update(
    db: impl Into<Db<'_>>,
    id: OrgId,
    update: &OrgUpdate<'_>,
    now: DbTime,
) -> Result<Organization, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE)
        .bind(id)
        .bind(update.name)
        .bind(update.display_name)
        .bind(update.description)
        .bind(update.icon)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Makes `id` the default organization, in one transaction: the old default is cleared first,
/// so the single-default index never sees two.
pub async fn set_default(db: impl Into<Db<'_>>, id: OrgId, now: DbTime) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        sqlx::query(CLEAR_DEFAULT).bind(id).bind(now).execute(&mut *c).await?;
        let done = sqlx::query(SET_DEFAULT).bind(id).bind(now).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            // Dropping the transaction undoes the clear.
            return Err(NOT_FOUND);
        }
    });
    tx.commit().await
}

/// Why [`delete`] refused an organization that still has live workspaces or templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StillProvisioned {
    pub workspaces: i64,
    pub templates: i64,
}

impl StillProvisioned {
    /// Coder's detail: `This organization has 1 workspace, 2 templates that must be deleted
    /// first.` (only the non-zero counts).
    pub fn message(&self) -> String {
        let part = |count: i64, what: &str| match count {
            0 => None,
            1 => Some(format!("1 {what}")),
            n => Some(format!("{n} {what}s")),
        };
        let parts: Vec<String> =
            [part(self.workspaces, "workspace"), part(self.templates, "template")]
                .into_iter()
                .flatten()
                .collect();
        format!("This organization has {} that must be deleted first.", parts.join(", "))
    }
}

/// What [`delete`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    Done,
    /// Nothing was deleted: live workspaces or templates remain.
    StillProvisioned(StillProvisioned),
}

/// Deletes an organization with everything it owns, in one transaction: members, roles,
/// groups, custom roles, and what its soft-deleted workspaces and templates left (builds,
/// versions, jobs, logs, ACL rows). The default organization is refused (`Check` on
/// [`DEFAULT_UNDELETABLE`]); one with live (not soft-deleted) workspaces or templates is left
/// untouched ([`Deleted::StillProvisioned`]).
pub async fn delete(db: impl Into<Db<'_>>, id: OrgId) -> Result<Deleted, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let is_default: Option<bool> =
            sqlx::query_scalar(IS_DEFAULT).bind(id).fetch_optional(&mut *c).await?;
        match is_default {
            None => return Err(NOT_FOUND),
            Some(true) => {
                return Err(StoreError::Check { constraint: DEFAULT_UNDELETABLE.to_owned() });
            }
            Some(false) => {}
        }
        let workspaces: i64 =
            sqlx::query_scalar(LIVE_WORKSPACES).bind(id).fetch_one(&mut *c).await?;
        let templates: i64 = sqlx::query_scalar(LIVE_TEMPLATES).bind(id).fetch_one(&mut *c).await?;
        if workspaces + templates > 0 {
            return Ok(Deleted::StillProvisioned(StillProvisioned { workspaces, templates }));
        }
        for sql in PURGE {
            sqlx::query(sql).bind(id).execute(&mut *c).await?;
        }
        let done = sqlx::query(DELETE).bind(id).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(NOT_FOUND);
        }
    });
    tx.commit().await?;
    Ok(Deleted::Done)
}

/// Adds a member. Already a member: `Unique` on `organization_members_pkey`.
pub async fn add_member(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
    now: DbTime,
) -> Result<Member, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(MEMBER_COLS_INSERT)
        .bind(org)
        .bind(user)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// One membership, with its roles.
pub async fn get_member(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
) -> Result<Member, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let member: Option<Member> =
            sqlx::query_as(GET_MEMBER).bind(org).bind(user).fetch_optional(&mut *c).await?;
        let mut member = member.ok_or(MEMBER_NOT_FOUND)?;
        member.roles =
            sqlx::query_scalar(GET_MEMBER_ROLES).bind(org).bind(user).fetch_all(&mut *c).await?;
        Ok(member)
    })
}

/// Locks a membership (`FOR SHARE` on PostgreSQL) until the caller's transaction ends, so a
/// write that depends on the user being a member commits before a racing removal, or finds
/// the membership gone: `NotFound` when the user is not a member. Concurrent lockers do not
/// wait for each other. Call it inside the write transaction.
pub async fn lock_member(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
) -> Result<(), StoreError> {
    lock_member_with(db, org, user, &LOCK_MEMBER).await
}

/// Locks a membership for a read-modify-write of it or its roles (`FOR UPDATE` on
/// PostgreSQL) until the caller's transaction ends: a second such writer, and a removal,
/// wait for it, then read what it wrote. `NotFound` when the user is not a member. Call it
/// inside the write transaction, before reading what it changes.
pub async fn lock_member_for_update(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
) -> Result<(), StoreError> {
    lock_member_with(db, org, user, &LOCK_MEMBER_FOR_UPDATE).await
}

async fn lock_member_with(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
    lock: &Locking,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let found: Option<UserId> = on_conn!(conn, |c| sqlx::query_scalar(lock.sql(backend_of(&*c)))
        .bind(org)
        .bind(user)
        .fetch_optional(c)
        .await)?;
    found.map(|_| ()).ok_or(MEMBER_NOT_FOUND)
}

/// An org's members, oldest first, with their roles.
pub async fn list_members(db: impl Into<Db<'_>>, org: OrgId) -> Result<Vec<Member>, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut members: Vec<Member> =
            sqlx::query_as(LIST_MEMBERS).bind(org).fetch_all(&mut *c).await?;
        let roles: Vec<(UserId, String)> =
            sqlx::query_as(LIST_MEMBER_ROLES_OF_ORG).bind(org).fetch_all(&mut *c).await?;
        for (user, role) in roles {
            if let Some(m) = members.iter_mut().find(|m| m.user_id == user) {
                m.roles.push(role);
            }
        }
        Ok(members)
    })
}

/// Every membership of a user, with its roles: what an engine `Subject` is built from.
pub async fn list_memberships(
    db: impl Into<Db<'_>>,
    user: UserId,
) -> Result<Vec<Member>, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut members: Vec<Member> =
            sqlx::query_as(LIST_MEMBERSHIPS).bind(user).fetch_all(&mut *c).await?;
        let roles: Vec<(OrgId, String)> =
            sqlx::query_as(LIST_MEMBER_ROLES_OF_USER).bind(user).fetch_all(&mut *c).await?;
        for (org, role) in roles {
            if let Some(m) = members.iter_mut().find(|m| m.org_id == org) {
                m.roles.push(role);
            }
        }
        Ok(members)
    })
}

/// Removes a member, in one transaction: its org roles go with it, and so do its memberships
/// of the org's groups and the sharing grants it holds on the org's workspaces.
pub async fn remove_member(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let done = sqlx::query(REMOVE_MEMBER).bind(org).bind(user).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(MEMBER_NOT_FOUND);
        }
        sqlx::query(REMOVE_MEMBER_GROUPS).bind(org).bind(user).execute(&mut *c).await?;
        sqlx::query(REMOVE_MEMBER_WORKSPACE_GRANTS).bind(org).bind(user).execute(&mut *c).await?;
    });
    tx.commit().await
}

/// A member's org roles, sorted.
pub async fn get_member_roles(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
) -> Result<Vec<String>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(GET_MEMBER_ROLES)
        .bind(org)
        .bind(user)
        .fetch_all(c)
        .await)?)
}

/// Replaces a member's org roles, in one transaction.
pub async fn set_member_roles(
    db: impl Into<Db<'_>>,
    org: OrgId,
    user: UserId,
    roles: &[&str],
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let done =
            sqlx::query(TOUCH_MEMBER).bind(org).bind(user).bind(now).execute(&mut *c).await?;
        if done.rows_affected() == 0 {
            return Err(MEMBER_NOT_FOUND);
        }
        sqlx::query(DELETE_MEMBER_ROLES).bind(org).bind(user).execute(&mut *c).await?;
        for role in dedup(roles) {
            sqlx::query(INSERT_MEMBER_ROLE)
                .bind(org)
                .bind(user)
                .bind(role)
                .execute(&mut *c)
                .await?;
        }
    });
    tx.commit().await
}

/// An organization by id or, when `key` is not a uuid, by name (how `{organization}` and the
/// `organization:` search key name one).
pub async fn get_by_id_or_name(
    db: impl Into<Db<'_>>,
    key: &str,
) -> Result<Organization, StoreError> {
    match key.parse::<OrgId>() {
        Ok(id) => get(db, id).await,
        Err(_) => get_by_name(db, key).await,
    }
}

/// The organizations with these ids, in one statement.
pub async fn get_many(
    db: impl Into<Db<'_>>,
    ids: &[OrgId],
) -> Result<Vec<Organization>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let select = concat!("SELECT ", cols!(), " FROM organizations");
    crate::batch::by_ids(db.into(), select, "id", ids, "").await
}

/// The organizations each of these users belongs to, as (user, org) pairs in one statement.
pub async fn org_ids_of(
    db: impl Into<Db<'_>>,
    users: &[UserId],
) -> Result<Vec<(UserId, OrgId)>, StoreError> {
    let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
    let select = "SELECT user_id, org_id FROM organization_members";
    crate::batch::by_ids(db.into(), select, "user_id", ids, "ORDER BY user_id, org_id").await
}

/// The members of each of these organizations, as (org, user) pairs in one statement.
pub async fn member_ids_of(
    db: impl Into<Db<'_>>,
    orgs: &[OrgId],
) -> Result<Vec<(OrgId, UserId)>, StoreError> {
    let ids: Vec<String> = orgs.iter().map(ToString::to_string).collect();
    let select = "SELECT org_id, user_id FROM organization_members";
    let tail = "ORDER BY org_id, created_at, user_id";
    crate::batch::by_ids(db.into(), select, "org_id", ids, tail).await
}

/// The org roles in `org` of each of these users, as (user, role) pairs in one statement.
pub async fn member_roles_in(
    db: impl Into<Db<'_>>,
    org: OrgId,
    users: &[UserId],
) -> Result<Vec<(UserId, String)>, StoreError> {
    let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
    let select = "SELECT user_id, role_name FROM organization_member_roles";
    let eq = Some(("org_id", org.to_string()));
    let tail = "ORDER BY user_id, role_name";
    crate::batch::by_ids_where(db.into(), select, eq, "user_id", ids, tail).await
}
