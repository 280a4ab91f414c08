//! Residual filters for list endpoints (rbac.md §8): for a fixed (subject, action, type), a
//! small predicate over a row's id / org / owner / ACL columns that holds exactly when
//! `authorize` would allow the row. The store compiles it to SQL; [`ListFilter::matches`]
//! evaluates it in memory (the property tests pin the two together). The store's lists take it
//! typed by the listed resource ([`crate::listable::TypedFilter`]).

use uuid::Uuid;

use crate::authorize::Object;
use crate::resource::{Action, ActionSet, ResourceType};
use crate::subject::{Subject, Vote};

/// Rows the subject may see: `scope AND (role_part OR acl_part)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListFilter {
    /// The action, for ACL bit tests.
    pub action: Action,
    /// The scope refuses the type/action: no row at all.
    pub never: bool,
    /// The scope's allow list: only rows with these ids (`None` = no restriction).
    pub id_in: Option<Vec<Uuid>>,
    /// The role path allows every row (a site-level allow).
    pub all: bool,
    /// Rows whose org is one of these (orgs voting allow), sorted.
    pub org_in: Vec<Uuid>,
    /// Rows the subject owns, when the user level allows.
    pub owned: Option<OwnedRule>,
    /// Rows whose user ACL grants the action to this user.
    pub acl_user: Option<Uuid>,
    /// Rows whose group ACL grants the action to one of the groups, or to the row's own org
    /// (its Everyone group), for rows in one of the member orgs.
    pub acl_groups: Option<GroupAclRule>,
}

/// `owner = me AND (org IS NULL OR org IN orgs)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRule {
    pub owner: Uuid,
    /// Member orgs that do not deny (M \ D), sorted.
    pub orgs: Vec<Uuid>,
}

/// Group-ACL rule; applies only to rows whose org is in `member_orgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAclRule {
    /// The subject's member orgs (M), sorted.
    pub member_orgs: Vec<Uuid>,
    /// The subject's groups, sorted.
    pub groups: Vec<Uuid>,
}

impl ListFilter {
    /// Whether no row can match.
    pub fn is_never(&self) -> bool {
        self.never
            || self.id_in.as_ref().is_some_and(Vec::is_empty)
            || (!self.all
                && self.org_in.is_empty()
                && self.owned.is_none()
                && self.acl_user.is_none()
                && self.acl_groups.is_none())
    }

    /// Whether every row matches.
    pub fn is_always(&self) -> bool {
        !self.never && self.id_in.is_none() && self.all
    }

    /// The ACL bits that grant the action (its own bit or `*`).
    pub fn acl_bits(&self) -> u32 {
        ActionSet::bit(self.action) | ActionSet::WILDCARD_BIT
    }

    /// Evaluates the predicate on one object (not `any_org`: lists never ask that).
    pub fn matches(&self, o: &Object<'_>) -> bool {
        if self.never {
            return false;
        }
        if let Some(ids) = &self.id_in
            && !o.id.is_some_and(|id| ids.contains(&id))
        {
            return false;
        }
        if self.all {
            return true;
        }
        if o.org.is_some_and(|org| self.org_in.binary_search(&org).is_ok()) {
            return true;
        }
        if let Some(rule) = &self.owned
            && o.owner == Some(rule.owner)
            && o.org.is_none_or(|org| rule.orgs.binary_search(&org).is_ok())
        {
            return true;
        }
        if let Some(me) = self.acl_user
            && o.acl_users.iter().any(|(u, set)| *u == me && set.grants(self.action))
        {
            return true;
        }
        if let (Some(rule), Some(org)) = (&self.acl_groups, o.org)
            && rule.member_orgs.binary_search(&org).is_ok()
        {
            return o.acl_groups.iter().any(|(g, set)| {
                set.grants(self.action) && (*g == org || rule.groups.binary_search(g).is_ok())
            });
        }
        false
    }
}

impl Subject {
    /// Builds the residual filter for listing `resource_type` rows with `action`. Lists take
    /// the typed [`Subject::list_filter_for`], which calls this.
    pub fn list_filter(&self, action: Action, resource_type: ResourceType) -> ListFilter {
        let t = resource_type;
        let mut filter = ListFilter {
            action,
            never: self.scope_vote(t, action) != Vote::Allow,
            id_in: self.scope().allow_list.clone(),
            all: false,
            org_in: Vec::new(),
            owned: None,
            acl_user: Some(self.id()),
            acl_groups: (!self.member_orgs().is_empty()).then(|| GroupAclRule {
                member_orgs: self.member_orgs().to_vec(),
                groups: self.groups().to_vec(),
            }),
        };
        match self.site_vote(t, action) {
            Vote::Allow => filter.all = true,
            // A site deny blocks the whole role path; ACLs still apply (rbac.md §9.4).
            Vote::Deny => {}
            Vote::Abstain => {
                let mut not_denied = Vec::with_capacity(self.org_ids.len());
                for (org, votes) in self.org_ids.iter().zip(&self.org_votes) {
                    match votes.vote(t, action) {
                        Vote::Allow => filter.org_in.push(*org),
                        Vote::Abstain => not_denied.push(*org),
                        Vote::Deny => {}
                    }
                }
                if self.user_vote(t, action) == Vote::Allow {
                    // Orgs that allow are already covered by `org_in`; keeping them here too is
                    // harmless but they are left out to keep the SQL short.
                    filter.owned = Some(OwnedRule { owner: self.id(), orgs: not_denied });
                }
            }
        }
        filter
    }
}
