//! Everything one workspace's view and its authorization need, in ONE statement: the
//! workspace, its latest build with the build's job and version, the owner, the initiator's
//! name, the organization, the template, the job's queue position, and the sharing ACL (not
//! read once dormant). An authorized `GET /workspaces/{id}` that misses the view cache costs
//! this statement and nothing else.
//!
//! The ACL comes as extra rows: the joined row repeats once per ACL entry (a `LEFT JOIN` on a
//! `UNION ALL` of the two ACL tables), which both dialects write alike, where aggregating
//! into one column would need `group_concat` on one and `string_agg` on the other.

use std::sync::LazyLock;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{GroupId, UserId, WorkspaceId};
use crate::jobs::ProvisionerJob;
use crate::orgs::Organization;
use crate::templates::{Template, TemplateVersion};
use crate::users::User;
use crate::value::{Acl, acl_set};
use crate::workspaces::{Workspace, WorkspaceBuild};

/// What [`get`] reads.
#[derive(Clone, Debug)]
pub struct WorkspaceViewFacts {
    pub workspace: Workspace,
    pub latest: WorkspaceBuild,
    pub job: ProvisionerJob,
    pub version: TemplateVersion,
    pub owner: User,
    /// `None` when the initiator's row is gone.
    pub initiator_name: Option<String>,
    pub org: Organization,
    pub template: Template,
    /// The job's (position, queue size) when it is pending, else (0, 0).
    pub queue: (i64, i64),
    /// Empty once dormant (a dormant workspace's ACL is ignored).
    pub acl: Acl,
}

/// One joined table: its select list (`t.col AS t_col`) and its decoder from those aliases,
/// generated from one field list so the two cannot disagree.
macro_rules! part {
    ($name:ident, $alias:literal, $t:ident { $($f:ident),* $(,)? }) => {
        struct $name($t);
        impl $name {
            const COLS: &'static str =
                concat!($($alias, ".", stringify!($f), " AS ", $alias, "_", stringify!($f), ", "),*);
        }
        impl<'r> FromRow<'r, SqliteRow> for $name {
            fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
                Ok($name($t { $($f: row.try_get(concat!($alias, "_", stringify!($f)))?),* }))
            }
        }
        impl<'r> FromRow<'r, PgRow> for $name {
            fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
                Ok($name($t { $($f: row.try_get(concat!($alias, "_", stringify!($f)))?),* }))
            }
        }
    };
}

part!(
    W,
    "w",
    Workspace {
        id,
        owner_id,
        org_id,
        template_id,
        name,
        deleted,
        dormant_at,
        created_at,
        updated_at,
        last_used_at,
    }
);
part!(
    B,
    "b",
    WorkspaceBuild {
        id,
        workspace_id,
        build_number,
        transition,
        reason,
        initiator_id,
        job_id,
        template_version_id,
        state,
        created_at,
        updated_at,
    }
);
part!(
    J,
    "j",
    ProvisionerJob {
        id,
        org_id,
        initiator_id,
        kind,
        provisioner,
        file_id,
        input,
        created_at,
        updated_at,
        started_at,
        completed_at,
        canceled_at,
        error,
        worker_id,
    }
);
part!(
    V,
    "v",
    TemplateVersion {
        id,
        template_id,
        org_id,
        name,
        message,
        readme,
        job_id,
        file_id,
        created_by,
        created_at,
        updated_at,
    }
);
part!(
    U,
    "u",
    User {
        id,
        username,
        email,
        name,
        avatar_url,
        hashed_password,
        login_type,
        status,
        created_at,
        updated_at,
        last_seen_at,
        deleted,
        is_service_account,
    }
);
part!(
    O,
    "o",
    Organization { id, name, display_name, description, icon, is_default, created_at, updated_at }
);
part!(
    T,
    "t",
    Template {
        id,
        org_id,
        name,
        display_name,
        description,
        icon,
        active_version_id,
        created_by,
        created_at,
        updated_at,
        deleted,
    }
);

// Pending means not started, completed or canceled (`ProvisionerJob::status`); the queue is
// every job not started nor canceled, by (created_at, id), as `jobs::queue_positions` counts.
const PENDING: &str = "j.started_at IS NULL AND j.completed_at IS NULL AND j.canceled_at IS NULL";
const QUEUED: &str = "q.started_at IS NULL AND q.canceled_at IS NULL";

