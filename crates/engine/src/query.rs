//! Coder's search-query language (`q=`, coder-api.md §2): the shared tokenizer and the users
//! query. The whole query is lower-cased first, values holding `:` must be quoted, all
//! bare words join into one free-text term, and every problem is reported as a validation
//! naming its key.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One problem in a query, as Coder's `{field, detail}` validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub field: String,
    pub detail: String,
}

fn q_error(detail: String) -> Vec<QueryError> {
    vec![QueryError { field: "q".into(), detail }]
}

/// Splits on `delimiter` outside double quotes; quotes are kept or dropped.
fn split_outside_quotes(s: &str, delimiter: char, keep_quotes: bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
            if keep_quotes {
                current.push(c);
            }
        } else if c == delimiter && !quoted {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// `key → values` in order of appearance, from a lower-cased query.
pub type Terms = BTreeMap<String, Vec<String>>;

/// Tokenizes a query; bare words become one free-text value under `free_text_key`.
pub fn terms(query: &str, free_text_key: &str) -> Result<Terms, Vec<QueryError>> {
    let query = query.to_lowercase();
    let mut values = Terms::new();
    let mut free = Vec::new();
    for token in split_outside_quotes(&query, ' ', true) {
        if token.is_empty() {
            continue;
        }
        if !token.contains(':') {
            free.push(token.replace('"', ""));
            continue;
        }
        if token.starts_with(':') || token.ends_with(':') {
            return Err(q_error(format!("Query element \"{token}\" cannot start or end with ':'")));
        }
        let parts = split_outside_quotes(&token, ':', false);
        match parts.as_slice() {
            [single] => free.push(single.clone()),
            [key, value] => values.entry(key.clone()).or_default().push(value.clone()),
            _ => return Err(q_error(format!("Query element \"{token}\" can only contain 1 ':'"))),
        }
    }
    if !free.is_empty() {
        values.entry(free_text_key.to_owned()).or_default().push(free.join(" "));
    }
    Ok(values)
}

/// Reads typed values out of [`Terms`], collecting every error, like Coder's param parser.
pub struct TermParser {
    terms: Terms,
    pub errors: Vec<QueryError>,
}

impl TermParser {
    pub fn new(terms: Terms) -> Self {
        TermParser { terms, errors: Vec::new() }
    }

    /// A single-valued string (empty = absent).
    pub fn string(&mut self, key: &str) -> Option<String> {
        let values = self.terms.remove(key)?;
        if values.len() > 1 {
            self.errors.push(QueryError {
                field: key.into(),
                detail: format!(
                    "Query param \"{key}\" provided more than once, found {} times. Only provide 1 instance of this query param.",
                    values.len()
                ),
            });
            return None;
        }
        values.into_iter().next().filter(|v| !v.is_empty())
    }

    /// A list: repeats and comma-separated values, each parsed by `parse`.
    pub fn list<T>(&mut self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
        let Some(values) = self.terms.remove(key) else { return Vec::new() };
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for v in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
            match parse(v) {
                Some(t) => out.push(t),
                None => bad.push(format!("\"{v}\" is not a valid value")),
            }
        }
        if !bad.is_empty() {
            self.errors.push(QueryError {
                field: key.into(),
                detail: format!("Query param \"{key}\" has invalid values: {}", bad.join(", ")),
            });
        }
        out
    }

    /// An RFC 3339 time; re-upper-cased because the whole query was lower-cased.
    pub fn time(&mut self, key: &str) -> Option<OffsetDateTime> {
        let value = self.string(key)?;
        match OffsetDateTime::parse(&value.to_uppercase(), &Rfc3339) {
            Ok(t) => Some(t.to_offset(time::UtcOffset::UTC)),
            Err(e) => {
                self.errors.push(QueryError {
                    field: key.into(),
                    detail: format!(
                        "Query param \"{key}\" must be a valid date format (2006-01-02T15:04:05.999999999Z07:00): {e}"
                    ),
                });
                None
            }
        }
    }

    /// Reports every key nobody asked for, then returns the errors.
    pub fn finish(mut self) -> Vec<QueryError> {
        for key in std::mem::take(&mut self.terms).into_keys() {
            self.errors.push(QueryError {
                field: key.clone(),
                detail: format!("\"{key}\" is not a valid query param"),
            });
        }
        self.errors
    }
}

