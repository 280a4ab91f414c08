//! Workspaces, their ACLs (Coder's workspace sharing) and their builds.

use sqlx::FromRow;

use crate::acl::{self, AclSql, acl_sql};
use crate::db::{Db, backend_of, on_conn};
use crate::dialect::{Locking, locking};
use crate::error::StoreError;
use crate::id::{
    JobId, OrgId, TemplateId, TemplateVersionId, UserId, WorkspaceBuildId, WorkspaceId,
};
use crate::time::DbTime;
use crate::value::{Acl, BuildReason, BuildTransition};

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "workspace" };
const BUILD_NOT_FOUND: StoreError = StoreError::NotFound { entity: "workspace build" };
const OWNER_NOT_FOUND: StoreError = StoreError::NotFound { entity: "user" };
const TEMPLATE_NOT_FOUND: StoreError = StoreError::NotFound { entity: "template" };

/// The `Unique` violation a build gets while the workspace's latest build is still active
/// (pending, running or canceling): one active build per workspace. Enforced by [`lock_idle`], not by
/// the schema (a job's status lives on another table).
pub const ACTIVE_BUILD: &str = "workspace_builds_one_active";
/// The `ForeignKey` violation deleting a user gets while they own a live workspace (the live rows'
/// `owner_id` still needs the user), from [`crate::users::soft_delete`].
pub const OWNER_HAS_WORKSPACES: &str = "workspaces_owner_id_fkey";
/// The `ForeignKey` violation deleting a template gets while a live workspace uses it, from
/// [`crate::templates::soft_delete`].
pub const TEMPLATE_HAS_WORKSPACES: &str = "workspaces_template_id_fkey";

/// A workspace row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub owner_id: UserId,
    pub org_id: OrgId,
    pub template_id: TemplateId,
    pub name: String,
    pub deleted: bool,
    pub dormant_at: Option<DbTime>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub last_used_at: DbTime,
}

/// What [`insert`] writes; `created_at` is also the first `updated_at` and `last_used_at`.
#[derive(Clone, Debug)]
pub struct NewWorkspace<'a> {
    pub id: WorkspaceId,
    pub owner_id: UserId,
    pub org_id: OrgId,
    pub template_id: TemplateId,
    pub name: &'a str,
    pub created_at: DbTime,
}

/// A workspace build row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WorkspaceBuild {
    pub id: WorkspaceBuildId,
    pub workspace_id: WorkspaceId,
    pub build_number: i32,
    pub transition: BuildTransition,
    pub reason: BuildReason,
    pub initiator_id: UserId,
    pub job_id: JobId,
    pub template_version_id: TemplateVersionId,
    /// Terraform state, opaque.
    pub state: Option<Vec<u8>>,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// What [`insert_build`] writes; the build number is the workspace's next one.
#[derive(Clone, Debug)]
pub struct NewBuild<'a> {
    pub id: WorkspaceBuildId,
    pub workspace_id: WorkspaceId,
    pub transition: BuildTransition,
    pub reason: BuildReason,
    pub initiator_id: UserId,
    pub job_id: JobId,
    pub template_version_id: TemplateVersionId,
    pub state: Option<&'a [u8]>,
    pub created_at: DbTime,
}

macro_rules! cols {
    () => {
        "id, owner_id, org_id, template_id, name, deleted, dormant_at, created_at, updated_at, \
         last_used_at"
    };
}
macro_rules! build_cols {
    () => {
        "id, workspace_id, build_number, transition, reason, initiator_id, job_id, \
         template_version_id, state, created_at, updated_at"
    };
}

// The rows a new workspace depends on, locked against a racing delete (dialect.rs item 4):
// `FOR SHARE`, so creations for one owner or template do not wait for each other, only for a
// delete (which locks `FOR UPDATE`).
const LOCK_OWNER: Locking =
    locking!("SELECT id FROM users WHERE id = $1 AND NOT deleted", "FOR SHARE");
