//! `atrium authz explain`: asks the server's `POST /authcheck/explain` whether a user may do
//! an action on a resource, and prints the decision with the engine's reasons.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::commands::groups::get_group;
use crate::commands::{field, get_user, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, FormatArg, out};

/// Ask the server why a user may or may not do an action (with the roles and permissions
/// that decided it).
///
/// RESOURCE is a type (`workspace`, `template`, `group`, `user`, `organization`,
/// `audit_log`, ...) optionally with `:ID`; a template, group or user may be named instead
/// of given by id. Org-scoped types default to the default organization; a workspace's
/// owner defaults to the user asked about.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium authz explain --user bob --action create --resource workspace --org platform\n  atrium authz explain --user bob --action start --resource workspace\n  atrium authz explain --action read --resource template:docker\n  atrium authz explain --user alice --action update --resource user:bob -o json"
)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Whose permissions (username, id or `me`; default: you). Asking about someone else
    /// needs the right to read their roles.
    #[arg(long, default_value = "me")]
    user: String,
    /// The action: read, create, update, delete, start, stop, ssh, use, assign, ...
    #[arg(long)]
    action: String,
    /// TYPE or TYPE:ID (or TYPE:NAME for templates, groups and users).
    #[arg(long, value_name = "TYPE[:ID]")]
    resource: String,
    /// The organization the resource is in (name or id).
    #[arg(short = 'O', long)]
    org: Option<String>,
    /// The resource's owner (username, id or `me`).
    #[arg(long)]
    owner: Option<String>,
    #[command(flatten)]
    format: FormatArg,
}

/// Types that live inside an organization.
const ORG_SCOPED: &[&str] = &[
    "workspace",
    "workspace_dormant",
    "template",
    "group",
    "group_member",
    "organization_member",
    "assign_org_role",
    "provisioner_daemon",
    "provisioner_jobs",
];

pub async fn run(args: ExplainArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    let (kind, id) = match args.resource.split_once(':') {
        Some((k, id)) => {
            (k.trim().to_owned(), Some(id.trim().to_owned()).filter(|i| !i.is_empty()))
        }
        None => (args.resource.trim().to_owned(), None),
    };
    if kind.is_empty() {
        return Err(CliError::msg("--resource needs a type, e.g. workspace or template:docker"));
    }
    let subject = get_user(&c, &args.user).await?;
    let mut object = Map::new();
    object.insert("resource_type".into(), json!(kind));
    let org = match (&args.org, ORG_SCOPED.contains(&kind.as_str())) {
        (Some(o), _) => Some(resolve_org(&c, Some(o)).await?),
        (None, true) => Some(resolve_org(&c, None).await?),
        (None, false) => None,
    };
    if let Some(o) = &org {
        object.insert("organization_id".into(), o["id"].clone());
    }
    let owner = match (&args.owner, kind.as_str()) {
        (Some(o), _) => Some(get_user(&c, o).await?.id.to_string()),
        (None, "workspace" | "workspace_dormant") => Some(subject.id.to_string()),
        (None, _) => None,
    };
    if let Some(o) = owner {
        object.insert("owner_id".into(), json!(o));
    }
    if let Some(id) = id {
        let resolved = resolve_id(&c, &kind, &id, org.as_ref()).await?;
        object.insert("resource_id".into(), json!(resolved));
    }
    let body = json!({"user_id": subject.id, "object": object, "action": args.action});
    let decision: Value = c.json(Method::POST, "/api/v2/authcheck/explain", &body).await?;
    if args.format.output == Format::Json {
        out(&output::json(&decision)?);
        return Ok(());
    }
    let verdict = if decision["allowed"] == true { "ALLOWED" } else { "DENIED" };
    let mut text = format!(
        "{verdict}: {} {} `{}` on `{}`",
        subject.username,
        if decision["allowed"] == true { "may do" } else { "may not do" },
        args.action,
        args.resource
    );
    if let Some(o) = &org {
        text.push_str(&format!(" in organization {}", field(o, "name")));
    }
    for reason in decision["reasons"].as_array().into_iter().flatten() {
        let line = reason.as_str().map_or_else(|| reason.to_string(), str::to_owned);
        text.push_str(&format!("\n  - {line}"));
    }
    out(&text);
    Ok(())
}

/// A resource id: a UUID as is, else a template, group or user name looked up.
async fn resolve_id(c: &Client, kind: &str, id: &str, org: Option<&Value>) -> CliResult<String> {
    if id.parse::<uuid::Uuid>().is_ok() {
        return Ok(id.to_owned());
    }
    match (kind, org) {
        ("user", _) => Ok(get_user(c, id).await?.id.to_string()),
        ("group", Some(org)) => Ok(field(&get_group(c, org, id).await?, "id").to_owned()),
        ("template", Some(org)) => {
            let path = format!(
                "/api/v2/organizations/{}/templates/{}",
                field(org, "id"),
                crate::client::encode(id)
            );
            let t: Option<Value> = c.get_optional(&path).await?;
            t.map(|t| field(&t, "id").to_owned()).ok_or_else(|| {
                CliError::msg(format!(
                    "organization `{}` has no template `{id}`",
                    field(org, "name")
                ))
            })
        }
        _ => Err(CliError::msg(format!("`{id}` is not an id: give a UUID for {kind}"))),
    }
}
