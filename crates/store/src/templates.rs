//! Templates, their versions, and their ACLs.

use sqlx::FromRow;

use crate::acl::{self, AclSql, acl_sql};
use crate::db::{Db, backend_of, on_conn};
use crate::dialect::{Locking, locking};
use crate::error::StoreError;
use crate::id::{FileId, JobId, OrgId, TemplateId, TemplateVersionId, UserId};
use crate::time::DbTime;
use crate::value::Acl;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "template" };
const VERSION_NOT_FOUND: StoreError = StoreError::NotFound { entity: "template version" };

/// A template row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Template {
    pub id: TemplateId,
    pub org_id: OrgId,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub icon: String,
    pub active_version_id: Option<TemplateVersionId>,
    pub created_by: UserId,
    pub created_at: DbTime,
    pub updated_at: DbTime,
    pub deleted: bool,
}

/// What [`insert`] writes. The active version, if given, must already belong to the template
/// (or to none yet: it is attached in the same transaction).
#[derive(Clone, Debug)]
pub struct NewTemplate<'a> {
    pub id: TemplateId,
    pub org_id: OrgId,
    pub name: &'a str,
    pub display_name: &'a str,
    pub description: &'a str,
    pub icon: &'a str,
    pub active_version_id: Option<TemplateVersionId>,
    pub created_by: UserId,
    pub created_at: DbTime,
}

/// The fields an update changes.
#[derive(Clone, Debug)]
pub struct TemplateUpdate<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub description: &'a str,
    pub icon: &'a str,
}

/// A template version row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TemplateVersion {
    pub id: TemplateVersionId,
    pub template_id: Option<TemplateId>,
    pub org_id: OrgId,
    pub name: String,
    pub message: String,
    pub readme: String,
    pub job_id: JobId,
    pub file_id: Option<FileId>,
    pub created_by: UserId,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// What [`insert_version`] writes.
#[derive(Clone, Debug)]
pub struct NewTemplateVersion<'a> {
    pub id: TemplateVersionId,
    pub template_id: Option<TemplateId>,
    pub org_id: OrgId,
    pub name: &'a str,
    pub message: &'a str,
    pub readme: &'a str,
    pub job_id: JobId,
    pub file_id: Option<FileId>,
    pub created_by: UserId,
    pub created_at: DbTime,
}

macro_rules! cols {
    () => {
        "id, org_id, name, display_name, description, icon, active_version_id, created_by, \
         created_at, updated_at, deleted"
    };
}
macro_rules! version_cols {
    () => {
        "id, template_id, org_id, name, message, readme, job_id, file_id, created_by, \
         created_at, updated_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO templates (id, org_id, name, display_name, description, icon, \
     active_version_id, created_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    cols!()
);
const ATTACH_VERSION: &str = "UPDATE template_versions SET template_id = $2, updated_at = $3 \
     WHERE id = $1 AND (template_id IS NULL OR template_id = $2)";
const GET: &str = concat!("SELECT ", cols!(), " FROM templates WHERE id = $1");
const GET_BY_NAME: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM templates WHERE org_id = $1 AND lower(name) = lower($2) AND NOT deleted"
);
const LIST_BY_ORG: &str = concat!(
    "SELECT ",
    cols!(),
    " FROM templates WHERE org_id = $1 AND NOT deleted ORDER BY lower(name)"
);
const UPDATE: &str = concat!(
    "UPDATE templates SET name = $2, display_name = $3, description = $4, icon = $5, \
     updated_at = $6 WHERE id = $1 AND NOT deleted RETURNING ",
    cols!()
);
// Only a version of this template can become active (there is no foreign key; see the
// migration).
const SET_ACTIVE_VERSION: &str = "UPDATE templates SET active_version_id = $2, updated_at = $3 \
     WHERE id = $1 AND NOT deleted AND EXISTS \
     (SELECT 1 FROM template_versions WHERE id = $2 AND template_id = $1)";
const SOFT_DELETE: &str =
    "UPDATE templates SET deleted = TRUE, updated_at = $2 WHERE id = $1 AND NOT deleted";
// Deleting locks the template against a racing workspace creation (which locks it
// `FOR SHARE`, dialect.rs item 4), then counts the workspaces using it.
const LOCK_FOR_DELETE: Locking =
    locking!("SELECT id FROM templates WHERE id = $1 AND NOT deleted", "FOR UPDATE");
