//! `atrium server` flags for signing in through an OpenID Connect identity provider (Coder's
//! `CODER_OIDC_*`, as `--oidc-*` / `ATRIUM_OIDC_*`). OIDC is on when an issuer URL is given.

use crate::config::Secret;

/// The OIDC flags (flattened into [`crate::Config`]).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OidcConfig {
    /// The identity provider's issuer URL (its discovery document is read at start-up).
    /// Setting it turns OIDC sign-in on.
    #[arg(long, env = "ATRIUM_OIDC_ISSUER_URL")]
    pub oidc_issuer_url: Option<String>,

    /// The client id registered at the identity provider.
    #[arg(long, env = "ATRIUM_OIDC_CLIENT_ID", default_value = "")]
    pub oidc_client_id: String,

    /// The client secret registered at the identity provider.
    #[arg(long, env = "ATRIUM_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<Secret>,

    /// Only emails of these domains may sign in (comma-separated; a leading `@` is ignored).
    #[arg(long, env = "ATRIUM_OIDC_EMAIL_DOMAIN", value_delimiter = ',')]
    pub oidc_email_domain: Vec<String>,

    /// Scopes asked for (comma-separated).
    #[arg(
        long,
        env = "ATRIUM_OIDC_SCOPES",
        value_delimiter = ',',
        default_value = "openid,profile,email"
    )]
    pub oidc_scopes: Vec<String>,

    /// Let people without an account create one by signing in (the first user always may).
    #[arg(long, env = "ATRIUM_OIDC_ALLOW_SIGNUPS", default_value_t = true, action = clap::ArgAction::Set)]
    pub oidc_allow_signups: bool,

    /// The text of the sign-in button.
    #[arg(long, env = "ATRIUM_OIDC_SIGN_IN_TEXT", default_value = "OpenID Connect")]
    pub oidc_sign_in_text: String,

    /// The icon of the sign-in button (a URL).
    #[arg(long, env = "ATRIUM_OIDC_ICON_URL", default_value = "")]
    pub oidc_icon_url: String,

    /// The claim holding the username.
    #[arg(long, env = "ATRIUM_OIDC_USERNAME_FIELD", default_value = "preferred_username")]
    pub oidc_username_field: String,

    /// The claim holding the email.
    #[arg(long, env = "ATRIUM_OIDC_EMAIL_FIELD", default_value = "email")]
    pub oidc_email_field: String,

    /// The claim holding the display name.
    #[arg(long, env = "ATRIUM_OIDC_NAME_FIELD", default_value = "name")]
    pub oidc_name_field: String,

    /// Accept emails the identity provider marks `email_verified: false`.
    #[arg(long, env = "ATRIUM_OIDC_IGNORE_EMAIL_VERIFIED")]
    pub oidc_ignore_email_verified: bool,

    /// The claim holding the user's groups: for --oidc-allowed-groups, and group sync in the
    /// default organization until its group sync settings are set through the API (Coder's
    /// legacy group sync).
    #[arg(long, env = "ATRIUM_OIDC_GROUP_FIELD", default_value = "")]
    pub oidc_group_field: String,

    /// Legacy group sync: claim values to Atrium group names, as JSON (`{"idp-ops":"ops"}`),
    /// applied before --oidc-group-regex-filter.
    #[arg(long, env = "ATRIUM_OIDC_GROUP_MAPPING", default_value = "{}", value_parser = parse_group_mapping)]
    pub oidc_group_mapping: GroupNameMapping,

    /// Legacy group sync: create groups the claim names that do not exist yet.
    #[arg(long, env = "ATRIUM_OIDC_GROUP_AUTO_CREATE")]
    pub oidc_group_auto_create: bool,

    /// Legacy group sync: claimed group names not matching this regular expression are ignored.
    #[arg(long, env = "ATRIUM_OIDC_GROUP_REGEX_FILTER", default_value = ".*", value_parser = parse_regex)]
    pub oidc_group_regex_filter: String,

    /// Organization sync until set through the API: the claim holding the user's
    /// organizations (empty: off).
    #[arg(long, env = "ATRIUM_OIDC_ORGANIZATION_FIELD", default_value = "")]
    pub oidc_organization_field: String,

    /// Organization sync until set through the API: claim values to organization ids, as JSON
    /// (`{"eng":["<uuid>"]}`).
    #[arg(long, env = "ATRIUM_OIDC_ORGANIZATION_MAPPING", default_value = "{}", value_parser = parse_org_mapping)]
    pub oidc_organization_mapping: OrgMapping,

    /// Organization sync until set through the API: keep every synced user in the default
    /// organization.
    #[arg(long, env = "ATRIUM_OIDC_ORGANIZATION_ASSIGN_DEFAULT", default_value_t = true, action = clap::ArgAction::Set)]
    pub oidc_organization_assign_default: bool,

    /// Only members of one of these identity-provider groups may sign in (comma-separated;
    /// needs --oidc-group-field).
    #[arg(long, env = "ATRIUM_OIDC_ALLOWED_GROUPS", value_delimiter = ',')]
    pub oidc_allowed_groups: Vec<String>,

    /// Site role sync: the claim holding the user's roles. While set, an OIDC user's site
    /// roles follow the claim at every sign-in and cannot be edited by hand.
    #[arg(long, env = "ATRIUM_OIDC_USER_ROLE_FIELD", default_value = "")]
    pub oidc_user_role_field: String,

    /// Site role sync: claim values to site roles, as JSON
    /// (`{"TemplateAuthor":["template-admin","user-admin"]}`); an unmapped value that names a
    /// site role is that role.
    #[arg(long, env = "ATRIUM_OIDC_USER_ROLE_MAPPING", default_value = "{}", value_parser = parse_role_mapping)]
    pub oidc_user_role_mapping: RoleMapping,

    /// Site role sync: roles every synced user gets (comma-separated).
    #[arg(long, env = "ATRIUM_OIDC_USER_ROLE_DEFAULT", value_delimiter = ',')]
    pub oidc_user_role_default: Vec<String>,

    /// Refuse password sign-in (owners included). The server refuses to start this way while
    /// no active owner signs in through the identity provider.
    #[arg(long, env = "ATRIUM_DISABLE_PASSWORD_AUTH")]
    pub disable_password_auth: bool,
}

