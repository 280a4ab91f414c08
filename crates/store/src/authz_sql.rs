//! Turning the engine's residual [`ListFilter`] into an indexed SQL `WHERE` fragment, the same
//! text on SQLite and PostgreSQL (rbac.md §8).
//!
//! Shape: `scope AND (org IN A OR (owner = me AND (org IS NULL OR org IN M\D)) OR id IN
//! (user-ACL ids) OR (org IN M AND (id IN (group-ACL ids) OR (id, org) IN (Everyone-ACL
//! pairs))))`. Every disjunct is a plain column test or an uncorrelated `IN (SELECT ...)` over
//! an ACL table keyed by user or group id, so the planner can drive each from an index; ACL
//! action sets are integer bitmasks, so no JSON is probed.

use atrium_engine::ListFilter;
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

/// Where an ACL lives: a table `(fk, user_id | group_id, actions)`.
#[derive(Clone, Copy, Debug)]
pub struct AclTable {
    pub table: &'static str,
    /// Column referencing the listed row's id.
    pub fk: &'static str,
    /// `user_id` or `group_id`.
    pub key: &'static str,
}

/// How a listed table maps to engine objects. Columns are qualified SQL expressions.
#[derive(Clone, Copy, Debug)]
pub struct AuthzColumns {
    pub id: &'static str,
    /// `None`: rows never belong to an org (users, files, API keys).
    pub org: Option<&'static str>,
    /// `None`: rows have no owning user (templates, groups, orgs).
    pub owner: Option<&'static str>,
    pub user_acl: Option<AclTable>,
    pub group_acl: Option<GroupAcl>,
}

/// The group-ACL source of a table.
#[derive(Clone, Copy, Debug)]
pub enum GroupAcl {
    Table(AclTable),
    /// Groups carry `{<own id>: [read]}`: members of a group may read it (rbac.md §7.3).
    OwnIdReads,
}

fn push_ids<DB>(qb: &mut QueryBuilder<DB>, ids: &[Uuid])
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    qb.push("(");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.to_string());
    }
    qb.push(")");
}

fn push_acl_ids<DB>(qb: &mut QueryBuilder<DB>, acl: AclTable, keys: &[Uuid], bits: i32)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    qb.push(format_args!("(SELECT {} FROM {} WHERE {} IN ", acl.fk, acl.table, acl.key));
    push_ids(qb, keys);
    qb.push(format_args!(" AND ({}.actions & ", acl.table));
    qb.push_bind(bits);
    qb.push(") <> 0)");
}

/// Appends a parenthesised boolean expression that holds exactly for the rows `filter` admits.
pub fn push_filter<DB>(qb: &mut QueryBuilder<DB>, filter: &ListFilter, cols: &AuthzColumns)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    if filter.is_never() {
        qb.push("(1 = 0)");
        return;
    }
    qb.push("(");
    if let Some(ids) = &filter.id_in {
        qb.push(format_args!("{} IN ", cols.id));
        push_ids(qb, ids);
        qb.push(" AND ");
    }
    if filter.all {
        qb.push("1 = 1)");
        return;
    }
    // Signed because both backends store the mask as a 32-bit INTEGER; it fits (17 bits).
    let bits = i32::try_from(filter.acl_bits()).unwrap_or(i32::MAX);
    let mut terms = 0usize;
    let mut or = |qb: &mut QueryBuilder<DB>| {
        qb.push(if terms == 0 { "(" } else { " OR " });
        terms += 1;
    };
    if let Some(org) = cols.org
        && !filter.org_in.is_empty()
    {
        or(qb);
        qb.push(format_args!("{org} IN "));
        push_ids(qb, &filter.org_in);
    }
    if let (Some(rule), Some(owner)) = (&filter.owned, cols.owner) {
        or(qb);
        qb.push(format_args!("({owner} = "));
        qb.push_bind(rule.owner.to_string());
        if let Some(org) = cols.org {
            qb.push(format_args!(" AND ({org} IS NULL"));
            if !rule.orgs.is_empty() {
                qb.push(format_args!(" OR {org} IN "));
                push_ids(qb, &rule.orgs);
            }
            qb.push(")");
        }
        qb.push(")");
    }
    if let (Some(me), Some(acl)) = (filter.acl_user, cols.user_acl) {
        or(qb);
        qb.push(format_args!("{} IN ", cols.id));
        push_acl_ids(qb, acl, &[me], bits);
    }
    if let (Some(rule), Some(org), Some(group_acl)) = (&filter.acl_groups, cols.org, cols.group_acl)
    {
        match group_acl {
            GroupAcl::Table(acl) => {
                or(qb);
                qb.push(format_args!("({org} IN "));
                push_ids(qb, &rule.member_orgs);
                qb.push(" AND (");
                if !rule.groups.is_empty() {
                    qb.push(format_args!("{} IN ", cols.id));
                    push_acl_ids(qb, acl, &rule.groups, bits);
                    qb.push(" OR ");
                }
                // The Everyone group's id is the org id: an entry keyed by the row's own org.
                qb.push(format_args!(
                    "({}, {org}) IN (SELECT {}, {} FROM {} WHERE {} IN ",
                    cols.id, acl.fk, acl.key, acl.table, acl.key
                ));
                push_ids(qb, &rule.member_orgs);
                qb.push(format_args!(" AND ({}.actions & ", acl.table));
                qb.push_bind(bits);
                qb.push(") <> 0)))");
            }
            GroupAcl::OwnIdReads => {
                // The entry is `{<row id>: [read]}`; for the Everyone group the row id is the org
                // id, so members of the org match through the Everyone rule.
                if filter.action == atrium_engine::Action::Read {
                    or(qb);
                    qb.push(format_args!("({org} IN "));
                    push_ids(qb, &rule.member_orgs);
                    qb.push(format_args!(" AND ({} = {org}", cols.id));
                    if !rule.groups.is_empty() {
                        qb.push(format_args!(" OR {} IN ", cols.id));
                        push_ids(qb, &rule.groups);
                    }
                    qb.push("))");
                }
            }
        }
    }
    if terms == 0 {
        qb.push("1 = 0)");
    } else {
        qb.push("))");
    }
}