/// A user's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Dormant,
    Suspended,
}

impl UserStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Dormant => "dormant",
            UserStatus::Suspended => "suspended",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [UserStatus::Active, UserStatus::Dormant, UserStatus::Suspended]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// How a user signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginType {
    Password,
    Github,
    Oidc,
    Token,
    None,
}

impl LoginType {
    pub const fn as_str(self) -> &'static str {
        match self {
            LoginType::Password => "password",
            LoginType::Github => "github",
            LoginType::Oidc => "oidc",
            LoginType::Token => "token",
            LoginType::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [LoginType::Password, LoginType::Github, LoginType::Oidc, LoginType::Token, LoginType::None]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A parsed users query (coder-api.md §2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Case-insensitive substring of username or email.
    pub search: Option<String>,
    /// Substring of the display name.
    pub name: Option<String>,
    pub status: Vec<UserStatus>,
    /// Site roles, any of.
    pub roles: Vec<String>,
    pub login_types: Vec<LoginType>,
    pub last_seen_before: Option<OffsetDateTime>,
    pub last_seen_after: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    pub created_after: Option<OffsetDateTime>,
}

impl UserQuery {
    /// Parses `q`; on error, every offending key is named.
    pub fn parse(q: &str) -> Result<Self, Vec<QueryError>> {
        let mut p = TermParser::new(terms(q, "search")?);
        let query = UserQuery {
            search: p.string("search"),
            name: p.string("name"),
            status: p.list("status", UserStatus::parse),
            roles: p.list("role", |s| Some(s.to_owned())),
            login_types: p.list("login_type", LoginType::parse),
            last_seen_before: p.time("last_seen_before"),
            last_seen_after: p.time("last_seen_after"),
            created_before: p.time("created_before"),
            created_after: p.time("created_after"),
        };
        let errors = p.finish();
        if errors.is_empty() { Ok(query) } else { Err(errors) }
    }
}

/// Audit actions (coder-api.md §1.8).
pub const AUDIT_ACTIONS: &[&str] = &[
    "create",
    "write",
    "delete",
    "start",
    "stop",
    "login",
    "logout",
    "register",
    "request_password_reset",
    "connect",
    "disconnect",
    "open",
    "close",
];

/// Audited resource types (coder-api.md §1.8).
pub const AUDIT_RESOURCE_TYPES: &[&str] = &[
    "template",
    "template_version",
    "user",
    "workspace",
    "workspace_build",
    "git_ssh_key",
    "api_key",
    "group",
    "license",
    "convert_login",
    "health_settings",
    "notifications_settings",
    "workspace_proxy",
    "organization",
    "oauth2_provider_app",
    "oauth2_provider_app_secret",
    "custom_role",
    "organization_member",
    "notification_template",
    "idp_sync_settings_organization",
    "idp_sync_settings_group",
    "idp_sync_settings_role",
    "workspace_agent",
    "workspace_app",
];

/// A parsed audit query (coder-api.md §2.5). Dates bound whole days, in UTC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub resource_type: Option<String>,
    pub resource_id: Option<uuid::Uuid>,
    pub resource_target: Option<String>,
    pub action: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    /// From the start of this day.
    pub date_from: Option<OffsetDateTime>,
    /// Up to the end of this day (exclusive bound: the next midnight).
    pub date_to: Option<OffsetDateTime>,
    /// An org id or name, resolved by the caller.
    pub organization: Option<String>,
    pub request_id: Option<uuid::Uuid>,
    pub build_reason: Option<String>,
}

impl TermParser {
    /// A single value that must be one of `allowed`.
    pub fn one_of(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let v = self.string(key)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.errors.push(QueryError {
                field: key.into(),
                detail: format!(
                    "Query param \"{key}\" has invalid value: \"{v}\" is not a valid value"
                ),
            });
            None
        }
    }