/// The `ATRIUM_*` variables above, for the unknown-variable warning.
pub const OIDC_ENV: &[&str] = &[
    "ATRIUM_OIDC_ISSUER_URL",
    "ATRIUM_OIDC_CLIENT_ID",
    "ATRIUM_OIDC_CLIENT_SECRET",
    "ATRIUM_OIDC_EMAIL_DOMAIN",
    "ATRIUM_OIDC_SCOPES",
    "ATRIUM_OIDC_ALLOW_SIGNUPS",
    "ATRIUM_OIDC_SIGN_IN_TEXT",
    "ATRIUM_OIDC_ICON_URL",
    "ATRIUM_OIDC_USERNAME_FIELD",
    "ATRIUM_OIDC_EMAIL_FIELD",
    "ATRIUM_OIDC_NAME_FIELD",
    "ATRIUM_OIDC_IGNORE_EMAIL_VERIFIED",
    "ATRIUM_OIDC_GROUP_FIELD",
    "ATRIUM_OIDC_ALLOWED_GROUPS",
    "ATRIUM_OIDC_GROUP_MAPPING",
    "ATRIUM_OIDC_GROUP_AUTO_CREATE",
    "ATRIUM_OIDC_GROUP_REGEX_FILTER",
    "ATRIUM_OIDC_ORGANIZATION_FIELD",
    "ATRIUM_OIDC_ORGANIZATION_MAPPING",
    "ATRIUM_OIDC_ORGANIZATION_ASSIGN_DEFAULT",
    "ATRIUM_DISABLE_PASSWORD_AUTH",
    "ATRIUM_OIDC_USER_ROLE_FIELD",
    "ATRIUM_OIDC_USER_ROLE_MAPPING",
    "ATRIUM_OIDC_USER_ROLE_DEFAULT",
];

/// `--oidc-user-role-mapping`: claim value → site role names.
pub type RoleMapping = std::collections::BTreeMap<String, Vec<String>>;

fn parse_role_mapping(s: &str) -> Result<RoleMapping, String> {
    serde_json::from_str(s).map_err(|e| format!("not a JSON object of string lists: {e}"))
}

/// `--oidc-group-mapping`: claim value → group name (Coder's type: one name each).
pub type GroupNameMapping = std::collections::BTreeMap<String, String>;

/// `--oidc-organization-mapping`: claim value → organization ids.
pub type OrgMapping = std::collections::BTreeMap<String, Vec<uuid::Uuid>>;

fn parse_group_mapping(s: &str) -> Result<GroupNameMapping, String> {
    serde_json::from_str(s).map_err(|e| format!("not a JSON object of strings: {e}"))
}

fn parse_org_mapping(s: &str) -> Result<OrgMapping, String> {
    serde_json::from_str(s).map_err(|e| format!("not a JSON object of organization id lists: {e}"))
}

fn parse_regex(s: &str) -> Result<String, String> {
    regex::Regex::new(s).map(|_| s.to_owned()).map_err(|e| e.to_string())
}

impl OidcConfig {
    /// Defaults as the flags give them, OIDC off.
    pub fn off() -> Self {
        OidcConfig {
            oidc_scopes: vec!["openid".into(), "profile".into(), "email".into()],
            oidc_allow_signups: true,
            oidc_sign_in_text: "OpenID Connect".into(),
            oidc_username_field: "preferred_username".into(),
            oidc_email_field: "email".into(),
            oidc_name_field: "name".into(),
            oidc_user_role_mapping: RoleMapping::new(),
            oidc_group_regex_filter: ".*".into(),
            oidc_organization_assign_default: true,
            ..OidcConfig::default()
        }
    }

    /// Whether OIDC sign-in is configured.
    pub fn enabled(&self) -> bool {
        self.oidc_issuer_url.as_deref().is_some_and(|u| !u.is_empty())
    }
}
