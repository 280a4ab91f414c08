//! `atrium organizations settings show|set group-sync|role-sync|organization-sync` (Coder's
//! `coder organizations settings`): prints the IdP sync settings as indented JSON, and replaces
//! them with JSON read from standard input (as Coder) or from a file given as an argument.

use std::io::Read;

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::Client;
use crate::commands::{field, resolve_org};
use crate::error::{CliError, CliResult};
use crate::output::out;

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Print a setting as JSON.
    #[command(
        after_help = "Example:\n  atrium organizations settings show group-sync --org platform"
    )]
    Show {
        #[command(subcommand)]
        setting: Setting,
    },
    /// Replace a setting with JSON from standard input (or a file), and print the result.
    #[command(
        after_help = "Examples:\n  atrium organizations settings set group-sync < groups.json\n  atrium organizations settings set role-sync roles.json --org platform\n  echo '{\"field\":\"orgs\",\"mapping\":{},\"organization_assign_default\":true}' | atrium organizations settings set organization-sync"
    )]
    Set {
        #[command(subcommand)]
        setting: SettingWithInput,
    },
}

/// The settings, by Coder's names (and aliases).
#[derive(Subcommand, Debug, Clone, Copy)]
pub enum Setting {
    /// Group sync settings to sync groups from an IdP (per organization).
    #[command(
        name = "group-sync",
        visible_alias = "groupsync",
        after_help = "Example:\n  atrium organizations settings show group-sync --org platform"
    )]
    Groups,
    /// Role sync settings to sync organization roles from an IdP (per organization).
    #[command(
        name = "role-sync",
        visible_alias = "rolesync",
        after_help = "Example:\n  atrium organizations settings show role-sync"
    )]
    Roles,
    /// Organization sync settings to sync organization memberships from an IdP (deployment-wide).
    #[command(
        name = "organization-sync",
        visible_aliases = ["organizationsync", "org-sync", "orgsync"],
        after_help = "Example:\n  atrium organizations settings show organization-sync"
    )]
    Organizations,
}

/// A setting to replace, with where its JSON comes from.
#[derive(Subcommand, Debug, Clone)]
pub enum SettingWithInput {
    /// Group sync settings to sync groups from an IdP (per organization).
    #[command(
        name = "group-sync",
        visible_alias = "groupsync",
        after_help = "Examples:\n  atrium organizations settings set group-sync < groups.json\n  atrium organizations settings set group-sync groups.json --org platform"
    )]
    Groups(Input),
    /// Role sync settings to sync organization roles from an IdP (per organization).
    #[command(
        name = "role-sync",
        visible_alias = "rolesync",
        after_help = "Example:\n  echo '{\"field\":\"roles\",\"mapping\":{\"leads\":[\"organization-admin\"]}}' | atrium organizations settings set role-sync"
    )]
    Roles(Input),
    /// Organization sync settings to sync organization memberships from an IdP (deployment-wide).
    #[command(
        name = "organization-sync",
        visible_aliases = ["organizationsync", "org-sync", "orgsync"],
        after_help = "Example:\n  atrium organizations settings set organization-sync orgs.json"
    )]
    Organizations(Input),
}

#[derive(clap::Args, Debug, Clone)]
pub struct Input {
    /// A JSON file (default, or `-`: standard input).
    pub file: Option<String>,
}

async fn path_of(c: &Client, org: Option<&str>, setting: Setting) -> CliResult<String> {
    let kind = match setting {
        Setting::Organizations => return Ok("/api/v2/settings/idpsync/organization".into()),
        Setting::Groups => "groups",
        Setting::Roles => "roles",
    };
    let org = resolve_org(c, org).await?;
    Ok(format!("/api/v2/organizations/{}/settings/idpsync/{kind}", field(&org, "id")))
}

fn read_input(input: &Input) -> CliResult<Value> {
    let text = match input.file.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| CliError::msg(format!("reading stdin: {e}")))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("reading {path}: {e}")))?,
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::msg(format!("the settings are not JSON: {e}")))
}

/// Coder prints the settings indented with tabs.
fn print(v: &Value) -> CliResult<()> {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(v, &mut ser).map_err(|e| CliError::msg(e.to_string()))?;
    out(&String::from_utf8_lossy(&buf));
    Ok(())
}

pub async fn run(c: &Client, org: Option<&str>, command: SettingsCommand) -> CliResult<()> {
    match command {
        SettingsCommand::Show { setting } => {
            let v: Value = c.get(&path_of(c, org, setting).await?).await?;
            print(&v)
        }
        SettingsCommand::Set { setting } => {
            let (setting, input) = match setting {
                SettingWithInput::Groups(i) => (Setting::Groups, i),
                SettingWithInput::Roles(i) => (Setting::Roles, i),
                SettingWithInput::Organizations(i) => (Setting::Organizations, i),
            };
            let body = read_input(&input)?;
            let v: Value = c.json(Method::PATCH, &path_of(c, org, setting).await?, &body).await?;
            print(&v)
        }
    }
}
