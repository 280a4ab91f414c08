//! `authorize(subject, action, object) -> Decision` (rbac.md §1.4).

use uuid::Uuid;

use crate::resource::{Action, ActionSet, ResourceType};
use crate::subject::{ScopeName, Subject, Vote};

/// What is being acted on. Absent fields are Coder's empty strings.
#[derive(Clone, Copy, Debug)]
pub struct Object<'a> {
    pub resource_type: ResourceType,
    pub id: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub org: Option<Uuid>,
    /// "Is this allowed in at least one of my orgs?" (rbac.md §1.6).
    pub any_org: bool,
    pub acl_users: &'a [(Uuid, ActionSet)],
    pub acl_groups: &'a [(Uuid, ActionSet)],
}

impl<'a> Object<'a> {
    /// A class check: only the type is known.
    pub const fn of(resource_type: ResourceType) -> Self {
        Object {
            resource_type,
            id: None,
            owner: None,
            org: None,
            any_org: false,
            acl_users: &[],
            acl_groups: &[],
        }
    }
    /// Sets the object's id.
    pub const fn with_id(mut self, id: Uuid) -> Self {
        self.id = Some(id);
        self
    }
    /// Sets the owning user.
    pub const fn with_owner(mut self, owner: Uuid) -> Self {
        self.owner = Some(owner);
        self
    }
    /// Places the object in an org (and clears `any_org`, as Coder's `InOrg` does).
    pub const fn in_org(mut self, org: Uuid) -> Self {
        self.org = Some(org);
        self.any_org = false;
        self
    }
    /// Asks about any org the subject belongs to (clears the org, as `AnyOrganization` does).
    pub const fn any_organization(mut self) -> Self {
        self.org = None;
        self.any_org = true;
        self
    }
    /// Sets the user ACL.
    pub const fn with_user_acl(mut self, acl: &'a [(Uuid, ActionSet)]) -> Self {
        self.acl_users = acl;
        self
    }
    /// Sets the group ACL (an entry keyed by the org id is the Everyone group).
    pub const fn with_group_acl(mut self, acl: &'a [(Uuid, ActionSet)]) -> Self {
        self.acl_groups = acl;
        self
    }
}

/// Why a decision came out as it did. `Copy` so a check never allocates; turn it into words
/// with [`crate::explain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A site-level permission allowed it.
    SiteAllow,
    /// A site-level negative permission denied the role path.
    SiteDeny,
    /// An org-level permission allowed it (`None`: some member org, for `any_org` objects).
    OrgAllow { org: Option<Uuid> },
    /// An org-level negative permission denied the role path.
    OrgDeny { org: Uuid },
    /// A user-level permission allowed it on an object the subject owns.
    UserAllow,
    /// A user-level negative permission denied it.
    UserDeny,
    /// A user-level grant exists but the object is in an org the subject is not a member of.
    NotOrgMember { org: Option<Uuid> },
    /// No role holds a matching permission at any level that applies.
    NoPermission,
    /// The object's user ACL grants the action to the subject.
    UserAcl,
    /// The object's group ACL grants the action to a group of the subject.
    GroupAcl { group: Uuid },
    /// The object's group ACL grants the action to the org's Everyone group.
    EveryoneAcl { org: Uuid },
    /// The API key scope does not allow the action on the type.
    ScopeDenied { scope: ScopeName },
    /// The object's id is not on the scope's allow list.
    NotInAllowList,
    /// The object names both an org and `any_org` (Coder refuses such objects).
    AnyOrgWithOrg,
}

/// The outcome of a check: allowed or not, with the reasons (at most two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    reasons: [Option<Reason>; 2],
}

impl Decision {
    const fn allow(reason: Reason) -> Self {
        Decision { allowed: true, reasons: [Some(reason), None] }
    }
    const fn deny(reason: Reason) -> Self {
        Decision { allowed: false, reasons: [Some(reason), None] }
    }
    /// The reasons, most important first.
    pub fn reasons(&self) -> impl Iterator<Item = Reason> + '_ {
        self.reasons.iter().flatten().copied()
    }
}

