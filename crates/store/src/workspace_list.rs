//! `GET /workspaces`: the caller's filter (coder-api.md §2.3) AND the engine's residual filter,
//! a page ordered by name, and the total count. Status is derived in SQL from the latest
//! build's transition and its job's timestamps, as Coder derives it.
//!
//! Shape: unless the filter admits every row (or none), each disjunct of the residual filter
//! ([`Term`]: the allowed orgs, the caller's own workspaces, the user ACL, the group ACLs, the
//! Everyone ACL) is its own branch — the first `offset + limit` names of that disjunct, read
//! from its own index (`(org_id, lower(name), id)`, `(owner_id, lower(name))`, or the ACL
//! entries joined by id) — and the page is the first `limit` after `offset` of their UNION.
//! One OR over the name index stops early only when many rows match (an org admin), and
//! planners misjudge the ORed `IN (SELECT ...)`s: a member's first page scanned ~20,000 rows of
//! 100,000 on PostgreSQL (scripts/bench-list, docs/BENCHMARKS.md). The count UNIONs the
//! branches' ids.

use atrium_engine::ListFilter;
use atrium_engine::listable::{TypedFilter, Workspaces};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::authz_sql::{AuthzColumns, Branch, branches, push_branch, push_filter};
use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{OrgId, UserId, WorkspaceId};
use crate::lists::{Listable, Listed, Page, like};
use crate::workspaces::Workspace;

/// What `q` asks for, with names already resolved where the caller could.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceFilter {
    pub owner_id: Option<UserId>,
    /// Owner by username (case-insensitive), when not resolved to an id.
    pub owner_username: Option<String>,
    /// Substring of the workspace name (case-insensitive).
    pub name: Option<String>,
    /// Template name (case-insensitive, exact).
    pub template_name: Option<String>,
    pub org_id: Option<OrgId>,
    pub ids: Vec<WorkspaceId>,
    pub dormant: Option<bool>,
    /// One of Coder's workspace statuses (`running`, `stopped`, ...).
    pub status: Option<String>,
    /// Whether the latest build's version is not the template's active one.
    pub outdated: Option<bool>,
    /// A condition no workspace meets yet (an agent's status, a build parameter): no rows.
    pub nothing: bool,
}

/// The latest build's status as Coder names it: job status, refined by the transition.
pub const STATUS_SQL: &str = "(SELECT CASE \
       WHEN j.canceled_at IS NOT NULL AND j.completed_at IS NOT NULL THEN 'canceled' \
       WHEN j.canceled_at IS NOT NULL THEN 'canceling' \
       WHEN j.completed_at IS NOT NULL AND COALESCE(j.error, '') <> '' THEN 'failed' \
       WHEN j.completed_at IS NOT NULL AND b.transition = 'start' THEN 'running' \
       WHEN j.completed_at IS NOT NULL AND b.transition = 'stop' THEN 'stopped' \
       WHEN j.completed_at IS NOT NULL THEN 'deleted' \
       WHEN j.started_at IS NULL THEN 'pending' \
       WHEN b.transition = 'start' THEN 'starting' \
       WHEN b.transition = 'stop' THEN 'stopping' \
       ELSE 'deleting' END \
     FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id \
     WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1)";

const COLUMNS: &str = "w.id, w.owner_id, w.org_id, w.template_id, w.name, w.deleted, \
     w.dormant_at, w.created_at, w.updated_at, w.last_used_at";
const ORDER: &str = " ORDER BY lower(w.name), w.id";

