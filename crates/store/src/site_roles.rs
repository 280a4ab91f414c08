//! Site-wide custom roles (issue 20): additive or restriction roles with site and user
//! permissions, defined by owners. Holders keep the name among their site roles; a deleted
//! role's name then expands to nothing, as an org custom role's does (rbac.md §9.16).

use atrium_engine::custom_role::RawPermission;
use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::CustomRoleId;
use crate::roles::{Permissions, RoleNames};
use crate::time::DbTime;
use crate::value::JsonText;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "site role" };

/// A site-wide role row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SiteRole {
    pub id: CustomRoleId,
    pub name: String,
    pub display_name: String,
    pub restriction: bool,
    pub site_permissions: Permissions,
    pub user_permissions: Permissions,
    pub assignable_by: RoleNames,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// What [`insert`] writes and [`update`] replaces.
#[derive(Clone, Debug)]
pub struct SiteRoleDefinition<'a> {
    pub display_name: &'a str,
    pub restriction: bool,
    pub site_permissions: &'a [RawPermission],
    pub user_permissions: &'a [RawPermission],
    pub assignable_by: &'a [String],
}

macro_rules! cols {
    () => {
        "id, name, display_name, restriction, site_permissions, user_permissions, assignable_by, \
         created_at, updated_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO site_roles (id, name, display_name, restriction, site_permissions, \
     user_permissions, assignable_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
    cols!()
);
const UPDATE: &str = concat!(
    "UPDATE site_roles SET display_name = $2, restriction = $3, site_permissions = $4, \
     user_permissions = $5, assignable_by = $6, updated_at = $7 \
     WHERE lower(name) = lower($1) RETURNING ",
    cols!()
);
const GET: &str = concat!("SELECT ", cols!(), " FROM site_roles WHERE lower(name) = lower($1)");
const LIST: &str = concat!("SELECT ", cols!(), " FROM site_roles ORDER BY lower(name)");
const DELETE: &str = "DELETE FROM site_roles WHERE lower(name) = lower($1) RETURNING name";

/// Inserts a site-wide role. A name taken (ignoring case) is `Unique` on `site_roles_name_key`.
pub async fn insert(
    db: impl Into<Db<'_>>,
    id: CustomRoleId,
    name: &str,
    def: &SiteRoleDefinition<'_>,
    now: DbTime,
) -> Result<SiteRole, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(id)
        .bind(name)
        .bind(def.display_name)
        .bind(def.restriction)
        .bind(JsonText(def.site_permissions))
        .bind(JsonText(def.user_permissions))
        .bind(JsonText(def.assignable_by))
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// Replaces a site-wide role's definition.
pub async fn update(
    db: impl Into<Db<'_>>,
    name: &str,
    def: &SiteRoleDefinition<'_>,
    now: DbTime,
) -> Result<SiteRole, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE)
        .bind(name)
        .bind(def.display_name)
        .bind(def.restriction)
        .bind(JsonText(def.site_permissions))
        .bind(JsonText(def.user_permissions))
        .bind(JsonText(def.assignable_by))
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// A site-wide role by name, ignoring case.
pub async fn get(db: impl Into<Db<'_>>, name: &str) -> Result<SiteRole, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(name).fetch_optional(c).await)?.ok_or(NOT_FOUND)
}

/// Every site-wide role, by name.
pub async fn list(db: impl Into<Db<'_>>) -> Result<Vec<SiteRole>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).fetch_all(c).await)?)
}

/// Deletes a site-wide role; holders keep the name, which then grants (or denies) nothing.
pub async fn delete(db: impl Into<Db<'_>>, name: &str) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let stored: Option<String> =
        on_conn!(conn, |c| sqlx::query_scalar(DELETE).bind(name).fetch_optional(c).await)?;
    stored.map(|_| ()).ok_or(NOT_FOUND)
}
