//! Coder's resource types and actions (rbac.md §2), as compact enums.
//!
//! Both enums index fixed-size tables in a compiled subject, so their discriminants are dense
//! and `ALL` lists them in discriminant order.

use std::fmt;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident ($desc:literal) { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in discriminant order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// How many values there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The wire name, as Coder spells it.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a wire name exactly (case-sensitive, like Coder).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// Dense index for table lookups.
            pub const fn index(self) -> usize { self as usize }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| serde::de::Error::custom(
                    format!(concat!("unknown ", $desc, " `{}`"), s)))
            }
        }
    };
}

wire_enum! {
    /// One of the 16 actions of rbac.md §2.
    Action ("action") {
        ApplicationConnect = "application_connect",
        Assign = "assign",
        Create = "create",
        CreateAgent = "create_agent",
        Delete = "delete",
        DeleteAgent = "delete_agent",
        Read = "read",
        ReadPersonal = "read_personal",
        Ssh = "ssh",
        Unassign = "unassign",
        Update = "update",
        UpdatePersonal = "update_personal",
        Use = "use",
        ViewInsights = "view_insights",
        Start = "start",
        Stop = "stop",
    }
}

wire_enum! {
    /// One of the 39 resource types of rbac.md §2 (the wildcard type is [`crate::Wild::Any`]).
    ResourceType ("resource type") {
        ApiKey = "api_key",
        AssignOrgRole = "assign_org_role",
        AssignRole = "assign_role",
        AuditLog = "audit_log",
        ConnectionLog = "connection_log",
        CryptoKey = "crypto_key",
        DebugInfo = "debug_info",
        DeploymentConfig = "deployment_config",
        DeploymentStats = "deployment_stats",
        File = "file",
        Group = "group",
        GroupMember = "group_member",
        IdpsyncSettings = "idpsync_settings",
        InboxNotification = "inbox_notification",
        License = "license",
        NotificationMessage = "notification_message",
        NotificationPreference = "notification_preference",
        NotificationTemplate = "notification_template",
        Oauth2App = "oauth2_app",
        Oauth2AppCodeToken = "oauth2_app_code_token",
        Oauth2AppSecret = "oauth2_app_secret",
        Organization = "organization",
        OrganizationMember = "organization_member",
        PrebuiltWorkspace = "prebuilt_workspace",
        ProvisionerDaemon = "provisioner_daemon",
        ProvisionerJobs = "provisioner_jobs",
        Replicas = "replicas",
        System = "system",
        TailnetCoordinator = "tailnet_coordinator",
        Template = "template",
        UsageEvent = "usage_event",
        User = "user",
        UserSecret = "user_secret",
        WebpushSubscription = "webpush_subscription",
        Workspace = "workspace",
        WorkspaceAgentDevcontainers = "workspace_agent_devcontainers",
        WorkspaceAgentResourceMonitor = "workspace_agent_resource_monitor",
        WorkspaceDormant = "workspace_dormant",
        WorkspaceProxy = "workspace_proxy",
    }
}

const _: () = assert!(Action::COUNT == 16 && ResourceType::COUNT == 39);

use Action as A;

/// The ten workspace actions (shared by `workspace` and `workspace_dormant`).
const WORKSPACE_ACTIONS: &[Action] = &[
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
const CRUD: &[Action] = &[A::Create, A::Read, A::Update, A::Delete];

impl ResourceType {
    /// The actions rbac.md §2 lists as valid for this type.
    pub fn valid_actions(self) -> &'static [Action] {
        use ResourceType as R;
        match self {
            R::ApiKey | R::CryptoKey | R::NotificationMessage | R::Oauth2App => CRUD,
            R::Oauth2AppSecret | R::Organization | R::OrganizationMember => CRUD,
            R::ProvisionerDaemon | R::System | R::TailnetCoordinator => CRUD,
            R::UserSecret | R::WorkspaceProxy | R::Group => CRUD,
            R::AssignOrgRole => &[A::Assign, A::Unassign, A::Read, A::Create, A::Update, A::Delete],
            R::AssignRole => &[A::Assign, A::Unassign, A::Read],
            R::AuditLog => &[A::Read, A::Create],
            R::ConnectionLog | R::DeploymentConfig | R::IdpsyncSettings => &[A::Read, A::Update],
            R::NotificationPreference | R::NotificationTemplate => &[A::Read, A::Update],
            R::DebugInfo | R::DeploymentStats | R::GroupMember | R::Replicas => &[A::Read],
            R::File => &[A::Create, A::Read],
            R::InboxNotification | R::ProvisionerJobs => &[A::Create, A::Read, A::Update],
            R::UsageEvent | R::WorkspaceAgentResourceMonitor => &[A::Create, A::Read, A::Update],
            R::License | R::Oauth2AppCodeToken | R::WebpushSubscription => {
                &[A::Create, A::Read, A::Delete]
            }
            R::PrebuiltWorkspace => &[A::Update, A::Delete],
            R::Template => &[A::Create, A::Read, A::Update, A::Delete, A::Use, A::ViewInsights],
            R::User => {
                &[A::Create, A::Read, A::Update, A::Delete, A::ReadPersonal, A::UpdatePersonal]
            }
            R::Workspace | R::WorkspaceDormant => WORKSPACE_ACTIONS,
            R::WorkspaceAgentDevcontainers => &[A::Create],
        }
    }

    /// Whether `action` is listed for this type.
    pub fn allows(self, action: Action) -> bool {
        self.valid_actions().contains(&action)
    }
}

