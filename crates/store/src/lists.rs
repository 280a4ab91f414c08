//! Authorized lists: each query's `WHERE` is the caller's filter (users `q`, audit `q`, ...)
//! AND the engine's residual [`ListFilter`] compiled by [`authz_sql`](crate::authz_sql), with
//! limit/offset paging and a total count under the same predicate. Each list takes the filter
//! typed by its resource ([`TypedFilter`]), so a filter computed for another type does not
//! compile.

use atrium_engine::ListFilter;
use atrium_engine::listable::{
    AuditLogs, Groups, OrganizationMembers, Organizations, Templates, TypedFilter, Users,
    Workspaces,
};
use atrium_engine::query::{AuditQuery, UserQuery};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::UserId;
use crate::audit::AuditLog;
use crate::authz_sql::{AuthzColumns, push_filter};
use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::users::User;

/// `LIMIT`/`OFFSET` paging; `limit: None` returns every row.
#[derive(Clone, Copy, Debug, Default)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: i64,
}

/// One page and the total number of matching rows.
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    pub count: i64,
}

fn micros(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// Users are org-less objects owned by themselves (rbac.md §2).
pub const USER_COLUMNS: AuthzColumns =
    AuthzColumns { id: "u.id", org: None, owner: Some("u.id"), user_acl: None, group_acl: None };

/// Audit rows carry their org, if any; no owner, no ACLs.
pub const AUDIT_COLUMNS: AuthzColumns = AuthzColumns {
    id: "a.id",
    org: Some("a.organization_id"),
    owner: None,
    user_acl: None,
    group_acl: None,
};

const USER_SELECT: &str = "SELECT u.id, u.username, u.email, u.name, u.avatar_url, \
     u.hashed_password, u.login_type, u.status, u.created_at, u.updated_at, u.last_seen_at, \
     u.deleted, u.is_service_account FROM users u WHERE NOT u.deleted AND ";
const USER_COUNT: &str = "SELECT COUNT(*) FROM users u WHERE NOT u.deleted AND ";

/// A case-insensitive `LIKE` substring pattern, with `\`, `%` and `_` escaped (used with
/// `ESCAPE '\'`).
pub(crate) fn like(s: &str) -> String {
    let escaped = s.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_in<DB>(qb: &mut QueryBuilder<DB>, column: &str, values: &[String])
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    qb.push(format_args!(" AND {column} IN ("));
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v.clone());
    }
    qb.push(")");
}

fn push_user_query<DB>(qb: &mut QueryBuilder<DB>, q: &UserQuery, authz: &ListFilter)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    push_filter(qb, authz, &USER_COLUMNS);
    if let Some(search) = &q.search {
        let pattern = like(search);
        qb.push(" AND (lower(u.username) LIKE ").push_bind(pattern.clone());
        qb.push(" ESCAPE '\\' OR lower(u.email) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
    }
    if let Some(name) = &q.name {
        qb.push(" AND lower(u.name) LIKE ").push_bind(like(name)).push(" ESCAPE '\\'");
    }
    if !q.status.is_empty() {
        let v: Vec<String> = q.status.iter().map(|s| s.as_str().to_owned()).collect();
        push_in(qb, "u.status", &v);
    }
    if !q.login_types.is_empty() {
        let v: Vec<String> = q.login_types.iter().map(|s| s.as_str().to_owned()).collect();
        push_in(qb, "u.login_type", &v);
    }
    // Everyone holds `member`, so asking for it restricts nothing (as in Coder).
    if !q.roles.is_empty() && !q.roles.iter().any(|r| r == "member") {
        qb.push(" AND u.id IN (SELECT r.user_id FROM user_site_roles r WHERE r.role_name IN (");
        let mut sep = qb.separated(", ");
        for r in &q.roles {
            sep.push_bind(r.clone());
        }
        qb.push("))");
    }
    // A user never seen counts as seen at the beginning of time, as Coder's zero time does.
    if let Some(t) = q.last_seen_before {
        qb.push(" AND COALESCE(u.last_seen_at, 0) < ").push_bind(micros(t));
    }
    if let Some(t) = q.last_seen_after {
        qb.push(" AND COALESCE(u.last_seen_at, 0) > ").push_bind(micros(t));
    }
    if let Some(t) = q.created_before {
        qb.push(" AND u.created_at < ").push_bind(micros(t));
    }
    if let Some(t) = q.created_after {
        qb.push(" AND u.created_at > ").push_bind(micros(t));
    }
}