/// The statement for the workspaces `ids` names (`= $1`, or `IN ($1, ..., $n)`: the same
/// placeholders serve the workspace and both ACL tables).
fn sql(ids: &str) -> String {
    format!(
        "SELECT {w}{b}{j}{v}{u}{o}{t}i.username AS initiator_name, \
         CASE WHEN {PENDING} THEN (SELECT COUNT(*) FROM provisioner_jobs q WHERE {QUEUED} \
           AND (q.created_at < j.created_at OR (q.created_at = j.created_at AND q.id <= j.id))) \
           ELSE 0 END AS queue_position, \
         CASE WHEN {PENDING} THEN (SELECT COUNT(*) FROM provisioner_jobs q WHERE {QUEUED}) \
           ELSE 0 END AS queue_size, \
         acl.kind AS acl_kind, acl.grantee AS acl_grantee, acl.actions AS acl_actions \
         FROM workspaces w \
         JOIN workspace_builds b ON b.workspace_id = w.id AND b.build_number = \
           (SELECT MAX(l.build_number) FROM workspace_builds l WHERE l.workspace_id = w.id) \
         JOIN provisioner_jobs j ON j.id = b.job_id \
         JOIN template_versions v ON v.id = b.template_version_id \
         JOIN users u ON u.id = w.owner_id \
         LEFT JOIN users i ON i.id = b.initiator_id \
         JOIN organizations o ON o.id = w.org_id \
         JOIN templates t ON t.id = w.template_id \
         LEFT JOIN (SELECT 'u' AS kind, workspace_id AS ws, user_id AS grantee, actions \
             FROM workspace_acl_users WHERE workspace_id {ids} \
           UNION ALL SELECT 'g' AS kind, workspace_id AS ws, group_id AS grantee, actions \
             FROM workspace_acl_groups WHERE workspace_id {ids}) acl \
           ON acl.ws = w.id AND w.dormant_at IS NULL \
         WHERE w.id {ids} AND NOT w.deleted \
         ORDER BY w.id, acl.kind, acl.grantee",
        w = W::COLS,
        b = B::COLS,
        j = J::COLS,
        v = V::COLS,
        u = U::COLS,
        o = O::COLS,
        t = T::COLS,
    )
}

static SQL: LazyLock<String> = LazyLock::new(|| sql("= $1"));

/// One row of [`SQL`]: the facts, and at most one ACL entry.
struct Joined {
    facts: WorkspaceViewFacts,
    acl: Option<(String, String, i32)>,
}

macro_rules! joined_from_row {
    ($row:ty) => {
        impl<'r> FromRow<'r, $row> for Joined {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                let kind: Option<String> = row.try_get("acl_kind")?;
                let grantee: Option<String> = row.try_get("acl_grantee")?;
                let actions: Option<i32> = row.try_get("acl_actions")?;
                Ok(Joined {
                    facts: WorkspaceViewFacts {
                        workspace: W::from_row(row)?.0,
                        latest: B::from_row(row)?.0,
                        job: J::from_row(row)?.0,
                        version: V::from_row(row)?.0,
                        owner: U::from_row(row)?.0,
                        initiator_name: row.try_get("initiator_name")?,
                        org: O::from_row(row)?.0,
                        template: T::from_row(row)?.0,
                        queue: (row.try_get("queue_position")?, row.try_get("queue_size")?),
                        acl: Acl::default(),
                    },
                    acl: kind.zip(grantee).zip(actions).map(|((k, g), a)| (k, g, a)),
                })
            }
        }
    };
}
joined_from_row!(SqliteRow);
joined_from_row!(PgRow);

/// The live workspace `id` with everything its view and authorization need, in one
/// statement; `None` when there is no live workspace (or, impossibly, no build).
pub async fn get(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
) -> Result<Option<WorkspaceViewFacts>, StoreError> {
    let mut conn = db.into().conn().await?;
    let rows: Vec<Joined> =
        on_conn!(conn, |c| sqlx::query_as(SQL.as_str()).bind(id).fetch_all(c).await)?;
    Ok(fold(rows)?.pop())
}

/// Ids read per statement by [`get_many`] (each is bound once and used three times).
const CHUNK: usize = 500;

/// [`get`] for many workspaces: one statement per [`CHUNK`] ids (a page is one). The live
/// ones come back in no particular order; ids without a live workspace are left out.
pub async fn get_many(
    db: impl Into<Db<'_>>,
    ids: &[WorkspaceId],
) -> Result<Vec<WorkspaceViewFacts>, StoreError> {
    let mut conn = db.into().conn().await?;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let text = sql(&format!("IN ({})", list.join(", ")));
        let rows: Vec<Joined> = on_conn!(conn, |c| {
            // Only placeholders were formatted in.
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.as_str()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        out.extend(fold(rows)?);
    }
    Ok(out)
}

/// Joined rows (ordered by workspace) into one [`WorkspaceViewFacts`] per workspace, its ACL
/// entries gathered from its rows.
fn fold(rows: Vec<Joined>) -> Result<Vec<WorkspaceViewFacts>, StoreError> {
    let mut out: Vec<WorkspaceViewFacts> = Vec::new();
    for row in rows {
        let same = out.last().is_some_and(|f| f.workspace.id == row.facts.workspace.id);
        if !same {
            out.push(row.facts);
        }
        let Some((kind, grantee, actions)) = row.acl else { continue };
        let Some(facts) = out.last_mut() else { continue };
        let set = acl_set(actions);
        let bad = || {
            StoreError::Database(sqlx::Error::Decode(format!("bad ACL grantee {grantee:?}").into()))
        };
        match kind.as_str() {
            "u" => facts.acl.users.push((grantee.parse::<UserId>().map_err(|_| bad())?, set)),
            _ => facts.acl.groups.push((grantee.parse::<GroupId>().map_err(|_| bad())?, set)),
        }
    }
    Ok(out)
}
