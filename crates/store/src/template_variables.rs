//! A template version's variables (the Terraform `variable` blocks its import found) and the
//! value each got at import.

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::TemplateVersionId;

/// A variable row.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct TemplateVariable {
    pub template_version_id: TemplateVersionId,
    pub name: String,
    pub position: i32,
    pub description: String,
    #[sqlx(rename = "type")]
    pub type_: String,
    pub default_value: String,
    pub value: String,
    pub required: bool,
    pub sensitive: bool,
}

const INSERT: &str = "INSERT INTO template_version_variables (template_version_id, name, \
     position, description, type, default_value, value, required, sensitive) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const LIST: &str = "SELECT template_version_id, name, position, description, type, \
     default_value, value, required, sensitive FROM template_version_variables \
     WHERE template_version_id = $1 ORDER BY position";
const DELETE: &str = "DELETE FROM template_version_variables WHERE template_version_id = $1";

/// Replaces a version's variables (an import that runs again records them afresh).
pub async fn replace(
    db: impl Into<Db<'_>>,
    version: TemplateVersionId,
    variables: &[TemplateVariable],
) -> Result<(), StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        sqlx::query(DELETE).bind(version).execute(&mut *c).await?;
        for v in variables {
            sqlx::query(INSERT)
                .bind(version)
                .bind(&v.name)
                .bind(v.position)
                .bind(&v.description)
                .bind(&v.type_)
                .bind(&v.default_value)
                .bind(&v.value)
                .bind(v.required)
                .bind(v.sensitive)
                .execute(&mut *c)
                .await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// A version's variables in declaration order.
pub async fn list(
    db: impl Into<Db<'_>>,
    version: TemplateVersionId,
) -> Result<Vec<TemplateVariable>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).bind(version).fetch_all(c).await)?)
}
