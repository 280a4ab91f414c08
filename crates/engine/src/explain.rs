//! Turning a [`Decision`]'s reasons into plain words that name the roles and permissions
//! involved. This is the slow path (it allocates); checks themselves never call it.

use uuid::Uuid;

use crate::authorize::{Decision, Object, Reason};
use crate::resource::{Action, ResourceType};
use crate::role::{Permission, Role};
use crate::subject::{Subject, Vote};

impl Reason {
    /// A stable snake_case name of the reason's kind (used by case files and logs).
    pub const fn kind(&self) -> &'static str {
        match self {
            Reason::SiteAllow => "site_allow",
            Reason::SiteDeny => "site_deny",
            Reason::OrgAllow { .. } => "org_allow",
            Reason::OrgDeny { .. } => "org_deny",
            Reason::UserAllow => "user_allow",
            Reason::UserDeny => "user_deny",
            Reason::NotOrgMember { .. } => "not_org_member",
            Reason::NoPermission => "no_permission",
            Reason::UserAcl => "user_acl",
            Reason::GroupAcl { .. } => "group_acl",
            Reason::EveryoneAcl { .. } => "everyone_acl",
            Reason::ScopeDenied { .. } => "scope_denied",
            Reason::NotInAllowList => "not_in_allow_list",
            Reason::AnyOrgWithOrg => "any_org_with_org",
        }
    }
}

/// Which level a permission list belongs to.
#[derive(Clone, Copy)]
enum Level {
    Site,
    Org(Uuid),
    User,
}

fn level_perms(role: &Role, level: Level) -> &[Permission] {
    match level {
        Level::Site => &role.site,
        Level::Org(org) if role.org == Some(org) => &role.org_perms,
        Level::Org(_) => &[],
        Level::User => &role.user,
    }
}

/// "role `x` grants `t:a`" for every role with a matching permission of the given sign.
fn holders(subject: &Subject, level: Level, negate: bool, t: ResourceType, a: Action) -> String {
    let mut parts = Vec::new();
    for role in subject.roles() {
        let matching: Vec<String> = level_perms(role, level)
            .iter()
            .filter(|p| p.negate == negate && p.matches(t, a))
            .map(|p| format!("`{p}`"))
            .collect();
        if !matching.is_empty() {
            let verb = if negate { "denies with" } else { "grants" };
            parts.push(format!("role `{}` {verb} {}", role.name, matching.join(", ")));
        }
    }
    if parts.is_empty() { "no role".to_owned() } else { parts.join("; ") }
}

impl Subject {
    /// The decision's reasons in plain words.
    pub fn explain(&self, decision: &Decision, action: Action, object: &Object<'_>) -> Vec<String> {
        decision.reasons().map(|r| self.explain_reason(r, action, object)).collect()
    }

    fn explain_reason(&self, reason: Reason, a: Action, object: &Object<'_>) -> String {
        let t = object.resource_type;
        let what = format!("`{a}` on `{t}`");
        match reason {
            Reason::SiteAllow => {
                format!("allowed at site level: {}", holders(self, Level::Site, false, t, a))
            }
            Reason::SiteDeny => format!(
                "denied at site level, which blocks the organization and user levels: {}",
                holders(self, Level::Site, true, t, a)
            ),
            Reason::OrgAllow { org: Some(org) } => format!(
                "allowed at organization level in {org}: {}",
                holders(self, Level::Org(org), false, t, a)
            ),
            Reason::OrgAllow { org: None } => {
                let org = self
                    .member_orgs()
                    .iter()
                    .copied()
                    .find(|o| self.org_vote(*o, t, a) == Some(Vote::Allow));
                match org {
                    Some(org) => format!(
                        "allowed in at least one organization ({org}): {}",
                        holders(self, Level::Org(org), false, t, a)
                    ),
                    None => format!("allowed in at least one organization for {what}"),
                }
            }
            Reason::OrgDeny { org } => format!(
                "denied at organization level in {org}, which blocks the user level: {}",
                holders(self, Level::Org(org), true, t, a)
            ),
            Reason::UserAllow => format!(
                "allowed at user level on an object the subject owns: {}",
                holders(self, Level::User, false, t, a)
            ),
            Reason::UserDeny => {
                format!("denied at user level: {}", holders(self, Level::User, true, t, a))
            }
            Reason::NotOrgMember { org } => {
                let place = org.map_or_else(|| "any organization".to_owned(), |o| o.to_string());
                format!(
                    "denied: the user-level grant ({}) does not reach objects in {place}, \
                     because the subject is not a member of it",
                    holders(self, Level::User, false, t, a)
                )
            }
            Reason::NoPermission => {
                let owned = object.owner == Some(self.id());
                let why = if owned {
                    ""
                } else {
                    " (the user level applies only to objects the subject owns)"
                };
                format!("denied: no role grants {what} at a level that applies{why}")
            }
            Reason::UserAcl => format!("allowed by the object's user ACL entry for {}", self.id()),
            Reason::GroupAcl { group } => {
                format!("allowed by the object's group ACL entry for group {group}")
            }
            Reason::EveryoneAcl { org } => format!(
                "allowed by the object's ACL entry for the Everyone group of organization {org}"
            ),
            Reason::ScopeDenied { scope } => format!(
                "denied by the API key scope `{}`, which does not allow {what}",
                scope.as_str()
            ),
            Reason::NotInAllowList => {
                "denied: the object's id is not on the scope's allow list".to_owned()
            }
            Reason::AnyOrgWithOrg => "object cannot have 'any_org' and an 'org_id' specified, \
                                      values are mutually exclusive"
                .to_owned(),
        }
    }
}
