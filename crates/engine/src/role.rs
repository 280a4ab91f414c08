//! Permissions, roles and the built-in role catalogue (rbac.md §1.2, §3).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::resource::{Action, ResourceType, Wild};

/// `{negate, resource_type, action}`; `*` allowed in both strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Permission {
    /// A negative permission denies at its level.
    pub negate: bool,
    /// The type it applies to, or `*`.
    #[serde(with = "wild_type")]
    pub resource_type: Wild<ResourceType>,
    /// The action it applies to, or `*`.
    #[serde(with = "wild_action")]
    pub action: Wild<Action>,
}

impl Permission {
    /// A positive permission on one type and action.
    pub const fn allow(resource_type: ResourceType, action: Action) -> Self {
        Permission {
            negate: false,
            resource_type: Wild::Is(resource_type),
            action: Wild::Is(action),
        }
    }
    /// A negative permission on one type and action.
    pub const fn deny(resource_type: ResourceType, action: Action) -> Self {
        Permission {
            negate: true,
            resource_type: Wild::Is(resource_type),
            action: Wild::Is(action),
        }
    }
    /// A positive permission on every action of one type.
    pub const fn allow_all(resource_type: ResourceType) -> Self {
        Permission { negate: false, resource_type: Wild::Is(resource_type), action: Wild::Any }
    }
    /// Whether it matches a check of `action` on `resource_type`.
    pub fn matches(&self, resource_type: ResourceType, action: Action) -> bool {
        self.resource_type.matches(resource_type) && self.action.matches(action)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negate { "-" } else { "" };
        write!(f, "{sign}{}:{}", self.resource_type, self.action)
    }
}

mod wild_type {
    use super::*;
    pub fn serialize<S: serde::Serializer>(
        v: &Wild<ResourceType>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Wild<ResourceType>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::resource::parse_wild_type(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown resource type `{s}`")))
    }
}

mod wild_action {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &Wild<Action>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Wild<Action>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::resource::parse_wild_action(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown action `{s}`")))
    }
}

/// The eleven built-in roles (rbac.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinRole {
    Owner,
    Member,
    Auditor,
    TemplateAdmin,
    UserAdmin,
    OrganizationAdmin,
    OrganizationMember,
    OrganizationAuditor,
    OrganizationUserAdmin,
    OrganizationTemplateAdmin,
    OrganizationWorkspaceCreationBan,
}

impl BuiltinRole {
    /// Every built-in, site roles first, in the order Coder lists them.
    pub const ALL: [BuiltinRole; 11] = [
        BuiltinRole::Owner,
        BuiltinRole::Member,
        BuiltinRole::TemplateAdmin,
        BuiltinRole::UserAdmin,
        BuiltinRole::Auditor,
        BuiltinRole::OrganizationAdmin,
        BuiltinRole::OrganizationMember,
        BuiltinRole::OrganizationAuditor,
        BuiltinRole::OrganizationUserAdmin,
        BuiltinRole::OrganizationTemplateAdmin,
        BuiltinRole::OrganizationWorkspaceCreationBan,
    ];

    /// The role's name as stored and sent on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "owner",
            BuiltinRole::Member => "member",
            BuiltinRole::Auditor => "auditor",
            BuiltinRole::TemplateAdmin => "template-admin",
            BuiltinRole::UserAdmin => "user-admin",
            BuiltinRole::OrganizationAdmin => "organization-admin",
            BuiltinRole::OrganizationMember => "organization-member",
            BuiltinRole::OrganizationAuditor => "organization-auditor",
            BuiltinRole::OrganizationUserAdmin => "organization-user-admin",
            BuiltinRole::OrganizationTemplateAdmin => "organization-template-admin",
            BuiltinRole::OrganizationWorkspaceCreationBan => "organization-workspace-creation-ban",
        }
    }

    /// Coder's display name; empty hides the role from listings (§9.12).
    pub const fn display_name(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "Owner",
            BuiltinRole::Member => "Member",
            BuiltinRole::Auditor => "Auditor",
            BuiltinRole::TemplateAdmin => "Template Admin",
            BuiltinRole::UserAdmin => "User Admin",
            BuiltinRole::OrganizationAdmin => "Organization Admin",
            BuiltinRole::OrganizationMember => "",
            BuiltinRole::OrganizationAuditor => "Organization Auditor",
            BuiltinRole::OrganizationUserAdmin => "Organization User Admin",
            BuiltinRole::OrganizationTemplateAdmin => "Organization Template Admin",
            BuiltinRole::OrganizationWorkspaceCreationBan => "Organization Workspace Creation Ban",
        }
    }

    /// Whether the role is always used with an organization id.
    pub const fn is_org_role(self) -> bool {
        !matches!(
            self,
            BuiltinRole::Owner
                | BuiltinRole::Member
                | BuiltinRole::Auditor
                | BuiltinRole::TemplateAdmin
                | BuiltinRole::UserAdmin
        )
    }

    /// Looks a built-in up by its exact (case-sensitive) name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The role with its permissions; `org` is required for org roles and refused for site roles.
    pub fn expand(self, org: Option<Uuid>, options: RoleOptions) -> Result<Role, RoleNameError> {
        match (self.is_org_role(), org) {
            (true, None) => Err(RoleNameError::OrgIdExpected(self.name().to_owned())),
            (false, Some(org)) => Err(RoleNameError::NotFound(format!("{}:{org}", self.name()))),
            _ => Ok(catalogue::build(self, org, options)),
        }
    }
}