const LOCK_TEMPLATE: Locking =
    locking!("SELECT id FROM templates WHERE id = $1 AND NOT deleted", "FOR SHARE");
// A build locks its workspace, then reads the latest build's job; an ACL edit locks it alone.
const LOCK_LIVE: Locking =
    locking!("SELECT id FROM workspaces WHERE id = $1 AND NOT deleted", "FOR UPDATE");
const LATEST_JOB_COMPLETED: &str = "SELECT j.completed_at FROM workspace_builds b \
     JOIN provisioner_jobs j ON j.id = b.job_id WHERE b.workspace_id = $1 \
     ORDER BY b.build_number DESC LIMIT 1";

const INSERT: &str = concat!(
    "INSERT INTO workspaces (id, owner_id, org_id, template_id, name, created_at, updated_at, \
     last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM workspaces WHERE id = $1");
const GET_BY_OWNER_AND_NAME: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM workspaces WHERE owner_id = $1 AND lower(name) = lower($2) AND NOT deleted"
);
const LIST_BY_OWNER: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM workspaces WHERE owner_id = $1 AND NOT deleted ORDER BY lower(name)"
);
const RENAME: &str = concat!(
    "UPDATE workspaces SET name = $2, updated_at = $3 WHERE id = $1 AND NOT deleted RETURNING ",
    cols!()
);
const SET_DORMANT: &str = concat!(
    "UPDATE workspaces SET dormant_at = $2, updated_at = $3 WHERE id = $1 AND NOT deleted \
     RETURNING ",
    cols!()
);
const TOUCH_LAST_USED: &str =
    "UPDATE workspaces SET last_used_at = $2 WHERE id = $1 AND NOT deleted";
const SOFT_DELETE: &str =
    "UPDATE workspaces SET deleted = TRUE, updated_at = $2 WHERE id = $1 AND NOT deleted";

const INSERT_BUILD: &str = concat!(
    "INSERT INTO workspace_builds (id, workspace_id, build_number, transition, reason, \
     initiator_id, job_id, template_version_id, state, created_at, updated_at) \
     VALUES ($1, $2, (SELECT COALESCE(MAX(build_number), 0) + 1 FROM workspace_builds \
     WHERE workspace_id = $2), $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    build_cols!()
);
const GET_BUILD: &str = concat!("SELECT ", build_cols!(), " FROM workspace_builds WHERE id = $1");
const LATEST_BUILD: &str = concat!(
    "SELECT ",
    build_cols!(),
    " FROM workspace_builds WHERE workspace_id = $1 ORDER BY build_number DESC LIMIT 1"
);
const LIST_BUILDS: &str = concat!(
    "SELECT ",
    build_cols!(),
    " FROM workspace_builds WHERE workspace_id = $1 ORDER BY build_number DESC"
);
const SET_BUILD_STATE: &str =
    "UPDATE workspace_builds SET state = $2, updated_at = $3 WHERE id = $1";

const ACL: AclSql = acl_sql!("workspace", "workspace_id");

/// Inserts a workspace, in one transaction with a re-check, under a lock, that its owner and
/// its template are live: a deleted (or deleting) user or template never gains a workspace
/// (`NotFound` with entity `user` / `template`). A live name the owner already uses (ignoring
/// case) is `Unique` on `workspaces_owner_id_name_key`.
pub async fn insert(
    db: impl Into<Db<'_>>,
    new: &NewWorkspace<'_>,
) -> Result<Workspace, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    let ws = on_conn!(tx, |c| {
        let backend = backend_of(&*c);
        let owner: Option<UserId> = sqlx::query_scalar(LOCK_OWNER.sql(backend))
            .bind(new.owner_id)
            .fetch_optional(&mut *c)
            .await?;
        owner.ok_or(OWNER_NOT_FOUND)?;
        let template: Option<TemplateId> = sqlx::query_scalar(LOCK_TEMPLATE.sql(backend))
            .bind(new.template_id)
            .fetch_optional(&mut *c)
            .await?;
        template.ok_or(TEMPLATE_NOT_FOUND)?;
        sqlx::query_as(INSERT)
            .bind(new.id)
            .bind(new.owner_id)
            .bind(new.org_id)
            .bind(new.template_id)
            .bind(new.name)
            .bind(new.created_at)
            .fetch_one(&mut *c)
            .await?
    });
    tx.commit().await?;
    Ok(ws)
}