    /// A uuid.
    pub fn uuid(&mut self, key: &str) -> Option<uuid::Uuid> {
        let v = self.string(key)?;
        match uuid::Uuid::parse_str(&v) {
            Ok(u) => Some(u),
            Err(_) => {
                self.errors.push(QueryError {
                    field: key.into(),
                    detail: format!("Query param \"{key}\" must be a valid uuid"),
                });
                None
            }
        }
    }

    /// A `2006-01-02` date as the start of that day (UTC), optionally plus one day.
    pub fn date(&mut self, key: &str, end_of_day: bool) -> Option<OffsetDateTime> {
        let v = self.string(key)?;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match time::Date::parse(&v, &format) {
            Ok(d) => {
                let day = d.midnight().assume_utc();
                Some(if end_of_day { day + time::Duration::days(1) } else { day })
            }
            Err(e) => {
                self.errors.push(QueryError {
                    field: key.into(),
                    detail: format!(
                        "Query param \"{key}\" must be a valid date format (2006-01-02): {e}"
                    ),
                });
                None
            }
        }
    }
}

impl AuditQuery {
    /// Parses `q`; free text is the resource type.
    pub fn parse(q: &str) -> Result<Self, Vec<QueryError>> {
        let mut p = TermParser::new(terms(q, "resource_type")?);
        let query = AuditQuery {
            resource_type: p.one_of("resource_type", AUDIT_RESOURCE_TYPES),
            resource_id: p.uuid("resource_id"),
            resource_target: p.string("resource_target"),
            action: p.one_of("action", AUDIT_ACTIONS),
            username: p.string("username"),
            email: p.string("email"),
            date_from: p.date("date_from", false),
            date_to: p.date("date_to", true),
            organization: p.string("organization"),
            request_id: p.uuid("request_id"),
            build_reason: p.string("build_reason"),
        };
        let errors = p.finish();
        if errors.is_empty() { Ok(query) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let q =
            UserQuery::parse("status:active role:owner last_seen_before:\"2023-07-01T00:00:00Z\"")
                .unwrap();
        assert_eq!(q.status, vec![UserStatus::Active]);
        assert_eq!(q.roles, vec!["owner".to_owned()]);
        assert_eq!(q.last_seen_before.unwrap().unix_timestamp(), 1_688_169_600);
        let q = UserQuery::parse("status:active,dormant status:suspended Alice Smith").unwrap();
        assert_eq!(q.status.len(), 3);
        assert_eq!(q.search.as_deref(), Some("alice smith"));
    }

    #[test]
    fn errors_name_the_key() {
        let errs = UserQuery::parse("status:sleeping colour:red").unwrap_err();
        assert_eq!(errs[0].field, "status");
        assert_eq!(
            errs[0].detail,
            "Query param \"status\" has invalid values: \"sleeping\" is not a valid value"
        );
        assert_eq!(errs[1].detail, "\"colour\" is not a valid query param");
        let errs = UserQuery::parse("last_seen_before:2023-07-01T00:00:00Z").unwrap_err();
        assert_eq!(
            errs[0].detail,
            "Query element \"last_seen_before:2023-07-01t00:00:00z\" can only contain 1 ':'"
        );
        let errs = UserQuery::parse("status:").unwrap_err();
        assert_eq!(errs[0].field, "q");
        let errs = AuditQuery::parse("action:explode").unwrap_err();
        assert_eq!(errs[0].field, "action");
        let q = AuditQuery::parse("workspace action:delete date_to:2024-01-31").unwrap();
        assert_eq!(q.resource_type.as_deref(), Some("workspace"));
        assert_eq!(q.date_to.unwrap().unix_timestamp(), 1_706_745_600);
        let errs = UserQuery::parse("created_after:\"yesterday\"").unwrap_err();
        assert!(
            errs[0].detail.starts_with("Query param \"created_after\" must be a valid date format")
        );
    }
}