/// Outcome of the role path alone.
enum RolePath {
    Allow(Reason),
    Deny(Reason),
}

impl Subject {
    /// Decides whether this subject may do `action` on `object`, exactly as Coder's policy.
    #[inline]
    pub fn authorize(&self, action: Action, object: &Object<'_>) -> Decision {
        let t = object.resource_type;
        // Coder treats a nil org as "no org" for the any_org exclusivity check.
        let org = object.org.filter(|o| !(object.any_org && o.is_nil()));
        if object.any_org && org.is_some() {
            return Decision::deny(Reason::AnyOrgWithOrg);
        }
        // The scope must allow independently; only its site permissions take effect (§1.5).
        if self.scope_votes.vote(t, action) != Vote::Allow {
            return Decision::deny(Reason::ScopeDenied { scope: self.scope.name });
        }
        if let Some(list) = &self.scope.allow_list
            && !object.id.is_some_and(|id| list.contains(&id))
        {
            return Decision::deny(Reason::NotInAllowList);
        }

        let org_index = if object.any_org { None } else { org.and_then(|o| self.org_index(o)) };
        let org_mem = if object.any_org { !self.org_ids.is_empty() } else { org_index.is_some() };

        let refusal = match self.role_path(t, action, object, org, org_index, org_mem) {
            RolePath::Allow(reason) => return Decision::allow(reason),
            RolePath::Deny(reason) => reason,
        };
        match self.acl_path(action, object, org, org_mem) {
            Some(reason) => Decision::allow(reason),
            None => Decision::deny(refusal),
        }
    }

    /// Shorthand for `authorize(..).allowed`.
    #[inline]
    pub fn can(&self, action: Action, object: &Object<'_>) -> bool {
        self.authorize(action, object).allowed
    }

    #[inline]
    fn role_path(
        &self,
        t: ResourceType,
        action: Action,
        object: &Object<'_>,
        org: Option<Uuid>,
        org_index: Option<usize>,
        org_mem: bool,
    ) -> RolePath {
        match self.site.vote(t, action) {
            Vote::Allow => return RolePath::Allow(Reason::SiteAllow),
            Vote::Deny => return RolePath::Deny(Reason::SiteDeny),
            Vote::Abstain => {}
        }
        let org_vote = if object.any_org {
            // A deny in one org never cancels an allow in another, and never yields −1 (§1.6).
            match self.any_org_allow.vote(t, action) {
                Vote::Allow => Vote::Allow,
                _ => Vote::Abstain,
            }
        } else {
            org_index.map_or(Vote::Abstain, |i| self.org_votes[i].vote(t, action))
        };
        match (org_vote, org) {
            (Vote::Allow, _) => return RolePath::Allow(Reason::OrgAllow { org }),
            (Vote::Deny, Some(org)) => return RolePath::Deny(Reason::OrgDeny { org }),
            _ => {}
        }
        let org_ok = org_mem || (org.is_none() && !object.any_org);
        if object.owner != Some(self.id) {
            return RolePath::Deny(Reason::NoPermission);
        }
        match self.user.vote(t, action) {
            Vote::Allow if org_ok => RolePath::Allow(Reason::UserAllow),
            Vote::Allow => RolePath::Deny(Reason::NotOrgMember { org }),
            Vote::Deny => RolePath::Deny(Reason::UserDeny),
            Vote::Abstain => RolePath::Deny(Reason::NoPermission),
        }
    }

    #[inline]
    fn acl_path(
        &self,
        action: Action,
        object: &Object<'_>,
        org: Option<Uuid>,
        org_mem: bool,
    ) -> Option<Reason> {
        // A user entry works in any org, without membership (rbac.md §9.3).
        if object.acl_users.iter().any(|(u, set)| *u == self.id && set.grants(action)) {
            return Some(Reason::UserAcl);
        }
        if !org_mem {
            return None;
        }
        for (group, set) in object.acl_groups {
            if !set.grants(action) {
                continue;
            }
            if Some(*group) == org {
                return Some(Reason::EveryoneAcl { org: *group });
            }
            if self.in_group(*group) {
                return Some(Reason::GroupAcl { group: *group });
            }
        }
        None
    }
}