/// The caller's conditions, each as ` AND ...`.
fn push_caller<DB>(qb: &mut QueryBuilder<DB>, f: &WorkspaceFilter)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    if let Some(owner) = f.owner_id {
        qb.push(" AND w.owner_id = ").push_bind(owner.to_string());
    }
    if let Some(name) = &f.owner_username {
        qb.push(" AND w.owner_id IN (SELECT u.id FROM users u WHERE lower(u.username) = ")
            .push_bind(name.to_lowercase())
            .push(")");
    }
    if let Some(name) = &f.name {
        qb.push(" AND lower(w.name) LIKE ").push_bind(like(name)).push(" ESCAPE '\\'");
    }
    if let Some(t) = &f.template_name {
        qb.push(" AND w.template_id IN (SELECT t.id FROM templates t WHERE lower(t.name) = ")
            .push_bind(t.to_lowercase())
            .push(")");
    }
    if let Some(org) = f.org_id {
        qb.push(" AND w.org_id = ").push_bind(org.to_string());
    }
    if !f.ids.is_empty() {
        qb.push(" AND w.id IN (");
        let mut sep = qb.separated(", ");
        for id in &f.ids {
            sep.push_bind(id.to_string());
        }
        qb.push(")");
    }
    match f.dormant {
        Some(true) => {
            qb.push(" AND w.dormant_at IS NOT NULL");
        }
        Some(false) => {
            qb.push(" AND w.dormant_at IS NULL");
        }
        None => {}
    }
    if let Some(status) = &f.status {
        qb.push(format_args!(" AND {STATUS_SQL} = ")).push_bind(status.clone());
    }
    if let Some(outdated) = f.outdated {
        let op = if outdated { "<>" } else { "=" };
        qb.push(format_args!(
            " AND (SELECT b.template_version_id FROM workspace_builds b \
             WHERE b.workspace_id = w.id ORDER BY b.build_number DESC LIMIT 1) {op} \
             (SELECT t.active_version_id FROM templates t WHERE t.id = w.template_id)"
        ));
    }
    if f.nothing {
        qb.push(" AND 1 = 0");
    }
}

/// How a list reads the rows the residual filter admits.
enum Shape {
    /// One `WHERE NOT deleted AND <filter>`: the filter admits every row, or none.
    Plain,
    /// One branch per disjunct (the group ACLs together), UNIONed.
    Branches(Vec<Branch>),
}

fn shape(authz: &ListFilter, cols: &AuthzColumns) -> Shape {
    if authz.is_never() || authz.all {
        return Shape::Plain;
    }
    let branches = branches(authz, cols);
    if branches.is_empty() { Shape::Plain } else { Shape::Branches(branches) }
}

/// `SELECT <select> FROM workspaces w ... WHERE <branch> AND NOT w.deleted AND <caller>`.
fn push_branch_rows<DB>(
    qb: &mut QueryBuilder<DB>,
    select: &str,
    f: &WorkspaceFilter,
    authz: &ListFilter,
    cols: &AuthzColumns,
    branch: Branch,
) where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    push_branch(qb, select, authz, cols, branch, "workspaces w");
    qb.push(" AND NOT w.deleted");
    push_caller(qb, f);
}

/// The page query [`workspace_page`] and [`workspaces`] run, after `prefix` (empty, or e.g.
/// `EXPLAIN QUERY PLAN ` to see its plan), on any backend.
///
/// Limit and offset are literals, not binds: PostgreSQL plans a generic plan's `LIMIT $n` as a
/// fraction of all rows, so a prepared page would be planned anew on every execution.
pub fn page_query<DB>(
    prefix: &str,
    f: &WorkspaceFilter,
    authz: &TypedFilter<Workspaces>,
    page: Page,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    let authz = authz.filter();
    let cols = Listable::Workspaces.columns();
    let limit = page.limit.unwrap_or(i64::MAX);
    let mut qb = QueryBuilder::new(prefix);
    match shape(authz, &cols) {
        Shape::Plain => {
            qb.push(format_args!("SELECT {COLUMNS} FROM workspaces w WHERE NOT w.deleted AND "));
            push_filter(&mut qb, authz, &cols);
            push_caller(&mut qb, f);
            qb.push(ORDER);
        }
        Shape::Branches(branches) => {
            // Each branch's first `offset + limit` keys, then the page of their union, then
            // the rows.
            qb.push(format_args!(
                "SELECT {COLUMNS} FROM workspaces w WHERE w.id IN (SELECT p.id FROM ("
            ));
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    qb.push(" UNION ");
                }
                qb.push("SELECT * FROM (");
                push_branch_rows(&mut qb, "w.id, lower(w.name) AS k", f, authz, &cols, *branch);
                qb.push(ORDER);
                qb.push(format_args!(" LIMIT {}) b{i}", limit.saturating_add(page.offset)));
            }
            qb.push(format_args!(") p ORDER BY p.k, p.id LIMIT {limit} OFFSET {})", page.offset));
            qb.push(ORDER);
            return qb;
        }
    }
    qb.push(format_args!(" LIMIT {limit} OFFSET {}", page.offset));
    qb
}