/// A permission's type or action: a concrete value or the `*` wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wild<T> {
    /// `*`: matches every value.
    Any,
    /// Exactly this value.
    Is(T),
}

impl<T: Copy + PartialEq> Wild<T> {
    /// Whether the selector matches `value`.
    pub fn matches(self, value: T) -> bool {
        match self {
            Wild::Any => true,
            Wild::Is(v) => v == value,
        }
    }
}

impl<T: fmt::Display> fmt::Display for Wild<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wild::Any => f.write_str("*"),
            Wild::Is(v) => v.fmt(f),
        }
    }
}

/// A set of actions as a bitmask, with `*` as a bit of its own (so "admin" = `["*"]` survives a
/// round trip). Used for ACL entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u32);

impl ActionSet {
    /// The `*` bit: matches every action.
    pub const WILDCARD_BIT: u32 = 1 << 16;
    /// No action.
    pub const EMPTY: ActionSet = ActionSet(0);
    /// `["*"]`.
    pub const WILDCARD: ActionSet = ActionSet(Self::WILDCARD_BIT);

    /// From raw bits as stored in a database column; unknown bits are dropped.
    pub const fn from_bits(bits: u32) -> Self {
        ActionSet(bits & (Self::WILDCARD_BIT | 0xFFFF))
    }
    /// The raw bits, for storage.
    pub const fn bits(self) -> u32 {
        self.0
    }
    /// The bit that stands for one action.
    pub const fn bit(action: Action) -> u32 {
        1 << action as u32
    }
    /// Adds an action (or the wildcard).
    pub fn insert(&mut self, action: Wild<Action>) {
        self.0 |= match action {
            Wild::Any => Self::WILDCARD_BIT,
            Wild::Is(a) => Self::bit(a),
        };
    }
    /// Whether the set grants `action`, either listed or through `*`.
    pub const fn grants(self, action: Action) -> bool {
        self.0 & (Self::bit(action) | Self::WILDCARD_BIT) != 0
    }
    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The members, wildcard first, then actions in discriminant order.
    pub fn iter(self) -> impl Iterator<Item = Wild<Action>> {
        let wildcard = (self.0 & Self::WILDCARD_BIT != 0).then_some(Wild::Any);
        wildcard.into_iter().chain(
            Action::ALL.iter().filter(move |a| self.0 & Self::bit(**a) != 0).map(|a| Wild::Is(*a)),
        )
    }
}

impl FromIterator<Wild<Action>> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Wild<Action>>>(iter: I) -> Self {
        let mut set = ActionSet::EMPTY;
        for a in iter {
            set.insert(a);
        }
        set
    }
}

/// Parses `*` or an action name.
pub fn parse_wild_action(s: &str) -> Option<Wild<Action>> {
    if s == "*" { Some(Wild::Any) } else { Action::parse(s).map(Wild::Is) }
}

/// Parses `*` or a resource type name.
pub fn parse_wild_type(s: &str) -> Option<Wild<ResourceType>> {
    if s == "*" { Some(Wild::Any) } else { ResourceType::parse(s).map(Wild::Is) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for t in ResourceType::ALL {
            assert_eq!(ResourceType::parse(t.as_str()), Some(*t));
            assert_eq!(t.index(), *t as usize);
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(ResourceType::parse("Workspace"), None);
    }

    #[test]
    fn action_set_wildcard_grants_everything() {
        let set: ActionSet = [Wild::Any].into_iter().collect();
        assert!(Action::ALL.iter().all(|a| set.grants(*a)));
        let use_only: ActionSet =
            [Wild::Is(Action::Use), Wild::Is(Action::Read)].into_iter().collect();
        assert!(use_only.grants(Action::Use) && !use_only.grants(Action::Update));
        assert_eq!(use_only.iter().count(), 2);
    }
}
