//! `atrium groups list|create|edit|delete` (Coder's `coder groups`). Members are given by
//! username, email or id and resolved here, since the API takes user ids only.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, encode};
use crate::commands::{OrgArg, YesArg, field, find_member, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, OutputArgs, Table, cell, out};
use crate::prompt;

/// Manage groups (the Everyone group of each organization holds every member implicitly).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium groups create devs --org platform\n  atrium groups edit devs --add-users alice,bob@example.com\n  atrium groups list -o json"
)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub org: OrgArg,
    #[command(subcommand)]
    pub command: GroupsCommand,
}

#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// List the organization's groups.
    ///
    /// Columns: name, display name, organization id, organization name, members, total
    /// members, avatar url, source (default: name, display name, organization name, members).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium groups list --org platform\n  atrium groups list -c name,total\\ members"
    )]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Create a group.
    #[command(
        after_help = "Example:\n  atrium groups create devs --display-name Developers --org platform"
    )]
    Create {
        /// The group's name.
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        /// An avatar image URL.
        #[arg(short = 'u', long)]
        avatar_url: Option<String>,
    },
    /// Rename a group, change its display name or avatar, add or remove members.
    #[command(
        after_help = "Examples:\n  atrium groups edit devs --add-users alice,bob@example.com --rm-users carol\n  atrium groups edit devs --name developers"
    )]
    Edit {
        /// The group's current name.
        name: String,
        /// A new name.
        #[arg(short = 'n', long = "name")]
        new_name: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(short = 'u', long)]
        avatar_url: Option<String>,
        /// Members to add: usernames, emails or ids (repeat or comma-separate).
        #[arg(short = 'a', long, value_delimiter = ',')]
        add_users: Vec<String>,
        /// Members to remove: usernames, emails or ids.
        #[arg(short = 'r', long, value_delimiter = ',')]
        rm_users: Vec<String>,
    },
    /// Delete a group.
    #[command(visible_alias = "rm", after_help = "Example:\n  atrium groups delete devs --yes")]
    Delete {
        /// The group's name.
        name: String,
        #[command(flatten)]
        yes: YesArg,
    },
}

pub async fn run(args: GroupsArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    let org = resolve_org(&c, args.org.org.as_deref()).await?;
    let org_id = field(&org, "id").to_owned();
    match args.command {
        GroupsCommand::List { output } => {
            let list: Vec<Value> = c.get(&format!("/api/v2/organizations/{org_id}/groups")).await?;
            output::print_list(&output, &list, || group_table(&list))
        }
        GroupsCommand::Create { name, display_name, avatar_url } => {
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            if let Some(d) = display_name {
                body.insert("display_name".into(), json!(d));
            }
            if let Some(a) = avatar_url {
                body.insert("avatar_url".into(), json!(a));
            }
            let g: Value = c
                .json(Method::POST, &format!("/api/v2/organizations/{org_id}/groups"), &body)
                .await?;
            out(&format!("Successfully created group {}!", field(&g, "name")));
            Ok(())
        }
        GroupsCommand::Edit { name, new_name, display_name, avatar_url, add_users, rm_users } => {
            let group = get_group(&c, &org, &name).await?;
            let mut add = Vec::new();
            for who in add_users.iter().filter(|w| !w.trim().is_empty()) {
                add.push(field(&find_member(&c, &org, who.trim()).await?, "user_id").to_owned());
            }
            let mut remove = Vec::new();
            for who in rm_users.iter().filter(|w| !w.trim().is_empty()) {
                remove.push(group_member_id(&c, &org, &group, who.trim()).await?);
            }
            let mut body = Map::new();
            body.insert("add_users".into(), json!(add));
            body.insert("remove_users".into(), json!(remove));
            if let Some(n) = new_name {
                body.insert("name".into(), json!(n));
            }
            if let Some(d) = display_name {
                body.insert("display_name".into(), json!(d));
            }
            if let Some(a) = avatar_url {
                body.insert("avatar_url".into(), json!(a));
            }
            if add.is_empty() && remove.is_empty() && body.len() == 2 {
                return Err(CliError::msg(
                    "nothing to change: pass --add-users, --rm-users, --name, --display-name or --avatar-url",
                ));
            }
            let g: Value = c
                .json(Method::PATCH, &format!("/api/v2/groups/{}", field(&group, "id")), &body)
                .await?;
            out(&format!("Successfully patched group {}!", field(&g, "name")));
            Ok(())
        }
        GroupsCommand::Delete { name, yes } => {
            let group = get_group(&c, &org, &name).await?;
            prompt::confirm(&format!("Are you sure you want to delete group {name}?"), yes.yes)?;
            let _: Value =
                c.call(Method::DELETE, &format!("/api/v2/groups/{}", field(&group, "id"))).await?;
            out(&format!("Successfully deleted group {name}!"));
            Ok(())
        }
    }
}

/// A group of `org` by name.
pub async fn get_group(c: &Client, org: &Value, name: &str) -> CliResult<Value> {
    let path = format!("/api/v2/organizations/{}/groups/{}", field(org, "id"), encode(name));
    c.get_optional(&path).await?.ok_or_else(|| {
        CliError::msg(format!("organization `{}` has no group `{name}`", field(org, "name")))
    })
}

/// The id of a group member given by username, email or id; falls back to the org's members
/// (the server then says whether they are in the group).
async fn group_member_id(c: &Client, org: &Value, group: &Value, who: &str) -> CliResult<String> {
    let wanted = who.to_lowercase();
    let in_group = group["members"].as_array().and_then(|members| {
        members.iter().find(|m| {
            field(m, "username").to_lowercase() == wanted
                || field(m, "email").to_lowercase() == wanted
                || field(m, "id") == wanted
        })
    });
    match in_group {
        Some(m) => Ok(field(m, "id").to_owned()),
        None => Ok(field(&find_member(c, org, who).await?, "user_id").to_owned()),
    }
}

fn group_table(list: &[Value]) -> Table {
    const COLUMNS: &[&str] = &[
        "name",
        "display name",
        "organization id",
        "organization name",
        "members",
        "total members",
        "avatar url",
        "source",
    ];
    let mut t = Table::new(COLUMNS, &["name", "display name", "organization name", "members"]);
    for g in list {
        let members = g["members"]
            .as_array()
            .map(|m| m.iter().map(|u| field(u, "username")).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        t.push(vec![
            cell(g, "name"),
            cell(g, "display_name"),
            cell(g, "organization_id"),
            cell(g, "organization_name"),
            members,
            cell(g, "total_member_count"),
            cell(g, "avatar_url"),
            cell(g, "source"),
        ]);
    }
    t
}