fn push_page<DB>(qb: &mut QueryBuilder<DB>, page: Page)
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    // SQLite needs a LIMIT before OFFSET; -1 means "no limit" there, and PostgreSQL takes
    // `LIMIT ALL` — so an unbounded page is written as a large limit both accept.
    qb.push(" LIMIT ").push_bind(page.limit.unwrap_or(i64::MAX));
    qb.push(" OFFSET ").push_bind(page.offset);
}

/// The cursor, as Coder's: usernames sorting after the `after` user's (none if it is gone).
fn push_user_after<DB>(qb: &mut QueryBuilder<DB>, after: Option<UserId>)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    if let Some(after) = after {
        qb.push(" AND lower(u.username) > (SELECT lower(a.username) FROM users a WHERE a.id = ")
            .push_bind(after.to_string())
            .push(")");
    }
}

/// `GET /users`: live users matching `q` that the caller may read, by username; with `after`,
/// only those after that user.
pub async fn users(
    db: impl Into<Db<'_>>,
    q: &UserQuery,
    authz: &TypedFilter<Users>,
    page: Page,
    after: Option<UserId>,
) -> Result<Listed<User>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(USER_SELECT);
        push_user_query(&mut qb, q, authz);
        push_user_after(&mut qb, after);
        qb.push(" ORDER BY lower(u.username), u.id");
        push_page(&mut qb, page);
        let rows = qb.build_query_as::<User>().fetch_all(&mut *c).await?;
        let mut count = QueryBuilder::new(USER_COUNT);
        push_user_query(&mut count, q, authz);
        push_user_after(&mut count, after);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(Listed { rows, count })
    })
}

const AUDIT_SELECT: &str = "SELECT a.id, a.time, a.user_id, a.organization_id, a.ip, \
     a.user_agent, a.resource_type, a.resource_id, a.resource_target, a.action, a.diff, \
     a.status_code, a.request_id, a.additional_fields FROM audit_logs a \
     LEFT JOIN users u ON u.id = a.user_id WHERE ";
const AUDIT_COUNT: &str =
    "SELECT COUNT(*) FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id WHERE ";

/// The audit filter with the org already resolved to an id.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub query: AuditQuery,
    pub organization_id: Option<String>,
}

fn push_audit_query<DB>(qb: &mut QueryBuilder<DB>, f: &AuditFilter, authz: &ListFilter)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    push_filter(qb, authz, &AUDIT_COLUMNS);
    let q = &f.query;
    let eq = |qb: &mut QueryBuilder<DB>, column: &str, v: &Option<String>| {
        if let Some(v) = v {
            qb.push(format_args!(" AND {column} = ")).push_bind(v.clone());
        }
    };
    eq(qb, "a.resource_type", &q.resource_type);
    eq(qb, "a.resource_id", &q.resource_id.map(|u| u.to_string()));
    eq(qb, "a.action", &q.action);
    eq(qb, "a.organization_id", &f.organization_id);
    eq(qb, "a.request_id", &q.request_id.map(|u| u.to_string()));
    if let Some(t) = &q.resource_target {
        qb.push(" AND lower(a.resource_target) = ").push_bind(t.to_lowercase());
    }
    if let Some(u) = &q.username {
        qb.push(" AND lower(u.username) = ").push_bind(u.to_lowercase());
    }
    if let Some(e) = &q.email {
        qb.push(" AND lower(u.email) = ").push_bind(e.to_lowercase());
    }
    if let Some(t) = q.date_from {
        qb.push(" AND a.time >= ").push_bind(micros(t));
    }
    if let Some(t) = q.date_to {
        qb.push(" AND a.time < ").push_bind(micros(t));
    }
}

