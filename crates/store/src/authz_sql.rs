//! Turning the engine's residual [`ListFilter`] into an indexed SQL `WHERE` fragment, the same
//! text on SQLite and PostgreSQL (rbac.md §8).
//!
//! Shape: `scope AND ((org IN A) OR (owner = me AND COALESCE(org IN M\D, TRUE)) OR (id IN
//! (user-ACL ids)) OR (org IN M AND id IN (group-ACL ids)) OR ((id, org) IN (Everyone-ACL
//! pairs)))`. Every disjunct ([`Term`]) is a plain column test or an uncorrelated
//! `IN (SELECT ...)` over an ACL table keyed by user or group id, so the planner can drive each
//! from an index; ACL action sets are integer bitmasks, so no JSON is probed. A list that must
//! stop early in a sort order (a page) can instead run each disjunct as its own branch
//! ([`push_branch`]) and UNION the branches: one OR over an index scan in name order is cheap
//! only when many rows match, and planners misjudge the ORed `IN (SELECT ...)`s.
//!
//! The compiler is crate-private and takes the untyped filter: the store's list queries
//! ([`crate::lists`], [`crate::workspace_list`]) take a
//! [`TypedFilter`](atrium_engine::TypedFilter) of their resource and hand its inner filter here,
//! so no caller can run a list under a filter computed for another type.

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

/// One disjunct of the residual predicate. [`push_filter`] ORs the [`terms`] that apply; a list
/// that reads each disjunct from its own index runs [`branches`] and UNIONs them
/// ([`push_branch`], used by `workspace_list`'s pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// `org IN A`: rows of the orgs voting allow.
    OrgIn,
    /// `owner = me AND (org IS NULL OR org IN M\D)`.
    Owned,
    /// The user ACL grants the action to the subject.
    UserAcl,
    /// In a member org, the group ACL grants the action to one of the subject's groups.
    GroupAcl,
    /// The group ACL grants the action to the Everyone group of the row's own org, a member org
    /// (the Everyone group's id is the org id).
    EveryoneAcl,
    /// Groups carry `{<own id>: [read]}`: members of a group may read it, members of an org its
    /// Everyone group (rbac.md §7.3).
    OwnIdReads,
}

/// The disjuncts of `filter` that `cols` can express, in [`push_filter`]'s order. Meaningful
/// only when the filter is neither never nor `all`; empty means no row matches.
pub(crate) fn terms(filter: &ListFilter, cols: &AuthzColumns) -> Vec<Term> {
    let mut terms = Vec::new();
    if cols.org.is_some() && !filter.org_in.is_empty() {
        terms.push(Term::OrgIn);
    }
    if filter.owned.is_some() && cols.owner.is_some() {
        terms.push(Term::Owned);
    }
    if filter.acl_user.is_some() && cols.user_acl.is_some() {
        terms.push(Term::UserAcl);
    }
    if let (Some(rule), Some(_), Some(group_acl)) = (&filter.acl_groups, cols.org, cols.group_acl) {
        match group_acl {
            GroupAcl::Table(_) => {
                if !rule.groups.is_empty() {
                    terms.push(Term::GroupAcl);
                }
                terms.push(Term::EveryoneAcl);
            }
            GroupAcl::OwnIdReads => {
                if filter.action == atrium_engine::Action::Read {
                    terms.push(Term::OwnIdReads);
                }
            }
        }
    }
    terms
}

/// The scope's allow list, `<id> IN (...) AND `, when the scope has one.
pub(crate) fn push_scope<DB>(qb: &mut QueryBuilder<DB>, filter: &ListFilter, cols: &AuthzColumns)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    if let Some(ids) = &filter.id_in {
        qb.push(format_args!("{} IN ", cols.id));
        push_ids(qb, ids);
        qb.push(" AND ");
    }
}

/// Signed because both backends store the mask as a 32-bit INTEGER; it fits (17 bits).
fn acl_bits(filter: &ListFilter) -> i32 {
    i32::try_from(filter.acl_bits()).unwrap_or(i32::MAX)
}

