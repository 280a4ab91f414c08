//! Custom (organization-scoped) roles, additive or restriction roles (issue 20). The engine
//! validates them; the store keeps the validated permission lists as JSON text.

use atrium_engine::custom_role::RawPermission;
use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{CustomRoleId, OrgId};
use crate::time::DbTime;
use crate::value::JsonText;

const NOT_FOUND: StoreError = StoreError::NotFound { entity: "custom role" };

/// A list of permissions as stored.
pub type Permissions = JsonText<Vec<RawPermission>>;

/// A custom role row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct CustomRole {
    pub id: CustomRoleId,
    pub org_id: OrgId,
    pub name: String,
    pub display_name: String,
    pub site_permissions: Permissions,
    pub org_permissions: Permissions,
    pub user_permissions: Permissions,
    /// Negative permissions only, defined by owners.
    pub restriction: bool,
    /// Roles whose holders may assign this one besides rbac.md §4's.
    pub assignable_by: RoleNames,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// A list of role names as stored.
pub type RoleNames = JsonText<Vec<String>>;

/// What [`insert`] writes and [`update`] replaces.
#[derive(Clone, Debug)]
pub struct RoleDefinition<'a> {
    pub display_name: &'a str,
    pub site_permissions: &'a [RawPermission],
    pub org_permissions: &'a [RawPermission],
    pub user_permissions: &'a [RawPermission],
    pub restriction: bool,
    pub assignable_by: &'a [String],
}

macro_rules! cols {
    () => {
        "id, org_id, name, display_name, site_permissions, org_permissions, user_permissions, \
         restriction, assignable_by, created_at, updated_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO custom_roles (id, org_id, name, display_name, site_permissions, \
     org_permissions, user_permissions, restriction, assignable_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ",
    cols!()
);
const UPDATE: &str = concat!(
    "UPDATE custom_roles SET display_name = $3, site_permissions = $4, org_permissions = $5, \
     user_permissions = $6, restriction = $7, assignable_by = $8, updated_at = $9 \
     WHERE org_id = $1 AND lower(name) = lower($2) RETURNING ",
    cols!()
);
const GET: &str =
    concat!("SELECT ", cols!(), " FROM custom_roles WHERE org_id = $1 AND lower(name) = lower($2)");
const LIST: &str =
    concat!("SELECT ", cols!(), " FROM custom_roles WHERE org_id = $1 ORDER BY lower(name)");
const DELETE: &str = "DELETE FROM custom_roles WHERE org_id = $1 AND lower(name) = lower($2) \
     RETURNING name";

/// Inserts a custom role. A name taken in the org (ignoring case) is `Unique` on
/// `custom_roles_name_key`.
pub async fn insert(
    db: impl Into<Db<'_>>,
    id: CustomRoleId,
    org: OrgId,
    name: &str,
    def: &RoleDefinition<'_>,
    now: DbTime,
) -> Result<CustomRole, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(INSERT)
        .bind(id)
        .bind(org)
        .bind(name)
        .bind(def.display_name)
        .bind(JsonText(def.site_permissions))
        .bind(JsonText(def.org_permissions))
        .bind(JsonText(def.user_permissions))
        .bind(def.restriction)
        .bind(JsonText(def.assignable_by))
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// Replaces a custom role's display name and permissions.
pub async fn update(
    db: impl Into<Db<'_>>,
    org: OrgId,
    name: &str,
    def: &RoleDefinition<'_>,
    now: DbTime,
) -> Result<CustomRole, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(UPDATE)
        .bind(org)
        .bind(name)
        .bind(def.display_name)
        .bind(JsonText(def.site_permissions))
        .bind(JsonText(def.org_permissions))
        .bind(JsonText(def.user_permissions))
        .bind(def.restriction)
        .bind(JsonText(def.assignable_by))
        .bind(now)
        .fetch_optional(c)
        .await)?
    .ok_or(NOT_FOUND)
}

/// A custom role by org and name, ignoring case.
pub async fn get(db: impl Into<Db<'_>>, org: OrgId, name: &str) -> Result<CustomRole, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| sqlx::query_as(GET).bind(org).bind(name).fetch_optional(c).await)?
        .ok_or(NOT_FOUND)
}

/// An org's custom roles, by name.
pub async fn list(db: impl Into<Db<'_>>, org: OrgId) -> Result<Vec<CustomRole>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).bind(org).fetch_all(c).await)?)
}

/// Deletes a custom role. Members who hold it keep the name, which then expands to nothing
/// (Coder's behaviour, rbac.md §9.16): removing it from them is an explicit role change.
pub async fn delete(db: impl Into<Db<'_>>, org: OrgId, name: &str) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    let stored: Option<String> = on_conn!(conn, |c| sqlx::query_scalar(DELETE)
        .bind(org)
        .bind(name)
        .fetch_optional(c)
        .await)?;
    stored.map(|_| ()).ok_or(NOT_FOUND)
}