/// Locks a live workspace for a new build until the caller's transaction ends, and checks it
/// is idle: `NotFound` when it is deleted (or missing), `Unique` on [`ACTIVE_BUILD`] while
/// its latest build's job has not completed. [`insert_build`] calls it; call it first to
/// refuse before writing anything else (the job row).
pub async fn lock_idle(db: impl Into<Db<'_>>, id: WorkspaceId) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let live: Option<WorkspaceId> = sqlx::query_scalar(LOCK_LIVE.sql(backend_of(&*c)))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        live.ok_or(NOT_FOUND)?;
        // No build yet: `None`; the latest job still running: `Some(None)`.
        let latest: Option<Option<DbTime>> =
            sqlx::query_scalar(LATEST_JOB_COMPLETED).bind(id).fetch_optional(&mut *c).await?;
        if matches!(latest, Some(None)) {
            return Err(StoreError::Unique { constraint: ACTIVE_BUILD.to_owned() });
        }
        Ok(())
    })
}

/// Locks a live workspace's row (`FOR UPDATE` on PostgreSQL) until the caller's transaction
/// ends, whatever its builds are doing: read-modify-writes of the workspace (its ACL) run one
/// after the other, and a delete racing one waits. `NotFound` when it is deleted (or missing).
pub async fn lock_live(db: impl Into<Db<'_>>, id: WorkspaceId) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let live: Option<WorkspaceId> =
        on_conn!(conn, |c| sqlx::query_scalar(LOCK_LIVE.sql(backend_of(&*c)))
            .bind(id)
            .fetch_optional(c)
            .await)?;
    live.map(|_| ()).ok_or(NOT_FOUND)
}

/// A workspace by id, deleted or not.
pub async fn get(db: impl Into<Db<'_>>, id: WorkspaceId) -> Result<Workspace, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// The owner's live workspace with this name, ignoring case.
pub async fn get_by_owner_and_name(
    db: impl Into<Db<'_>>,
    owner: UserId,
    name: &str,
) -> Result<Workspace, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_OWNER_AND_NAME)
        .bind(owner)
        .bind(name)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// The owner's live workspaces, by name.
pub async fn list_by_owner(
    db: impl Into<Db<'_>>,
    owner: UserId,
) -> Result<Vec<Workspace>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_BY_OWNER).bind(owner).fetch_all(c).await)?)
}

/// Renames a live workspace.
pub async fn rename(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
    name: &str,
    now: DbTime,
) -> Result<Workspace, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(RENAME)
        .bind(id)
        .bind(name)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Marks a live workspace dormant (`Some`) or active again (`None`).
pub async fn set_dormant(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
    dormant_at: Option<DbTime>,
    now: DbTime,
) -> Result<Workspace, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(SET_DORMANT)
        .bind(id)
        .bind(dormant_at)
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// Records use of a live workspace.
pub async fn touch_last_used(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(TOUCH_LAST_USED)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// Soft-deletes a live workspace; its name becomes free for the owner.
pub async fn soft_delete(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(SOFT_DELETE)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(NOT_FOUND) } else { Ok(()) }
}

/// The workspace's ACL.
pub async fn get_acl(db: impl Into<Db<'_>>, id: WorkspaceId) -> Result<Acl, StoreError> {
    acl::get(&ACL, db.into(), id).await
}