const COUNT_LIVE_WORKSPACES: &str =
    "SELECT COUNT(*) FROM workspaces WHERE template_id = $1 AND NOT deleted";

const INSERT_VERSION: &str = concat!(
    "INSERT INTO template_versions (id, template_id, org_id, name, message, readme, job_id, \
     file_id, created_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ",
    version_cols!()
);
const GET_VERSION: &str =
    concat!("SELECT ", version_cols!(), " FROM template_versions WHERE id = $1");
const GET_VERSION_BY_JOB: &str =
    concat!("SELECT ", version_cols!(), " FROM template_versions WHERE job_id = $1");
const LIST_VERSIONS: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM template_versions WHERE template_id = $1 ORDER BY created_at, id"
);

const ACL: AclSql = acl_sql!("template", "template_id");

/// Inserts a template and, in the same transaction, attaches its first version to it.
/// A live name taken in the org (ignoring case) is `Unique` on `templates_name_key`.
pub async fn insert(db: impl Into<Db<'_>>, new: &NewTemplate<'_>) -> Result<Template, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    let template = on_conn!(tx, |c| {
        let template: Template = sqlx::query_as(INSERT)
            .bind(new.id)
            .bind(new.org_id)
            .bind(new.name)
            .bind(new.display_name)
            .bind(new.description)
            .bind(new.icon)
            .bind(new.active_version_id)
            .bind(new.created_by)
            .bind(new.created_at)
            .fetch_one(&mut *c)
            .await?;
        if let Some(version) = new.active_version_id {
            let done = sqlx::query(ATTACH_VERSION)
                .bind(version)
                .bind(new.id)
                .bind(new.created_at)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(VERSION_NOT_FOUND);
            }
        }
        template
    });
    tx.commit().await?;
    Ok(template)
}

/// A template by id, deleted or not.
pub async fn get(db: impl Into<Db<'_>>, id: TemplateId) -> Result<Template, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(id).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// The live template with this name in the org, ignoring case.
pub async fn get_by_name(
    db: impl Into<Db<'_>>,
    org: OrgId,
    name: &str,
) -> Result<Template, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_BY_NAME).bind(org).bind(name).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// An org's live templates, by name.
pub async fn list_by_org(db: impl Into<Db<'_>>, org: OrgId) -> Result<Vec<Template>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_BY_ORG).bind(org).fetch_all(c).await)?)
}

/// Changes name, display name, description and icon of a live template.
pub async fn update(
    db: impl Into<Db<'_>>,
    id: TemplateId,
    update: &TemplateUpdate<'_>,
    now: DbTime,
) -> Result<Template, StoreError> {
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

/// Makes one of the template's versions the active one. A version of another template (or
/// none) is `NotFound`.
pub async fn set_active_version(
    db: impl Into<Db<'_>>,
    id: TemplateId,
    version: TemplateVersionId,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let done = on_conn!(conn, |c| sqlx::query(SET_ACTIVE_VERSION)
        .bind(id)
        .bind(version)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 { Err(VERSION_NOT_FOUND) } else { Ok(()) }
}

/// Soft-deletes a live template; its name becomes free in the org. Refused with `ForeignKey`
/// on [`crate::workspaces::TEMPLATE_HAS_WORKSPACES`] while a live workspace uses it (whoever
/// can see that workspace), counted under a lock that a racing workspace creation also takes.
pub async fn soft_delete(
    db: impl Into<Db<'_>>,
    id: TemplateId,
    now: DbTime,
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let mut tx = conn.begin().await?;
    on_conn!(tx, |c| {
        let live: Option<TemplateId> = sqlx::query_scalar(LOCK_FOR_DELETE.sql(backend_of(&*c)))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        live.ok_or(NOT_FOUND)?;
        let using: i64 =
            sqlx::query_scalar(COUNT_LIVE_WORKSPACES).bind(id).fetch_one(&mut *c).await?;
        if using > 0 {
            return Err(StoreError::ForeignKey {
                constraint: crate::workspaces::TEMPLATE_HAS_WORKSPACES.to_owned(),
            });
        }
        sqlx::query(SOFT_DELETE).bind(id).bind(now).execute(&mut *c).await?;
    });
    tx.commit().await
}

/// Inserts a template version. A name taken within the template is `Unique` on
/// `template_versions_template_id_name_key`.
pub async fn insert_version(
    db: impl Into<Db<'_>>,
    new: &NewTemplateVersion<'_>,
) -> Result<TemplateVersion, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT_VERSION)
        .bind(new.id)
        .bind(new.template_id)
        .bind(new.org_id)
        .bind(new.name)
        .bind(new.message)
        .bind(new.readme)
        .bind(new.job_id)
        .bind(new.file_id)
        .bind(new.created_by)
        .bind(new.created_at)
        .fetch_one(c)
        .await)?)
}

