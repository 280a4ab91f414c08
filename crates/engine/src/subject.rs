//! Subjects compiled once into per-level vote tables, so a check is a few loads and one
//! binary search, with no allocation (rbac.md §1.3).

use uuid::Uuid;

use crate::resource::{Action, ResourceType, Wild};
use crate::role::{Permission, Role};

/// One level's vote for one (type, action) (rbac.md §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    /// At least one matching negative permission.
    Deny,
    /// No matching permission.
    Abstain,
    /// Only positive matching permissions.
    Allow,
}

/// Per-type bitmasks of allowed and denied actions for one level, pooled over all roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Votes {
    allow: [u16; ResourceType::COUNT],
    deny: [u16; ResourceType::COUNT],
}

impl Default for Votes {
    fn default() -> Self {
        Votes { allow: [0; ResourceType::COUNT], deny: [0; ResourceType::COUNT] }
    }
}

impl Votes {
    pub(crate) fn add(&mut self, p: &Permission) {
        let bits = match p.action {
            Wild::Any => u16::MAX,
            Wild::Is(a) => 1 << a as u16,
        };
        let table = if p.negate { &mut self.deny } else { &mut self.allow };
        match p.resource_type {
            Wild::Any => table.iter_mut().for_each(|m| *m |= bits),
            Wild::Is(t) => table[t.index()] |= bits,
        }
    }

    pub(crate) fn from_permissions<'a>(perms: impl IntoIterator<Item = &'a Permission>) -> Self {
        let mut votes = Votes::default();
        perms.into_iter().for_each(|p| votes.add(p));
        votes
    }

    #[inline]
    pub(crate) fn vote(&self, t: ResourceType, a: Action) -> Vote {
        let bit = 1u16 << a as u16;
        let i = t.index();
        if self.deny[i] & bit != 0 {
            Vote::Deny
        } else if self.allow[i] & bit != 0 {
            Vote::Allow
        } else {
            Vote::Abstain
        }
    }
}

/// The built-in API-key scopes (rbac.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopeName {
    /// `*` on `*`.
    All,
    /// `workspace: application_connect` only.
    ApplicationConnect,
    /// `*` on every type but `user` (agents of templates that block user data).
    NoUserData,
}

impl ScopeName {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeName::All => "all",
            ScopeName::ApplicationConnect => "application_connect",
            ScopeName::NoUserData => "no_user_data",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [ScopeName::All, ScopeName::ApplicationConnect, ScopeName::NoUserData]
            .into_iter()
            .find(|n| n.as_str() == s)
    }
    /// The scope's (site-only) permissions.
    pub fn permissions(self) -> Vec<Permission> {
        match self {
            ScopeName::All => {
                vec![Permission { negate: false, resource_type: Wild::Any, action: Wild::Any }]
            }
            ScopeName::ApplicationConnect => {
                vec![Permission::allow(ResourceType::Workspace, Action::ApplicationConnect)]
            }
            ScopeName::NoUserData => ResourceType::ALL
                .iter()
                .filter(|t| **t != ResourceType::User)
                .map(|t| Permission::allow_all(*t))
                .collect(),
        }
    }
}

/// A scope: a site-only role plus an allow list of object ids (`None` = `["*"]`).
/// The workspace-agent scope is `All` or `NoUserData` with the agent's four ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub name: ScopeName,
    pub allow_list: Option<Vec<Uuid>>,
}

impl Scope {
    /// The unrestricted scope of normal sessions.
    pub const ALL: Scope = Scope { name: ScopeName::All, allow_list: None };

    /// A scope with the `*` allow list.
    pub const fn named(name: ScopeName) -> Scope {
        Scope { name, allow_list: None }
    }
}