/// `GET /audit`: rows the caller may read, newest first.
pub async fn audit_logs(
    db: impl Into<Db<'_>>,
    f: &AuditFilter,
    authz: &TypedFilter<AuditLogs>,
    page: Page,
) -> Result<Listed<AuditLog>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(AUDIT_SELECT);
        push_audit_query(&mut qb, f, authz);
        qb.push(" ORDER BY a.time DESC, a.id DESC");
        push_page(&mut qb, page);
        let rows = qb.build_query_as::<AuditLog>().fetch_all(&mut *c).await?;
        let mut count = QueryBuilder::new(AUDIT_COUNT);
        push_audit_query(&mut count, f, authz);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(Listed { rows, count })
    })
}

/// The objects whose authorized lists the store answers, with their table and how their
/// columns map to engine objects (rbac.md §2's row → object table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listable {
    Workspaces,
    Templates,
    Users,
    Groups,
    Organizations,
    OrganizationMembers,
    AuditLogs,
}

impl Listable {
    pub const ALL: [Listable; 7] = [
        Listable::Workspaces,
        Listable::Templates,
        Listable::Users,
        Listable::Groups,
        Listable::Organizations,
        Listable::OrganizationMembers,
        Listable::AuditLogs,
    ];

    /// The engine resource type rows of this table are checked as.
    pub const fn resource_type(self) -> atrium_engine::ResourceType {
        use atrium_engine::ResourceType as R;
        match self {
            Listable::Workspaces => R::Workspace,
            Listable::Templates => R::Template,
            Listable::Users => R::User,
            Listable::Groups => R::Group,
            Listable::Organizations => R::Organization,
            Listable::OrganizationMembers => R::OrganizationMember,
            Listable::AuditLogs => R::AuditLog,
        }
    }

    /// `FROM` clause (with the alias the columns use) and the live-rows condition.
    fn from(self) -> (&'static str, &'static str) {
        match self {
            Listable::Workspaces => ("workspaces w", "NOT w.deleted"),
            Listable::Templates => ("templates t", "NOT t.deleted"),
            Listable::Users => ("users u", "NOT u.deleted"),
            Listable::Groups => ("groups g", "1 = 1"),
            Listable::Organizations => ("organizations o", "1 = 1"),
            Listable::OrganizationMembers => ("organization_members m", "1 = 1"),
            Listable::AuditLogs => ("audit_logs a", "1 = 1"),
        }
    }

    /// Column mapping for [`push_filter`].
    pub fn columns(self) -> AuthzColumns {
        use crate::authz_sql::{AclTable, GroupAcl};
        match self {
            Listable::Workspaces => AuthzColumns {
                id: "w.id",
                org: Some("w.org_id"),
                owner: Some("w.owner_id"),
                user_acl: Some(AclTable {
                    table: "workspace_acl_users",
                    fk: "workspace_id",
                    key: "user_id",
                }),
                group_acl: Some(GroupAcl::Table(AclTable {
                    table: "workspace_acl_groups",
                    fk: "workspace_id",
                    key: "group_id",
                })),
            },
            Listable::Templates => AuthzColumns {
                id: "t.id",
                org: Some("t.org_id"),
                owner: None,
                user_acl: Some(AclTable {
                    table: "template_acl_users",
                    fk: "template_id",
                    key: "user_id",
                }),
                group_acl: Some(GroupAcl::Table(AclTable {
                    table: "template_acl_groups",
                    fk: "template_id",
                    key: "group_id",
                })),
            },
            Listable::Users => USER_COLUMNS,
            Listable::Groups => AuthzColumns {
                id: "g.id",
                org: Some("g.org_id"),
                owner: None,
                user_acl: None,
                group_acl: Some(GroupAcl::OwnIdReads),
            },
            Listable::Organizations => AuthzColumns {
                id: "o.id",
                org: Some("o.id"),
                owner: None,
                user_acl: None,
                group_acl: None,
            },
            Listable::OrganizationMembers => AuthzColumns {
                id: "m.user_id",
                org: Some("m.org_id"),
                owner: Some("m.user_id"),
                user_acl: None,
                group_acl: None,
            },
            Listable::AuditLogs => AUDIT_COLUMNS,
        }
    }

    /// The id column rows are listed by (for members, `org_id:user_id` is not needed: tests
    /// compare pairs through [`Listable::key_sql`]).
    fn key_sql(self) -> &'static str {
        match self {
            Listable::OrganizationMembers => "m.org_id || ':' || m.user_id",
            _ => self.columns().id,
        }
    }
}