/// Deployment options that change built-in permission sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoleOptions {
    /// Coder's `--disable-owner-workspace-access`: owners lose `ssh` and `application_connect`.
    pub no_owner_workspace_exec: bool,
}

/// A role expanded to its permissions. Org roles carry exactly one org (Coder's flat `org` map has
/// one key at this snapshot); holding such a role makes the holder a member of that org in the
/// engine's eyes, even with no org permissions (rbac.md §1.3, §9.9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    pub name: String,
    pub display_name: String,
    #[serde(rename = "organization_id", skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    #[serde(rename = "site_permissions")]
    pub site: Vec<Permission>,
    #[serde(rename = "organization_permissions")]
    pub org_perms: Vec<Permission>,
    #[serde(rename = "user_permissions")]
    pub user: Vec<Permission>,
    /// Which built-in this is; `None` for custom and inline roles.
    #[serde(skip)]
    pub builtin: Option<BuiltinRole>,
}

impl Role {
    /// `name` or `name:org`, as Coder writes role identifiers in messages.
    pub fn qualified_name(&self) -> String {
        match self.org {
            Some(org) => format!("{}:{org}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Errors parsing or resolving a role identifier (rbac.md §1.8; texts are Coder's).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoleNameError {
    #[error("too many colons in role name")]
    TooManyColons,
    #[error("role cannot be the empty string")]
    Empty,
    #[error("\"{0}\" not a valid uuid: {1}")]
    BadOrgId(String, String),
    #[error("expect a org id for role \"{0}\"")]
    OrgIdExpected(String),
    #[error("role \"{0}\" not found")]
    NotFound(String),
}

/// Splits `name[:org-uuid]`.
pub fn parse_role_identifier(s: &str) -> Result<(&str, Option<Uuid>), RoleNameError> {
    let mut parts = s.split(':');
    let name = parts.next().unwrap_or_default();
    let org = parts.next();
    if parts.next().is_some() {
        return Err(RoleNameError::TooManyColons);
    }
    if name.is_empty() {
        return Err(RoleNameError::Empty);
    }
    let org = match org {
        None => None,
        Some(o) => Some(
            Uuid::parse_str(o).map_err(|e| RoleNameError::BadOrgId(o.to_owned(), e.to_string()))?,
        ),
    };
    Ok((name, org))
}

mod catalogue {
    //! The exact permission sets of rbac.md §3.
    use super::*;
    use Action as A;
    use ResourceType as R;

    fn all_actions_except(excluded: &[ResourceType]) -> impl Iterator<Item = Permission> + '_ {
        ResourceType::ALL
            .iter()
            .filter(move |t| !excluded.contains(t))
            .map(|t| Permission::allow_all(*t))
    }

    fn allow(t: ResourceType, actions: &[Action]) -> impl Iterator<Item = Permission> + '_ {
        actions.iter().map(move |a| Permission::allow(t, *a))
    }

    const WS_ALL: &[Action] = &[
        A::Create,
        A::Read,
        A::Update,
        A::Delete,
        A::Start,
        A::Stop,
        A::Ssh,
        A::ApplicationConnect,
        A::CreateAgent,
        A::DeleteAgent,
    ];
    const DORMANT: &[Action] =
        &[A::Read, A::Delete, A::Create, A::Update, A::Stop, A::CreateAgent, A::DeleteAgent];
    const CRUD: &[Action] = &[A::Create, A::Read, A::Update, A::Delete];
    const TEMPLATE_ALL: &[Action] =
        &[A::Create, A::Read, A::Update, A::Delete, A::Use, A::ViewInsights];

    /// Concatenates `(type, actions)` grants.
    fn grants(list: &[(ResourceType, &[Action])]) -> Vec<Permission> {
        list.iter().flat_map(|(t, a)| allow(*t, a)).collect()
    }

    pub(super) fn build(role: BuiltinRole, org: Option<Uuid>, options: RoleOptions) -> Role {
        let (site, org_perms, user) = permissions(role, options);
        Role {
            name: role.name().to_owned(),
            display_name: role.display_name().to_owned(),
            org,
            site,
            org_perms,
            user,
            builtin: Some(role),
        }
    }

    type Sets = (Vec<Permission>, Vec<Permission>, Vec<Permission>);

    fn permissions(role: BuiltinRole, options: RoleOptions) -> Sets {
        match role {
            BuiltinRole::Owner => {
                let mut site: Vec<Permission> = all_actions_except(&[
                    R::Workspace,
                    R::WorkspaceDormant,
                    R::PrebuiltWorkspace,
                    R::UserSecret,
                    R::UsageEvent,
                ])
                .collect();
                site.extend(allow(R::Workspace, WS_ALL).filter(|p| {
                    !options.no_owner_workspace_exec
                        || !matches!(p.action, Wild::Is(A::Ssh | A::ApplicationConnect))
                }));
                site.extend(allow(R::WorkspaceDormant, DORMANT));
                site.extend(allow(R::PrebuiltWorkspace, &[A::Update, A::Delete]));
                (site, vec![], vec![])
            }
            BuiltinRole::Member => {
                let site = grants(&[
                    (R::AssignRole, &[A::Read]),
                    (R::Oauth2App, &[A::Read]),
                    (R::WorkspaceProxy, &[A::Read]),
                ]);
                let mut user: Vec<Permission> = all_actions_except(&[
                    R::WorkspaceDormant,
                    R::PrebuiltWorkspace,
                    R::User,
                    R::OrganizationMember,
                ])
                .collect();
                user.extend(grants(&[
                    (R::WorkspaceDormant, DORMANT),
                    (R::User, &[A::Read, A::ReadPersonal, A::UpdatePersonal]),
                    (R::OrganizationMember, &[A::Read]),
                    // Coder lists `read` twice here; harmless (rbac.md §9.11).
                    (R::ProvisionerDaemon, &[A::Read, A::Create, A::Read, A::Update]),
                ]));
                (site, vec![], user)
            }
            BuiltinRole::Auditor => (
                grants(&[
                    (R::AssignOrgRole, &[A::Read]),
                    (R::AuditLog, &[A::Read]),
                    (R::ConnectionLog, &[A::Read]),
                    (R::Template, &[A::Read, A::ViewInsights]),
                    (R::User, &[A::Read]),
                    (R::Group, &[A::Read]),
                    (R::GroupMember, &[A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, &[A::Read]),
                    (R::DeploymentStats, &[A::Read]),
                    (R::DeploymentConfig, &[A::Read]),
                ]),
                vec![],
                vec![],
            ),
            BuiltinRole::TemplateAdmin => (
                grants(&[
                    (R::AssignOrgRole, &[A::Read]),
                    (R::Template, TEMPLATE_ALL),
                    (R::File, &[A::Create, A::Read]),
                    (R::Workspace, &[A::Read]),
                    (R::PrebuiltWorkspace, &[A::Update, A::Delete]),
                    (R::ProvisionerDaemon, CRUD),
                    (R::User, &[A::Read]),
                    (R::Group, &[A::Read]),
                    (R::GroupMember, &[A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, &[A::Read]),
                ]),
                vec![],
                vec![],
            ),
            BuiltinRole::UserAdmin => (
                grants(&[
                    (R::AssignRole, &[A::Assign, A::Unassign, A::Read]),
                    (R::AssignOrgRole, &[A::Assign, A::Unassign, A::Read]),
                    (
                        R::User,
                        &[
                            A::Create,
                            A::Read,
                            A::Update,
                            A::Delete,
                            A::UpdatePersonal,
                            A::ReadPersonal,
                        ],
                    ),
                    (R::Group, CRUD),
                    (R::GroupMember, &[A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, CRUD),
                    (R::IdpsyncSettings, &[A::Read, A::Update]),
                ]),
                vec![],
                vec![],
            ),
            BuiltinRole::OrganizationAdmin => {
                let mut org: Vec<Permission> = all_actions_except(&[
                    R::Workspace,
                    R::WorkspaceDormant,
                    R::PrebuiltWorkspace,
                    R::AssignRole,
                    R::UserSecret,
                ])
                .collect();
                org.extend(grants(&[
                    (
                        R::Workspace,
                        &[
                            A::Create,
                            A::Read,
                            A::Update,
                            A::Delete,
                            A::Start,
                            A::Stop,
                            A::CreateAgent,
                            A::DeleteAgent,
                        ],
                    ),
                    (R::WorkspaceDormant, DORMANT),
                    (R::PrebuiltWorkspace, &[A::Update, A::Delete]),
                ]));
                (grants(&[(R::User, &[A::Read])]), org, vec![])
            }
            BuiltinRole::OrganizationMember => (
                vec![],
                grants(&[
                    (R::ProvisionerDaemon, &[A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::AssignOrgRole, &[A::Read]),
                ]),
                vec![],
            ),
            BuiltinRole::OrganizationAuditor => (
                vec![],
                grants(&[
                    (R::AuditLog, &[A::Read]),
                    (R::ConnectionLog, &[A::Read]),
                    (R::Template, &[A::Read, A::ViewInsights]),
                    (R::Group, &[A::Read]),
                    (R::GroupMember, &[A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, &[A::Read]),
                ]),
                vec![],
            ),
            BuiltinRole::OrganizationUserAdmin => (
                grants(&[(R::User, &[A::Read])]),
                grants(&[
                    (R::AssignOrgRole, &[A::Assign, A::Unassign, A::Read]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, CRUD),
                    (R::Group, CRUD),
                    (R::GroupMember, &[A::Read]),
                    (R::IdpsyncSettings, &[A::Read, A::Update]),
                ]),
                vec![],
            ),
            BuiltinRole::OrganizationTemplateAdmin => (
                vec![],
                grants(&[
                    (R::Template, TEMPLATE_ALL),
                    (R::File, &[A::Create, A::Read]),
                    (R::Workspace, &[A::Read]),
                    (R::PrebuiltWorkspace, &[A::Update, A::Delete]),
                    (R::Organization, &[A::Read]),
                    (R::OrganizationMember, &[A::Read]),
                    (R::Group, &[A::Read]),
                    (R::GroupMember, &[A::Read]),
                    (R::ProvisionerDaemon, CRUD),
                    (R::ProvisionerJobs, &[A::Read, A::Update, A::Create]),
                ]),
                vec![],
            ),
            BuiltinRole::OrganizationWorkspaceCreationBan => (
                vec![],
                [A::Create, A::Delete, A::CreateAgent, A::DeleteAgent]
                    .into_iter()
                    .map(|a| Permission::deny(R::Workspace, a))
                    .collect(),
                vec![],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(r: BuiltinRole) -> Role {
        r.expand(r.is_org_role().then(Uuid::nil), RoleOptions::default()).unwrap()
    }

    #[test]
    fn owner_enumerates_types_and_never_holds_the_wildcard_type() {
        let owner = role(BuiltinRole::Owner);
        assert!(owner.site.iter().all(|p| p.resource_type != Wild::Any));
        let wildcard_types = owner.site.iter().filter(|p| p.action == Wild::Any).count();
        assert_eq!(wildcard_types, 34);
        assert!(!owner.site.iter().any(|p| p.matches(ResourceType::UserSecret, Action::Read)));
    }

    #[test]
    fn member_user_level_covers_35_types_with_wildcards() {
        let member = role(BuiltinRole::Member);
        assert_eq!(member.user.iter().filter(|p| p.action == Wild::Any).count(), 35);
    }

    #[test]
    fn org_admin_lacks_ssh_and_app_connect() {
        let admin = role(BuiltinRole::OrganizationAdmin);
        assert!(!admin.org_perms.iter().any(|p| p.matches(ResourceType::Workspace, Action::Ssh)));
        assert!(admin.org_perms.iter().any(|p| p.matches(ResourceType::Workspace, Action::Start)));
    }

    #[test]
    fn scoping_errors_use_coder_texts() {
        assert_eq!(
            BuiltinRole::OrganizationAdmin
                .expand(None, RoleOptions::default())
                .unwrap_err()
                .to_string(),
            "expect a org id for role \"organization-admin\""
        );
        assert_eq!(parse_role_identifier("a:b:c").unwrap_err(), RoleNameError::TooManyColons);
        assert_eq!(parse_role_identifier("").unwrap_err(), RoleNameError::Empty);
        assert!(
            parse_role_identifier("x:nope")
                .unwrap_err()
                .to_string()
                .starts_with("\"nope\" not a valid uuid")
        );
    }
}
