//! The ACL role tables (rbac.md §7.1, §7.2): the role names a template or workspace ACL entry
//! takes on the wire, and the action set each stands for.
//!
//! | ACL       | `admin`                                        | `use`                                               |
//! |-----------|------------------------------------------------|-----------------------------------------------------|
//! | template  | `["*"]`                                        | `read`, `use`                                       |
//! | workspace | every workspace action but `delete` (see below) | `application_connect`, `read`, `ssh`, `start`, `stop` |
//!
//! The empty role `""` removes the grantee's entry. Names are case-sensitive (`Admin` is not a
//! role). Reading back, a stored set that is exactly one role's set shows as that role; any
//! other set (written by another tool) shows as `""`.

use crate::resource::{Action, ActionSet, Wild};

/// Which ACL a role name belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AclKind {
    /// A template's user and group ACL (rbac.md §7.1).
    Template,
    /// A workspace's user and group ACL, workspace sharing (rbac.md §7.2).
    Workspace,
}

/// A role name that is neither `admin`, `use` nor `""`; `Display` is Coder's validation text
/// (`role "<x>" is not a valid template role`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("role \"{role}\" is not a valid {} role", kind.as_str())]
pub struct UnknownAclRole {
    pub kind: AclKind,
    pub role: String,
}

impl AclKind {
    /// `template` or `workspace`, as the texts name the ACL.
    pub const fn as_str(self) -> &'static str {
        match self {
            AclKind::Template => "template",
            AclKind::Workspace => "workspace",
        }
    }

    /// The set `admin` grants: `["*"]` on templates; on workspaces every action but `delete`
    /// (`create` doubles as "may edit the ACL").
    pub fn admin_actions(self) -> ActionSet {
        match self {
            AclKind::Template => ActionSet::WILDCARD,
            AclKind::Workspace => [
                Action::Create,
                Action::Read,
                Action::Update,
                Action::Start,
                Action::Stop,
                Action::Ssh,
                Action::ApplicationConnect,
                Action::CreateAgent,
                Action::DeleteAgent,
            ]
            .into_iter()
            .map(Wild::Is)
            .collect(),
        }
    }

    /// The set `use` grants: read the template and create workspaces from it; on workspaces,
    /// connect and power, no changes.
    pub fn use_actions(self) -> ActionSet {
        let actions: &[Action] = match self {
            AclKind::Template => &[Action::Read, Action::Use],
            AclKind::Workspace => &[
                Action::ApplicationConnect,
                Action::Read,
                Action::Ssh,
                Action::Start,
                Action::Stop,
            ],
        };
        actions.iter().copied().map(Wild::Is).collect()
    }

    /// The action set of a wire role: `Some(set)` for `admin` and `use`, `None` for `""`
    /// (remove the entry), an error for anything else.
    pub fn parse_role(self, role: &str) -> Result<Option<ActionSet>, UnknownAclRole> {
        match role {
            "admin" => Ok(Some(self.admin_actions())),
            "use" => Ok(Some(self.use_actions())),
            "" => Ok(None),
            other => Err(UnknownAclRole { kind: self, role: other.to_owned() }),
        }
    }

    /// The wire role of a stored action set: `admin` or `use` when the set is exactly that
    /// role's, `""` otherwise.
    pub fn role_of(self, set: ActionSet) -> &'static str {
        if set == self.admin_actions() {
            "admin"
        } else if set == self.use_actions() {
            "use"
        } else {
            ""
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for kind in [AclKind::Template, AclKind::Workspace] {
            for role in ["admin", "use"] {
                let set = kind.parse_role(role).unwrap().unwrap();
                assert_eq!(kind.role_of(set), role);
            }
            assert_eq!(kind.parse_role(""), Ok(None));
            assert_eq!(kind.role_of(ActionSet::EMPTY), "");
        }
        assert_eq!(
            AclKind::Workspace.parse_role("owner").unwrap_err().to_string(),
            "role \"owner\" is not a valid workspace role"
        );
    }
}