/// A subject compiled for checks: who, their pooled per-level votes, member orgs, groups, scope.
///
/// INVARIANT(sorted-ids): `org_ids` and `groups` are sorted and free of duplicates, so lookups
/// are binary searches; `org_votes[i]` belongs to `org_ids[i]`.
#[derive(Clone, Debug)]
pub struct Subject {
    pub(crate) id: Uuid,
    pub(crate) site: Votes,
    pub(crate) user: Votes,
    pub(crate) org_ids: Vec<Uuid>,
    pub(crate) org_votes: Vec<Votes>,
    /// Allow bits of orgs that allow without denying, for `any_org` objects (rbac.md §1.6).
    pub(crate) any_org_allow: Votes,
    pub(crate) groups: Vec<Uuid>,
    pub(crate) scope: Scope,
    pub(crate) scope_votes: Votes,
    pub(crate) roles: Vec<Role>,
}

impl Subject {
    /// Compiles a subject from expanded roles. Roles are pooled per level; every org that a role
    /// names becomes a member org, even with no permissions (rbac.md §1.3).
    pub fn new(id: Uuid, roles: Vec<Role>, groups: Vec<Uuid>, scope: Scope) -> Self {
        let mut site = Votes::default();
        let mut user = Votes::default();
        let mut org_ids: Vec<Uuid> = roles.iter().filter_map(|r| r.org).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let mut org_votes = vec![Votes::default(); org_ids.len()];
        for role in &roles {
            role.site.iter().for_each(|p| site.add(p));
            role.user.iter().for_each(|p| user.add(p));
            if let Some(i) = role.org.and_then(|o| org_ids.binary_search(&o).ok()) {
                role.org_perms.iter().for_each(|p| org_votes[i].add(p));
            }
        }
        let mut any_org_allow = Votes::default();
        for votes in &org_votes {
            for i in 0..ResourceType::COUNT {
                any_org_allow.allow[i] |= votes.allow[i] & !votes.deny[i];
            }
        }
        let mut groups = groups;
        groups.sort_unstable();
        groups.dedup();
        let scope_votes = Votes::from_permissions(&scope.name.permissions());
        Subject {
            id,
            site,
            user,
            org_ids,
            org_votes,
            any_org_allow,
            groups,
            scope,
            scope_votes,
            roles,
        }
    }

    /// The subject's user id.
    pub fn id(&self) -> Uuid {
        self.id
    }
    /// The roles it was compiled from.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }
    /// Member orgs (rbac.md's `M`), sorted.
    pub fn member_orgs(&self) -> &[Uuid] {
        &self.org_ids
    }
    /// Group ids, sorted.
    pub fn groups(&self) -> &[Uuid] {
        &self.groups
    }
    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    #[inline]
    pub(crate) fn org_index(&self, org: Uuid) -> Option<usize> {
        // Most users belong to a handful of orgs; a linear scan beats binary search there.
        if self.org_ids.len() <= 8 {
            self.org_ids.iter().position(|o| *o == org)
        } else {
            self.org_ids.binary_search(&org).ok()
        }
    }

    #[inline]
    pub(crate) fn in_group(&self, group: Uuid) -> bool {
        if self.groups.len() <= 8 {
            self.groups.contains(&group)
        } else {
            self.groups.binary_search(&group).is_ok()
        }
    }

    /// The votes of one level, for explanations and filters.
    pub fn site_vote(&self, t: ResourceType, a: Action) -> Vote {
        self.site.vote(t, a)
    }
    /// The user-level vote (what it would be on an owned object).
    pub fn user_vote(&self, t: ResourceType, a: Action) -> Vote {
        self.user.vote(t, a)
    }
    /// The org-level vote in `org`; `None` when not a member.
    pub fn org_vote(&self, org: Uuid, t: ResourceType, a: Action) -> Option<Vote> {
        self.org_index(org).map(|i| self.org_votes[i].vote(t, a))
    }
    /// The scope's site vote.
    pub fn scope_vote(&self, t: ResourceType, a: Action) -> Vote {
        self.scope_votes.vote(t, a)
    }
}
