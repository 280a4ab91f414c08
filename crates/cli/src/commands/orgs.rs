//! `atrium organizations list|show|create|edit|set-default|delete`, with `members` and `roles`
//! underneath (Coder's `coder organizations`).

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, encode};
use crate::commands::members::{self, MembersCommand};
use crate::commands::org_settings::{self, SettingsCommand};
use crate::commands::roles::{self, RolesCommand};
use crate::commands::{OrgArg, YesArg, field, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, OutputArgs, Table, cell, out};
use crate::prompt;

/// Manage organizations, their members and their roles.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium organizations list\n  atrium organizations create platform --yes\n  atrium organizations members add alice --org platform\n  atrium organizations roles list --org platform"
)]
pub struct OrgsArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub command: OrgsCommand,
}

#[derive(Subcommand, Debug)]
pub enum OrgsCommand {
    /// List the organizations you can see.
    ///
    /// Columns: id, name, display name, description, icon, created at, updated at, default
    /// (default: name, display name, id, default).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium organizations list\n  atrium organizations list -o json"
    )]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show an organization: by name or id, `selected` (--org, else the default one) or `me`
    /// (every organization you belong to).
    ///
    /// Columns as for `list` (default: id, name, default).
    #[command(
        after_help = "Examples:\n  atrium organizations show\n  atrium organizations show platform -o json\n  atrium organizations show me\n  atrium organizations show --only-id"
    )]
    Show {
        /// `selected` (default), `me`, a name or an id.
        #[arg(default_value = "selected")]
        which: String,
        /// Print only the organization's id.
        #[arg(long)]
        only_id: bool,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Create an organization (you join it, and as an owner may manage it).
    #[command(
        after_help = "Example:\n  atrium organizations create platform --display-name 'Platform team' --yes"
    )]
    Create {
        /// The organization's name (letters, digits and single hyphens; at most 32).
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        icon: Option<String>,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Change an organization's name, display name, description or icon.
    #[command(
        after_help = "Example:\n  atrium organizations edit platform --display-name 'Platform engineering'"
    )]
    Edit {
        /// The organization, by name or id.
        organization: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        icon: Option<String>,
    },
    /// Make an organization the default one (new users join it). Owners only.
    #[command(after_help = "Example:\n  atrium organizations set-default platform --yes")]
    SetDefault {
        /// The organization, by name or id.
        organization: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Delete an organization (never the default one).
    #[command(
        visible_alias = "rm",
        after_help = "Example:\n  atrium organizations delete old-team --yes"
    )]
    Delete {
        /// The organization, by name or id.
        organization: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Manage an organization's members.
    #[command(
        after_help = "Examples:\n  atrium organizations members list --org platform\n  atrium organizations members add alice --org platform"
    )]
    Members {
        #[command(flatten)]
        org: OrgArg,
        #[command(subcommand)]
        command: MembersCommand,
    },
    /// Manage an organization's roles (built-in and custom).
    #[command(
        after_help = "Examples:\n  atrium organizations roles list\n  atrium organizations roles create cr-viewer --permission workspace:read --dry-run"
    )]
    Roles {
        #[command(flatten)]
        org: OrgArg,
        #[command(subcommand)]
        command: RolesCommand,
    },
    /// Show and set IdP sync settings (group, role and organization sync).
    #[command(
        visible_alias = "setting",
        after_help = "Examples:\n  atrium organizations settings show group-sync\n  atrium organizations settings set role-sync < roles.json"
    )]
    Settings {
        #[command(flatten)]
        org: OrgArg,
        #[command(subcommand)]
        command: SettingsCommand,
    },
}

