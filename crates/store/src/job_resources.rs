//! What a provisioner job planned: the managed Terraform resources of an import's plans (start
//! and stop) or a dry-run's, in the plans' order (Coder's workspace resources, without agents).

use sqlx::FromRow;

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{JobId, JobResourceId};
use crate::time::DbTime;
use crate::value::BuildTransition;

/// A planned resource.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct JobResource {
    pub id: JobResourceId,
    pub job_id: JobId,
    pub created_at: DbTime,
    pub transition: BuildTransition,
    #[sqlx(rename = "type")]
    pub type_: String,
    pub name: String,
}

const DELETE: &str = "DELETE FROM provisioner_job_resources WHERE job_id = $1";
const INSERT: &str = "INSERT INTO provisioner_job_resources \
     (id, job_id, position, created_at, transition, type, name) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const LIST: &str = "SELECT id, job_id, created_at, transition, type, name \
     FROM provisioner_job_resources WHERE job_id = $1 ORDER BY position";

/// Replaces a job's resources with `resources` (transition, type, name), in order.
pub async fn replace(
    db: impl Into<Db<'_>>,
    job: JobId,
    resources: &[(BuildTransition, String, String)],
) -> Result<(), StoreError> {
    let now = DbTime::now();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        sqlx::query(DELETE).bind(job).execute(&mut *c).await?;
        for (position, (transition, type_, name)) in (0_i32..).zip(resources) {
            sqlx::query(INSERT)
                .bind(JobResourceId::new_v4())
                .bind(job)
                .bind(position)
                .bind(now)
                .bind(transition)
                .bind(type_)
                .bind(name)
                .execute(&mut *c)
                .await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// A job's resources, in the plan's order.
pub async fn list(db: impl Into<Db<'_>>, job: JobId) -> Result<Vec<JobResource>, StoreError> {
    let mut conn = db.into().conn().await?;
    Ok(on_conn!(conn, |c| sqlx::query_as(LIST).bind(job).fetch_all(c).await)?)
}
