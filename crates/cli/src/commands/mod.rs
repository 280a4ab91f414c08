//! The client commands, one module per resource. Every one is a thin HTTP client over
//! `/api/v2`. The workspace commands (`create`, `list`, `show`, `start`, `stop`, `delete`)
//! are top-level, as in Coder's CLI, and live in `workspaces.rs`.

pub mod explain;
pub mod groups;
pub mod login;
pub mod members;
pub mod org_settings;
pub mod orgs;
pub mod roles;
pub mod templates;
pub mod tokens;
pub mod users;
pub mod workspaces;

use serde_json::Value;

use crate::client::{Client, encode};
use crate::error::{CliError, CliResult};

/// `-O/--org`: an organization by name or id (default: the default org, or your only one).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OrgArg {
    /// The organization, by name or id (default: the default organization, or your only one).
    #[arg(short = 'O', long = "org", value_name = "ORG", global = true)]
    pub org: Option<String>,
}

/// `-y/--yes`.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct YesArg {
    /// Answer yes to the confirmation instead of asking.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// The organization to act in: the one named, else the default one among those the caller
/// may read, else the caller's only one.
pub async fn resolve_org(c: &Client, org: Option<&str>) -> CliResult<Value> {
    if let Some(name) = org.filter(|o| !o.trim().is_empty()) {
        return match c
            .get_optional::<Value>(&format!("/api/v2/organizations/{}", encode(name)))
            .await?
        {
            Some(o) => Ok(o),
            None => Err(CliError::msg(format!(
                "organization `{name}` does not exist or you cannot see it"
            ))),
        };
    }
    let list: Vec<Value> = c.get("/api/v2/organizations").await?;
    if let Some(default) = list.iter().find(|o| o["is_default"] == true) {
        return Ok(default.clone());
    }
    match list.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(CliError::msg("you are not a member of any organization")),
        many => Err(CliError::msg(format!(
            "pick an organization with --org: you can see {}",
            many.iter().filter_map(|o| o["name"].as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A string field of a JSON object.
pub fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// A user by username, id or `me` (the server answers for all three).
pub async fn get_user(c: &Client, user: &str) -> CliResult<atrium_api::users::User> {
    c.get(&format!("/api/v2/users/{}", encode(user))).await
}

/// An org member by username, email or user id, from the org's member list (which org
/// admins may read even when they cannot list every user).
pub async fn find_member(c: &Client, org: &Value, who: &str) -> CliResult<Value> {
    let members: Vec<Value> =
        c.get(&format!("/api/v2/organizations/{}/members", field(org, "id"))).await?;
    let wanted = who.to_lowercase();
    let found = members.into_iter().find(|m| {
        field(m, "username").to_lowercase() == wanted
            || field(m, "email").to_lowercase() == wanted
            || field(m, "user_id") == wanted
    });
    found.ok_or_else(|| {
        CliError::msg(format!(
            "`{who}` is not a member of organization `{}` (give a username, email or user id)",
            field(org, "name")
        ))
    })
}