/// A template version by id.
pub async fn get_version(
    db: impl Into<Db<'_>>,
    id: TemplateVersionId,
) -> Result<TemplateVersion, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_VERSION).bind(id).fetch_optional(c).await)?
        .ok_or(VERSION_NOT_FOUND)
}

/// The template version a provisioner job imports.
pub async fn get_version_by_job(
    db: impl Into<Db<'_>>,
    job: JobId,
) -> Result<TemplateVersion, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET_VERSION_BY_JOB).bind(job).fetch_optional(c).await)?
        .ok_or(VERSION_NOT_FOUND)
}

/// A template's versions, oldest first.
pub async fn list_versions(
    db: impl Into<Db<'_>>,
    template: TemplateId,
) -> Result<Vec<TemplateVersion>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_VERSIONS).bind(template).fetch_all(c).await)?)
}

/// The template's ACL.
pub async fn get_acl(db: impl Into<Db<'_>>, id: TemplateId) -> Result<Acl, StoreError> {
    acl::get(&ACL, db.into(), id).await
}

/// Replaces the template's ACL, in one transaction.
pub async fn set_acl(db: impl Into<Db<'_>>, id: TemplateId, acl: &Acl) -> Result<(), StoreError> {
    acl::set(&ACL, db.into(), id, acl).await
}

const LIST_USING_FILE: &str = "SELECT t.id, t.org_id, t.name, t.display_name, t.description, \
     t.icon, t.active_version_id, t.created_by, t.created_at, t.updated_at, t.deleted \
     FROM templates t WHERE NOT t.deleted AND t.id IN \
     (SELECT v.template_id FROM template_versions v WHERE v.file_id = $1) ORDER BY t.id";

/// The live templates with a version built from `file` (Coder lets those who may update such
/// a template read the file).
pub async fn list_using_file(
    db: impl Into<Db<'_>>,
    file: FileId,
) -> Result<Vec<Template>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST_USING_FILE).bind(file).fetch_all(c).await)?)
}

/// The templates with these ids (deleted ones included), in one statement.
pub async fn get_many(
    db: impl Into<Db<'_>>,
    ids: &[TemplateId],
) -> Result<Vec<Template>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    crate::batch::by_ids(db.into(), concat!("SELECT ", cols!(), " FROM templates"), "id", ids, "")
        .await
}

/// The template versions with these ids, in one statement.
pub async fn get_versions(
    db: impl Into<Db<'_>>,
    ids: &[TemplateVersionId],
) -> Result<Vec<TemplateVersion>, StoreError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let select = concat!("SELECT ", version_cols!(), " FROM template_versions");
    crate::batch::by_ids(db.into(), select, "id", ids, "").await
}

/// The template's last 100 successful builds, newest first: each transition with how long
/// its job ran, in microseconds.
const BUILD_DURATIONS: &str = "SELECT b.transition, j.completed_at - j.started_at \
     FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id \
     JOIN workspaces w ON w.id = b.workspace_id \
     WHERE w.template_id = $1 AND j.started_at IS NOT NULL AND j.completed_at IS NOT NULL \
     AND j.canceled_at IS NULL AND COALESCE(j.error, '') = '' \
     ORDER BY j.completed_at DESC LIMIT 100";

/// How long the template's recent successful builds ran (transition, microseconds), newest
/// first; for Coder's build time stats.
pub async fn build_durations(
    db: impl Into<Db<'_>>,
    template: TemplateId,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(BUILD_DURATIONS).bind(template).fetch_all(c).await)?)
}
