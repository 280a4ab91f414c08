//! `atrium organizations members list|add|remove|edit-roles`.

use atrium_api::users::UpdateRoles;
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Client, encode};
use crate::commands::{field, resolve_org};
use crate::error::CliResult;
use crate::output::{self, OutputArgs, Table, cell, names, out};

#[derive(Subcommand, Debug)]
pub enum MembersCommand {
    /// List the organization's members.
    ///
    /// Columns: username, name, email, user id, organization id, created at, updated at,
    /// organization roles, site roles (default: username, organization roles).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium organizations members list --org platform\n  atrium organizations members list -c username,email,organization\\ roles -o json"
    )]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Add a user to the organization.
    #[command(
        visible_alias = "create",
        after_help = "Example:\n  atrium organizations members add alice --org platform"
    )]
    Add {
        /// A username or user id.
        user: String,
    },
    /// Remove a user from the organization.
    #[command(
        visible_alias = "rm",
        after_help = "Example:\n  atrium organizations members remove alice --org platform"
    )]
    Remove {
        /// A username or user id.
        user: String,
    },
    /// Replace a member's organization roles (`organization-member` is implicit).
    ///
    /// Built-in org roles: organization-admin, organization-auditor, organization-user-admin,
    /// organization-template-admin, organization-workspace-creation-ban; plus the org's custom
    /// roles. No roles = a plain member.
    #[command(
        visible_alias = "edit-role",
        after_help = "Examples:\n  atrium organizations members edit-roles alice organization-admin --org platform\n  atrium organizations members edit-roles bob organization-workspace-creation-ban cr-startstop\n  atrium organizations members edit-roles bob   # back to a plain member"
    )]
    EditRoles {
        /// A username or user id.
        user: String,
        /// The complete new set of organization roles.
        roles: Vec<String>,
    },
}

pub async fn run(c: &Client, org: Option<&str>, command: MembersCommand) -> CliResult<()> {
    let org = resolve_org(c, org).await?;
    let base = format!("/api/v2/organizations/{}/members", field(&org, "id"));
    match command {
        MembersCommand::List { output } => {
            let list: Vec<Value> = c.get(&base).await?;
            output::print_list(&output, &list, || member_table(&list))
        }
        MembersCommand::Add { user } => {
            let m: Value = c.call(Method::POST, &format!("{base}/{}", encode(&user))).await?;
            out(&format!(
                "Organization member {} added to {}.",
                username_or(&m, &user),
                field(&org, "name")
            ));
            Ok(())
        }
        MembersCommand::Remove { user } => {
            let _: Value = c.call(Method::DELETE, &format!("{base}/{}", encode(&user))).await?;
            out(&format!("Organization member {user} removed from {}.", field(&org, "name")));
            Ok(())
        }
        MembersCommand::EditRoles { user, roles } => {
            let roles: Vec<String> = roles
                .iter()
                .flat_map(|r| r.split(','))
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            let m: Value = c
                .json(
                    Method::PUT,
                    &format!("{base}/{}/roles", encode(&user)),
                    &UpdateRoles { roles },
                )
                .await?;
            let now = names(&m["roles"]);
            out(&format!(
                "Successfully updated {}'s roles in {} to {}",
                username_or(&m, &user),
                field(&org, "name"),
                if now.is_empty() { "organization-member" } else { &now }
            ));
            Ok(())
        }
    }
}

fn username_or<'a>(m: &'a Value, fallback: &'a str) -> &'a str {
    Some(field(m, "username")).filter(|u| !u.is_empty()).unwrap_or(fallback)
}

fn member_table(list: &[Value]) -> Table {
    const COLUMNS: &[&str] = &[
        "username",
        "name",
        "email",
        "user id",
        "organization id",
        "created at",
        "updated at",
        "organization roles",
        "site roles",
    ];
    let mut t = Table::new(COLUMNS, &["username", "organization roles"]);
    for m in list {
        t.push(vec![
            cell(m, "username"),
            cell(m, "name"),
            cell(m, "email"),
            cell(m, "user_id"),
            cell(m, "organization_id"),
            cell(m, "created_at"),
            cell(m, "updated_at"),
            names(&m["roles"]),
            names(&m["global_roles"]),
        ]);
    }
    t
}