/// An engine listable resource ([`atrium_engine::Listable`]) and the table its rows live in.
pub trait ListedTable: atrium_engine::Listable {
    const TABLE: Listable;
}

macro_rules! listed_tables {
    ($($marker:ident,)*) => {$(
        impl ListedTable for $marker {
            const TABLE: Listable = Listable::$marker;
        }
        // The table's rows are checked as the marker's type.
        const _: () = assert!(
            Listable::$marker.resource_type() as usize
                == <$marker as atrium_engine::Listable>::TYPE as usize
        );
    )*};
}

listed_tables! {
    Workspaces,
    Templates,
    Users,
    Groups,
    Organizations,
    OrganizationMembers,
    AuditLogs,
}

/// The keys of every live row of `R`'s table the filter admits, sorted: the authorized list
/// with no other condition. Used by the differential tests and the list benchmarks; endpoint
/// lists add their own conditions, paging and ordering.
pub async fn authorized_keys<R: ListedTable>(
    db: impl Into<Db<'_>>,
    authz: &TypedFilter<R>,
) -> Result<Vec<String>, StoreError> {
    let (table, authz) = (R::TABLE, authz.filter());
    let (from, live) = table.from();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(format_args!("{} FROM {from} WHERE {live} AND ", table.key_sql()));
        push_filter(&mut qb, authz, &table.columns());
        qb.push(" ORDER BY 1");
        Ok(qb.build_query_scalar::<String>().fetch_all(&mut *c).await?)
    })
}

/// The SQL text [`authorized_keys`] runs, for plans in docs and tests.
pub fn authorized_keys_sql<R: ListedTable>(authz: &TypedFilter<R>) -> String {
    let (table, authz) = (R::TABLE, authz.filter());
    let (from, live) = table.from();
    let mut qb: QueryBuilder<sqlx::Postgres> = QueryBuilder::new("SELECT ");
    qb.push(format_args!("{} FROM {from} WHERE {live} AND ", table.key_sql()));
    push_filter(&mut qb, authz, &table.columns());
    qb.into_string()
}

/// `GET /organizations`: the orgs the caller may read, by name.
pub async fn organizations(
    db: impl Into<Db<'_>>,
    authz: &TypedFilter<Organizations>,
) -> Result<Vec<crate::orgs::Organization>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(
            "SELECT o.id, o.name, o.display_name, o.description, o.icon, o.is_default, \
             o.created_at, o.updated_at FROM organizations o WHERE ",
        );
        push_filter(&mut qb, authz, &Listable::Organizations.columns());
        qb.push(" ORDER BY lower(o.name)");
        Ok(qb.build_query_as::<crate::orgs::Organization>().fetch_all(&mut *c).await?)
    })
}

/// `GET /organizations/{org}/members`: the members of `org` the caller may read, by username,
/// with a count (roles are filled in by [`crate::orgs::get_member_roles`]).
pub async fn org_members(
    db: impl Into<Db<'_>>,
    org: crate::id::OrgId,
    authz: &TypedFilter<OrganizationMembers>,
    page: Page,
) -> Result<Listed<crate::orgs::Member>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        // Defined per backend arm: the closure is monomorphic.
        let push_where = |qb: &mut QueryBuilder<_>| {
            qb.push(" WHERE m.org_id = ").push_bind(org.to_string());
            qb.push(" AND ");
            push_filter(qb, authz, &Listable::OrganizationMembers.columns());
        };
        let mut qb = QueryBuilder::new(
            "SELECT m.org_id, m.user_id, m.created_at, m.updated_at FROM organization_members m \
             JOIN users u ON u.id = m.user_id",
        );
        push_where(&mut qb);
        qb.push(" ORDER BY lower(u.username), u.id");
        push_page(&mut qb, page);
        let rows = qb.build_query_as::<crate::orgs::Member>().fetch_all(&mut *c).await?;
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM organization_members m");
        push_where(&mut count);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(Listed { rows, count })
    })
}