pub async fn run(args: OrgsArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    match args.command {
        OrgsCommand::List { output } => {
            let list: Vec<Value> = c.get("/api/v2/organizations").await?;
            output::print_list(&output, &list, || org_table(&list, LIST_DEFAULTS))
        }
        OrgsCommand::Show { which, only_id, org, output } => {
            show(&c, &which, org.org.as_deref(), only_id, &output).await
        }
        OrgsCommand::Create { name, display_name, description, icon, yes } => {
            prompt::confirm(
                &format!("Are you sure you want to create an organization with the name {name}?"),
                yes.yes,
            )?;
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            put_opt(&mut body, "display_name", display_name);
            put_opt(&mut body, "description", description);
            put_opt(&mut body, "icon", icon);
            let org: Value = c.json(Method::POST, "/api/v2/organizations", &body).await?;
            out(&format!("Organization {} ({}) created.", field(&org, "name"), field(&org, "id")));
            Ok(())
        }
        OrgsCommand::Edit { organization, name, display_name, description, icon } => {
            let org = resolve_org(&c, Some(&organization)).await?;
            let mut body = Map::new();
            put_opt(&mut body, "name", name);
            put_opt(&mut body, "display_name", display_name);
            put_opt(&mut body, "description", description);
            put_opt(&mut body, "icon", icon);
            if body.is_empty() {
                return Err(CliError::msg(
                    "nothing to change: pass --name, --display-name, --description or --icon",
                ));
            }
            let updated: Value = patch(&c, &org, &body).await?;
            out(&format!("Organization {} updated.", field(&updated, "name")));
            Ok(())
        }
        OrgsCommand::SetDefault { organization, yes } => {
            let org = resolve_org(&c, Some(&organization)).await?;
            if org["is_default"] == true {
                out(&format!("Organization {} is already the default.", field(&org, "name")));
                return Ok(());
            }
            prompt::confirm(
                &format!(
                    "Make {} the default organization? New users will join it.",
                    field(&org, "name")
                ),
                yes.yes,
            )?;
            let mut body = Map::new();
            body.insert("is_default".into(), json!(true));
            let updated: Value = patch(&c, &org, &body).await?;
            out(&format!("Organization {} is now the default.", field(&updated, "name")));
            Ok(())
        }
        OrgsCommand::Delete { organization, yes } => {
            let org = resolve_org(&c, Some(&organization)).await?;
            prompt::confirm(
                &format!("Are you sure you want to delete organization {}?", field(&org, "name")),
                yes.yes,
            )?;
            let _: Value = c
                .call(Method::DELETE, &format!("/api/v2/organizations/{}", field(&org, "id")))
                .await?;
            out(&format!("Organization {} has been deleted.", field(&org, "name")));
            Ok(())
        }
        OrgsCommand::Members { org, command } => {
            members::run(&c, org.org.as_deref(), command).await
        }
        OrgsCommand::Roles { org, command } => roles::run(&c, org.org.as_deref(), command).await,
        OrgsCommand::Settings { org, command } => {
            org_settings::run(&c, org.org.as_deref(), command).await
        }
    }
}

fn put_opt(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), json!(v));
    }
}

async fn patch(c: &Client, org: &Value, body: &Map<String, Value>) -> CliResult<Value> {
    c.json(Method::PATCH, &format!("/api/v2/organizations/{}", field(org, "id")), body).await
}

const COLUMNS: &[&str] =
    &["id", "name", "display name", "description", "icon", "created at", "updated at", "default"];
const LIST_DEFAULTS: &[&str] = &["name", "display name", "id", "default"];

fn org_table(list: &[Value], defaults: &'static [&'static str]) -> Table {
    let mut t = Table::new(COLUMNS, defaults);
    for o in list {
        t.push(vec![
            cell(o, "id"),
            cell(o, "name"),
            cell(o, "display_name"),
            cell(o, "description"),
            cell(o, "icon"),
            cell(o, "created_at"),
            cell(o, "updated_at"),
            cell(o, "is_default"),
        ]);
    }
    t
}

async fn show(
    c: &Client,
    which: &str,
    org: Option<&str>,
    only_id: bool,
    output: &OutputArgs,
) -> CliResult<()> {
    let list: Vec<Value> = match which {
        "selected" => vec![resolve_org(c, org).await?],
        "me" => {
            let me = crate::commands::get_user(c, "me").await?;
            let all: Vec<Value> = c.get("/api/v2/organizations").await?;
            all.into_iter()
                .filter(|o| me.organization_ids.iter().any(|id| id.to_string() == field(o, "id")))
                .collect()
        }
        name => {
            vec![c.get::<Value>(&format!("/api/v2/organizations/{}", encode(name))).await.map_err(
                |e| match e.status() {
                    Some(404) => CliError::msg(format!(
                        "organization `{name}` does not exist or you cannot see it"
                    )),
                    _ => e,
                },
            )?]
        }
    };
    if only_id {
        out(&list.iter().map(|o| field(o, "id")).collect::<Vec<_>>().join("\n"));
        return Ok(());
    }
    match output.output {
        Format::Json if which != "me" => out(&output::json(&list[0])?),
        _ => output::print_list(output, &list, || org_table(&list, &["id", "name", "default"]))?,
    }
    Ok(())
}