/// The count query [`workspaces`] runs, after `prefix`, on any backend.
pub fn count_query<DB>(
    prefix: &str,
    f: &WorkspaceFilter,
    authz: &TypedFilter<Workspaces>,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    let authz = authz.filter();
    let cols = Listable::Workspaces.columns();
    let mut qb = QueryBuilder::new(prefix);
    match shape(authz, &cols) {
        Shape::Plain => {
            qb.push("SELECT COUNT(*) FROM workspaces w WHERE NOT w.deleted AND ");
            push_filter(&mut qb, authz, &cols);
            push_caller(&mut qb, f);
        }
        Shape::Branches(branches) => {
            qb.push("SELECT COUNT(*) FROM (");
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    qb.push(" UNION ");
                }
                push_branch_rows(&mut qb, "w.id", f, authz, &cols, *branch);
            }
            qb.push(") c");
        }
    }
    qb
}

/// A page of live workspaces the caller may read, by name, and the total count.
///
/// `authz` is the caller's filter for workspaces; one computed for another type is another type
/// and does not compile:
///
/// ```compile_fail,E0308
/// # use atrium_engine::listable::Templates;
/// # use atrium_engine::{Action, Subject};
/// # use atrium_store::{Store, lists::Page, workspace_list::{self, WorkspaceFilter}};
/// # async fn f(store: &Store, subject: &Subject) {
/// let authz = subject.list_filter_for::<Templates>(Action::Read);
/// let none = WorkspaceFilter::default();
/// let _ = workspace_list::workspaces(store, &none, &authz, Page::default()).await;
/// # }
/// ```
///
/// ```no_run
/// # use atrium_engine::listable::Workspaces;
/// # use atrium_engine::{Action, Subject};
/// # use atrium_store::{Store, lists::Page, workspace_list::{self, WorkspaceFilter}};
/// # async fn f(store: &Store, subject: &Subject) {
/// let authz = subject.list_filter_for::<Workspaces>(Action::Read);
/// let none = WorkspaceFilter::default();
/// let _ = workspace_list::workspaces(store, &none, &authz, Page::default()).await;
/// # }
/// ```
pub async fn workspaces(
    db: impl Into<Db<'_>>,
    f: &WorkspaceFilter,
    authz: &TypedFilter<Workspaces>,
    page: Page,
) -> Result<Listed<Workspace>, StoreError> {
    let db = db.into();
    if let Db::Pool(pool) = db {
        // Outside a transaction the two statements see different snapshots anyway: run them
        // at once on two connections (the page's latency, not the sum).
        let (rows, count) = tokio::try_join!(
            workspace_page(pool, f, authz, page),
            workspace_count(pool, f, authz)
        )?;
        return Ok(Listed { rows, count });
    }
    let mut conn = db.conn().await?;
    on_conn!(conn, |c| {
        let mut qb = page_query("", f, authz, page);
        let rows = qb.build_query_as::<Workspace>().fetch_all(&mut *c).await?;
        let mut count = count_query("", f, authz);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(Listed { rows, count })
    })
}

/// How many live workspaces the caller may read that match `f`.
async fn workspace_count(
    db: impl Into<Db<'_>>,
    f: &WorkspaceFilter,
    authz: &TypedFilter<Workspaces>,
) -> Result<i64, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = count_query("", f, authz);
        Ok(qb.build_query_scalar().fetch_one(&mut *c).await?)
    })
}

/// Only the page (no count), for the list benchmark's "first page" figure.
pub async fn workspace_page(
    db: impl Into<Db<'_>>,
    f: &WorkspaceFilter,
    authz: &TypedFilter<Workspaces>,
    page: Page,
) -> Result<Vec<Workspace>, StoreError> {
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = page_query("", f, authz, page);
        Ok(qb.build_query_as::<Workspace>().fetch_all(&mut *c).await?)
    })
}

/// The SQL text of the first page of 25 (PostgreSQL placeholders; limit and offset are bound),
/// for plans in docs and benchmarks.
pub fn workspace_page_sql(f: &WorkspaceFilter, authz: &TypedFilter<Workspaces>) -> String {
    let page = Page { limit: Some(25), offset: 0 };
    page_query::<sqlx::Postgres>("", f, authz, page).into_string()
}