/// Groups of `org` the caller may read (the implicit Everyone group is not a row; callers add
/// it), by name.
pub async fn groups(
    db: impl Into<Db<'_>>,
    org: crate::id::OrgId,
    authz: &TypedFilter<Groups>,
) -> Result<Vec<crate::groups::Group>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(
            "SELECT g.id, g.org_id, g.name, g.display_name, g.avatar_url, g.quota_allowance, \
             g.source, g.created_at, g.updated_at FROM groups g WHERE g.org_id = ",
        );
        qb.push_bind(org.to_string()).push(" AND ");
        push_filter(&mut qb, authz, &Listable::Groups.columns());
        qb.push(" ORDER BY lower(g.name)");
        Ok(qb.build_query_as::<crate::groups::Group>().fetch_all(&mut *c).await?)
    })
}

/// The conditions of `GET /templates?q=` (coder-api.md §2.4) the store answers, besides the
/// org and the caller's filter. Matches ignore case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateQuery {
    /// Free text: a substring of the display name or the name.
    pub search: Option<String>,
    /// A substring of the name.
    pub name: Option<String>,
    /// The whole name.
    pub exact_name: Option<String>,
    /// A substring of the display name.
    pub display_name: Option<String>,
    /// Only these templates (empty: any).
    pub ids: Vec<crate::id::TemplateId>,
}

const TEMPLATE_SELECT: &str = "SELECT t.id, t.org_id, t.name, t.display_name, t.description, \
     t.icon, t.active_version_id, t.created_by, t.created_at, t.updated_at, t.deleted \
     FROM templates t WHERE NOT t.deleted AND ";
const TEMPLATE_COUNT: &str = "SELECT COUNT(*) FROM templates t WHERE NOT t.deleted AND ";

fn push_template_query<DB>(
    qb: &mut QueryBuilder<DB>,
    org: Option<crate::id::OrgId>,
    q: &TemplateQuery,
    authz: &ListFilter,
) where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    push_filter(qb, authz, &Listable::Templates.columns());
    if let Some(org) = org {
        qb.push(" AND t.org_id = ").push_bind(org.to_string());
    }
    if let Some(search) = &q.search {
        let pattern = like(search);
        qb.push(" AND (lower(t.display_name) LIKE ").push_bind(pattern.clone());
        qb.push(" ESCAPE '\\' OR lower(t.name) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
    }
    if let Some(name) = &q.name {
        qb.push(" AND lower(t.name) LIKE ").push_bind(like(name)).push(" ESCAPE '\\'");
    }
    if let Some(name) = &q.exact_name {
        qb.push(" AND lower(t.name) = ").push_bind(name.to_lowercase());
    }
    if let Some(name) = &q.display_name {
        qb.push(" AND lower(t.display_name) LIKE ").push_bind(like(name)).push(" ESCAPE '\\'");
    }
    if !q.ids.is_empty() {
        let ids: Vec<String> = q.ids.iter().map(ToString::to_string).collect();
        push_in(qb, "t.id", &ids);
    }
}

/// `GET /templates` and `GET /organizations/{org}/templates`: live templates (of `org`, if
/// given) matching `q` that the caller's filter admits — the template ACL included, so an
/// Everyone `use` entry lists the template for every member of its org — by name.
pub async fn templates(
    db: impl Into<Db<'_>>,
    org: Option<crate::id::OrgId>,
    q: &TemplateQuery,
    authz: &TypedFilter<Templates>,
    page: Page,
) -> Result<Listed<crate::templates::Template>, StoreError> {
    let authz = authz.filter();
    let mut conn = db.into().conn().await?;
    on_conn!(conn, |c| {
        let mut qb = QueryBuilder::new(TEMPLATE_SELECT);
        push_template_query(&mut qb, org, q, authz);
        qb.push(" ORDER BY lower(t.name), t.id");
        push_page(&mut qb, page);
        let rows = qb.build_query_as::<crate::templates::Template>().fetch_all(&mut *c).await?;
        let mut count = QueryBuilder::new(TEMPLATE_COUNT);
        push_template_query(&mut count, org, q, authz);
        let count: i64 = count.build_query_scalar().fetch_one(&mut *c).await?;
        Ok(Listed { rows, count })
    })
}