/// Appends one disjunct, parenthesised. Terms that [`terms`] would not list for this filter and
/// these columns push `(1 = 0)`.
pub(crate) fn push_term<DB>(
    qb: &mut QueryBuilder<DB>,
    filter: &ListFilter,
    cols: &AuthzColumns,
    term: Term,
) where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    let bits = acl_bits(filter);
    let group_rule = filter.acl_groups.as_ref().zip(cols.org);
    match term {
        Term::OrgIn => match cols.org {
            Some(org) if !filter.org_in.is_empty() => {
                qb.push(format_args!("({org} IN "));
                push_ids(qb, &filter.org_in);
                qb.push(")");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
        Term::Owned => match (&filter.owned, cols.owner) {
            (Some(rule), Some(owner)) => {
                qb.push(format_args!("({owner} = "));
                qb.push_bind(rule.owner.to_string());
                // `COALESCE(org IN (...), TRUE)` is `org IS NULL OR org IN (...)` (a NULL org
                // makes the IN NULL) that no planner turns into an index scan of the org: the
                // owner's index finds the rows, PostgreSQL otherwise ANDed it with a bitmap of
                // every row of the org.
                if let Some(org) = cols.org {
                    if rule.orgs.is_empty() {
                        qb.push(format_args!(" AND {org} IS NULL"));
                    } else {
                        qb.push(format_args!(" AND COALESCE({org} IN "));
                        push_ids(qb, &rule.orgs);
                        qb.push(", TRUE)");
                    }
                }
                qb.push(")");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
        Term::UserAcl => match (filter.acl_user, cols.user_acl) {
            (Some(me), Some(acl)) => {
                qb.push(format_args!("({} IN ", cols.id));
                push_acl_ids(qb, acl, &[me], bits);
                qb.push(")");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
        Term::GroupAcl => match (group_rule, cols.group_acl) {
            (Some((rule, org)), Some(GroupAcl::Table(acl))) if !rule.groups.is_empty() => {
                qb.push(format_args!("({org} IN "));
                push_ids(qb, &rule.member_orgs);
                qb.push(format_args!(" AND {} IN ", cols.id));
                push_acl_ids(qb, acl, &rule.groups, bits);
                qb.push(")");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
        // The pair test alone implies the org is a member org: the entry's key is one.
        Term::EveryoneAcl => match (group_rule, cols.group_acl) {
            (Some((rule, org)), Some(GroupAcl::Table(acl))) => {
                qb.push(format_args!(
                    "(({}, {org}) IN (SELECT {}, {} FROM {} WHERE {} IN ",
                    cols.id, acl.fk, acl.key, acl.table, acl.key
                ));
                push_ids(qb, &rule.member_orgs);
                qb.push(format_args!(" AND ({}.actions & ", acl.table));
                qb.push_bind(bits);
                qb.push(") <> 0))");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
        // The entry is `{<row id>: [read]}`; for the Everyone group the row id is the org id, so
        // members of the org match through the Everyone rule.
        Term::OwnIdReads => match (group_rule, cols.group_acl) {
            (Some((rule, org)), Some(GroupAcl::OwnIdReads))
                if filter.action == atrium_engine::Action::Read =>
            {
                qb.push(format_args!("({org} IN "));
                push_ids(qb, &rule.member_orgs);
                qb.push(format_args!(" AND ({} = {org}", cols.id));
                if !rule.groups.is_empty() {
                    qb.push(format_args!(" OR {} IN ", cols.id));
                    push_ids(qb, &rule.groups);
                }
                qb.push("))");
            }
            _ => {
                qb.push("(1 = 0)");
            }
        },
    }
}

/// One branch of a UNION-shaped list: the rows of one or more disjuncts, read from their own
/// index (see [`branches`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    /// The rows one term admits, filtered with [`push_term`].
    Term(Term),
    /// [`Term::GroupAcl`] and [`Term::EveryoneAcl`] together: one pass over the group-ACL
    /// entries keyed by the subject's groups and member orgs, joined to the rows they name.
    GroupAcls,
}

/// The branches that together admit exactly the rows [`push_filter`] does (when the filter is
/// neither never nor `all`): one per term, except that a table's group and Everyone ACLs are
/// read together.
pub(crate) fn branches(filter: &ListFilter, cols: &AuthzColumns) -> Vec<Branch> {
    terms(filter, cols)
        .into_iter()
        .filter(|t| *t != Term::GroupAcl)
        .map(|t| if t == Term::EveryoneAcl { Branch::GroupAcls } else { Branch::Term(t) })
        .collect()
}

/// One branch as a query: `SELECT [DISTINCT] <select> FROM ... WHERE <scope><branch>`, naming the
/// listed table as `table` (e.g. `workspaces w`, matching `cols`); the caller may append
/// ` AND ...`, an order and a limit.
///
/// The group ACLs read the entries keyed by the member orgs (and the subject's groups) and
/// join the rows they name. Keyed by orgs only, each entry must be the row's own org's
/// Everyone group (the join is on id and org; one entry per row and key, so no duplicates);
/// with groups, a row matches through a group entry in a member org or its own org's entry,
/// and `DISTINCT` drops rows named by several entries.
pub(crate) fn push_branch<DB>(
    qb: &mut QueryBuilder<DB>,
    select: &str,
    filter: &ListFilter,
    cols: &AuthzColumns,
    branch: Branch,
    table: &str,
) where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i32: Encode<'t, DB> + Type<DB>,
{
    let term = match branch {
        Branch::Term(term) => term,
        Branch::GroupAcls => match (filter.acl_groups.as_ref().zip(cols.org), cols.group_acl) {
            (Some((rule, org)), Some(GroupAcl::Table(acl))) => {
                let (id, fk, key) = (cols.id, acl.fk, acl.key);
                if rule.groups.is_empty() {
                    qb.push(format_args!(
                        "SELECT {select} FROM {} ev JOIN {table} ON {id} = ev.{fk} \
                         AND {org} = ev.{key} WHERE ",
                        acl.table
                    ));
                    push_scope(qb, filter, cols);
                    qb.push(format_args!("ev.{key} IN "));
                    push_ids(qb, &rule.member_orgs);
                } else {
                    qb.push(format_args!(
                        "SELECT DISTINCT {select} FROM {} ev JOIN {table} ON {id} = ev.{fk} WHERE ",
                        acl.table
                    ));
                    push_scope(qb, filter, cols);
                    qb.push(format_args!("ev.{key} IN "));
                    let mut keys = rule.groups.clone();
                    keys.extend(&rule.member_orgs);
                    push_ids(qb, &keys);
                    qb.push(format_args!(" AND {org} IN "));
                    push_ids(qb, &rule.member_orgs);
                    qb.push(format_args!(" AND (ev.{key} IN "));
                    push_ids(qb, &rule.groups);
                    qb.push(format_args!(" OR ev.{key} = {org})"));
                }
                qb.push(" AND (ev.actions & ");
                qb.push_bind(acl_bits(filter));
                qb.push(") <> 0");
                return;
            }
            _ => Term::EveryoneAcl,
        },
    };
    qb.push(format_args!("SELECT {select} FROM {table} WHERE "));
    push_scope(qb, filter, cols);
    push_term(qb, filter, cols, term);
}

/// Appends a parenthesised boolean expression that holds exactly for the rows `filter` admits:
/// the scope's allow list AND the OR of the [`terms`].
pub(crate) fn push_filter<DB>(qb: &mut QueryBuilder<DB>, filter: &ListFilter, cols: &AuthzColumns)
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
    push_scope(qb, filter, cols);
    if filter.all {
        qb.push("1 = 1)");
        return;
    }
    let terms = terms(filter, cols);
    if terms.is_empty() {
        qb.push("1 = 0)");
        return;
    }
    qb.push("(");
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        push_term(qb, filter, cols, *term);
    }
    qb.push("))");
}