/// Replaces the workspace's ACL, in one transaction.
pub async fn set_acl(db: impl Into<Db<'_>>, id: WorkspaceId, acl: &Acl) -> Result<(), StoreError> {
    acl::set(&ACL, db.into(), id, acl).await
}

/// Inserts the workspace's next build, in one transaction with [`lock_idle`]: a deleted
/// workspace gets `NotFound`, a workspace whose latest build is still active `Unique` on
/// [`ACTIVE_BUILD`]. Racing inserts are serialized by the lock, so they never share a number
/// (and if they did, `workspace_builds_workspace_id_build_number_key` would refuse one).
pub async fn insert_build(
    db: impl Into<Db<'_>>,
    new: &NewBuild<'_>,
) -> Result<WorkspaceBuild, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    lock_idle(&mut tx, new.workspace_id).await?;
    let build = on_conn!(tx, |c| sqlx::query_as(INSERT_BUILD)
        .bind(new.id)
        .bind(new.workspace_id)
        .bind(new.transition)
        .bind(new.reason)
        .bind(new.initiator_id)
        .bind(new.job_id)
        .bind(new.template_version_id)
        .bind(new.state)
        .bind(new.created_at)
        .fetch_one(c)
        .await)?;
    tx.commit().await?;
    Ok(build)
}

/// A build by id.
pub async fn get_build(
    db: impl Into<Db<'_>>,
    id: WorkspaceBuildId,
) -> Result<WorkspaceBuild, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BUILD).bind(id).fetch_optional(c).await)?
        .ok_or(BUILD_NOT_FOUND)
}

/// The workspace's newest build.
pub async fn latest_build(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
) -> Result<WorkspaceBuild, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(LATEST_BUILD).bind(workspace).fetch_optional(c).await)?
        .ok_or(BUILD_NOT_FOUND)
}

/// The workspace's builds, newest first.
pub async fn list_builds(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
) -> Result<Vec<WorkspaceBuild>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_BUILDS).bind(workspace).fetch_all(c).await)?)
}

/// Stores the Terraform state a build produced.
pub async fn set_build_state(
    db: impl Into<Db<'_>>,
    id: WorkspaceBuildId,
    state: &[u8],
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(SET_BUILD_STATE)
        .bind(id)
        .bind(state)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(BUILD_NOT_FOUND) } else { Ok(()) }
}

const COUNT_LIVE_BY_OWNER: &str =
    "SELECT COUNT(*) FROM workspaces WHERE owner_id = $1 AND NOT deleted";

/// How many live workspaces a user owns, whoever asks (deleting a user checks this without
/// the caller's filter).
pub async fn count_live_by_owner(db: impl Into<Db<'_>>, owner: UserId) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(COUNT_LIVE_BY_OWNER).bind(owner).fetch_one(c).await)?)
}

const COUNT_LIVE_BY_TEMPLATE: &str =
    "SELECT COUNT(*) FROM workspaces WHERE template_id = $1 AND NOT deleted";

/// How many live workspaces use a template, whoever asks (deleting a template checks this
/// without the caller's filter, as Coder does).
pub async fn count_live_by_template(
    db: impl Into<Db<'_>>,
    template: crate::id::TemplateId,
) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_scalar(COUNT_LIVE_BY_TEMPLATE)
        .bind(template)
        .fetch_one(c)
        .await)?)
}

/// The latest build of each of these workspaces (those that have one), in one statement.
pub async fn latest_builds(
    db: impl Into<Db<'_>>,
    workspaces: &[WorkspaceId],
) -> Result<Vec<WorkspaceBuild>, StoreError> {
    let ids: Vec<String> = workspaces.iter().map(ToString::to_string).collect();
    let select = concat!("SELECT ", build_cols!(), " FROM workspace_builds b");
    let latest = "AND b.build_number = (SELECT MAX(l.build_number) FROM workspace_builds l \
                  WHERE l.workspace_id = b.workspace_id)";
    crate::batch::by_ids(db.into(), select, "b.workspace_id", ids, latest).await
}
