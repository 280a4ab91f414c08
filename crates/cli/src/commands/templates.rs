//! `atrium templates push|list|delete` and `atrium templates permissions list|set|remove`
//! (Coder's `coder templates`; the ACL commands are Atrium's, over Coder's ACL API).

use std::path::PathBuf;
use std::time::Duration;

use atrium_api::templates::ProvisionerJobLog;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Body, Client, encode};
use crate::commands::groups::get_group;
use crate::commands::{OrgArg, YesArg, field, find_member, get_user, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, OutputArgs, Table, cell, out, time_of};
use crate::{prompt, tarball};

/// Manage templates: push a directory as a new version, list, delete, and who may use them.
#[derive(clap::Args, Debug)]
#[command(
    visible_alias = "template",
    after_help = "Examples:\n  atrium templates push docker -d ./docker --yes\n  atrium templates list\n  atrium templates permissions set docker --group devs --role use"
)]
pub struct TemplatesArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub org: OrgArg,
    #[command(subcommand)]
    pub command: TemplatesCommand,
}

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// Upload a directory as a template version, show its import log, then create the
    /// template or make the version its active one.
    #[command(
        after_help = "Examples:\n  atrium templates push docker -d ./templates/docker --yes\n  atrium templates push demo -d . --provisioner echo -m 'first cut' --yes"
    )]
    Push {
        /// The template's name.
        name: String,
        /// The directory to upload.
        #[arg(short = 'd', long = "directory", default_value = ".")]
        directory: PathBuf,
        /// Which provisioner imports it.
        #[arg(long, value_parser = ["terraform", "echo"], default_value = "terraform")]
        provisioner: String,
        /// A name for the new version (default: the server picks one).
        #[arg(long = "name")]
        version_name: Option<String>,
        /// A message describing the version.
        #[arg(short = 'm', long)]
        message: Option<String>,
        /// Make the new version the template's active one.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
        activate: bool,
        #[command(flatten)]
        yes: YesArg,
    },
    /// List templates (every organization you can see, or --org's).
    ///
    /// Columns: name, display name, id, created at, last updated, organization id,
    /// organization name, provisioner, active version id, used by, default ttl (default:
    /// name, organization name, last updated, used by).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium templates list\n  atrium templates list --org platform -o json"
    )]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete templates (refused while workspaces use them).
    #[command(
        visible_alias = "rm",
        after_help = "Example:\n  atrium templates delete docker --yes"
    )]
    Delete {
        /// Template names.
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Who may use or administer a template (its ACL).
    #[command(
        visible_alias = "acl",
        after_help = "Examples:\n  atrium templates permissions list docker\n  atrium templates permissions set docker --group devs --role use\n  atrium templates permissions remove docker --group Everyone"
    )]
    Permissions {
        #[command(subcommand)]
        command: PermissionsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum PermissionsCommand {
    /// Show a template's ACL: users and groups with their role.
    ///
    /// Columns: type, name, id, role (default: all). `-o json` prints the server's ACL
    /// object ({"users": [...], "group": [...]}).
    #[command(
        visible_alias = "ls",
        after_help = "Example:\n  atrium templates permissions list docker"
    )]
    List {
        /// The template's name.
        template: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Give users or groups a role on a template.
    #[command(
        after_help = "Examples:\n  atrium templates permissions set docker --group devs --role use\n  atrium templates permissions set docker --user alice --user bob@example.com --role admin"
    )]
    Set {
        /// The template's name.
        template: String,
        #[command(flatten)]
        who: Grantees,
        /// `use` (read and create workspaces) or `admin` (every template action).
        #[arg(long, value_parser = ["use", "admin"])]
        role: String,
    },
    /// Take away users' or groups' role on a template.
    #[command(
        visible_alias = "rm",
        after_help = "Example:\n  atrium templates permissions remove docker --group Everyone --user alice"
    )]
    Remove {
        /// The template's name.
        template: String,
        #[command(flatten)]
        who: Grantees,
    },
}

#[derive(clap::Args, Debug)]
#[group(required = true, multiple = true)]
pub struct Grantees {
    /// Groups by name (`Everyone` is the organization's everyone group).
    #[arg(long = "group", value_delimiter = ',', value_name = "NAME")]
    groups: Vec<String>,
    /// Users by username, email or id.
    #[arg(long = "user", value_delimiter = ',', value_name = "USER")]
    users: Vec<String>,
}

pub async fn run(args: TemplatesArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    let org = args.org.org.as_deref();
    match args.command {
        TemplatesCommand::Push {
            name,
            directory,
            provisioner,
            version_name,
            message,
            activate,
            yes,
        } => {
            let push = Push { name, directory, provisioner, version_name, message, activate };
            self::push(&c, org, push, yes.yes).await
        }
        TemplatesCommand::List { output } => list(&c, org, &output).await,
        TemplatesCommand::Delete { names, yes } => {
            let org = resolve_org(&c, org).await?;
            let mut found = Vec::new();
            for n in &names {
                found.push(get_template(&c, &org, n).await?);
            }
            prompt::confirm(&format!("Delete these templates: {}?", names.join(", ")), yes.yes)?;
            for t in &found {
                let _: Value = c
                    .call(Method::DELETE, &format!("/api/v2/templates/{}", field(t, "id")))
                    .await?;
                out(&format!("Deleted template {} at {}!", field(t, "name"), now()));
            }
            Ok(())
        }
        TemplatesCommand::Permissions { command } => permissions(&c, org, command).await,
    }
}

fn now() -> String {
    time_of(time::OffsetDateTime::now_utc()).unwrap_or_default()
}

/// A template of `org` by name.
pub async fn get_template(c: &Client, org: &Value, name: &str) -> CliResult<Value> {
    find_template(c, org, name).await?.ok_or_else(|| {
        CliError::msg(format!("organization `{}` has no template `{name}`", field(org, "name")))
    })
}

async fn find_template(c: &Client, org: &Value, name: &str) -> CliResult<Option<Value>> {
    c.get_optional(&format!(
        "/api/v2/organizations/{}/templates/{}",
        field(org, "id"),
        encode(name)
    ))
    .await
}

struct Push {
    name: String,
    directory: PathBuf,
    provisioner: String,
    version_name: Option<String>,
    message: Option<String>,
    activate: bool,
}

async fn push(c: &Client, org: Option<&str>, p: Push, yes: bool) -> CliResult<()> {
    let org = resolve_org(c, org).await?;
    let org_id = field(&org, "id").to_owned();
    let archive = tarball::archive(&p.directory)?;
    prompt::confirm(&format!("Upload {:?}?", p.directory.display().to_string()), yes)?;
    for s in &archive.skipped {
        output::note(&format!("skipped {s}"));
    }
    output::note(&format!(
        "Uploading {} file{} ({} bytes)...",
        archive.files,
        if archive.files == 1 { "" } else { "s" },
        archive.bytes.len()
    ));
    let reply = c.send(Method::POST, "/api/v2/files", Some(Body::Tar(archive.bytes))).await?;
    let file: Value = serde_json::from_slice(&reply.bytes)
        .map_err(|e| CliError::Protocol { url: c.url.clone(), cause: e.to_string() })?;
    let existing = find_template(c, &org, &p.name).await?;
    let mut body = Map::new();
    body.insert("storage_method".into(), json!("file"));
    body.insert("file_id".into(), file["hash"].clone());
    body.insert("provisioner".into(), json!(p.provisioner));
    if let Some(t) = &existing {
        body.insert("template_id".into(), t["id"].clone());
    }
    if let Some(n) = &p.version_name {
        body.insert("name".into(), json!(n));
    }
    if let Some(m) = &p.message {
        body.insert("message".into(), json!(m));
    }
    let version: Value = c
        .json(Method::POST, &format!("/api/v2/organizations/{org_id}/templateversions"), &body)
        .await?;
    let version_id = field(&version, "id").to_owned();
    let job = follow_import(c, &version_id).await?;
    if field(&job, "status") != "succeeded" {
        let error = field(&job, "error");
        return Err(CliError::msg(format!(
            "the template version did not import: the job {}{}",
            field(&job, "status"),
            if error.is_empty() { String::new() } else { format!(": {error}") }
        )));
    }
    match existing {
        None => {
            let create = json!({"name": p.name, "template_version_id": version_id});
            let _: Value = c
                .json(Method::POST, &format!("/api/v2/organizations/{org_id}/templates"), &create)
                .await?;
            out(&format!(
                "\nThe {} template has been created at {}! Developers can provision a workspace \
                 with this template using:\n\n   atrium create --template={} [workspace name]",
                p.name,
                now(),
                p.name
            ));
        }
        Some(t) if p.activate => {
            let path = format!("/api/v2/templates/{}/versions", field(&t, "id"));
            let activated: CliResult<Value> =
                c.json(Method::PATCH, &path, &json!({"id": version_id})).await;
            match activated {
                Ok(_) => out(&format!("Updated version at {}!", now())),
                Err(CliError::Api { status: 404, body, .. })
                    if body.message == "Route not found." =>
                {
                    return Err(CliError::msg(format!(
                        "version {} of {} imported, but this server cannot make it the active \
                         version (it has no PATCH {path})",
                        field(&version, "name"),
                        p.name
                    )));
                }
                Err(e) => return Err(e),
            }
        }
        Some(_) => out(&format!("Uploaded version {} (not made active).", field(&version, "name"))),
    }
    Ok(())
}

/// Prints the import log as it streams (a WebSocket, `?follow`) until the job ends; returns
/// the final job. A socket that ends early (dropped, or the reader cut off) is reopened after
/// the last line seen while the job is still running.
async fn follow_import(c: &Client, version: &str) -> CliResult<Value> {
    let mut view = ImportLog::default();
    loop {
        let path = format!("/api/v2/templateversions/{version}/logs?follow&after={}", view.after);
        let mut stream = c.follow_logs(&path).await?;
        while let Some(log) = stream.next().await? {
            view.show(&log);
        }
        let v: Value = c.get(&format!("/api/v2/templateversions/{version}")).await?;
        if matches!(field(&v["job"], "status"), "succeeded" | "failed" | "canceled") {
            // Lines written between a dropped socket and the job's end.
            let rest: Vec<ProvisionerJobLog> = c
                .get(&format!("/api/v2/templateversions/{version}/logs?after={}", view.after))
                .await?;
            for log in &rest {
                view.show(log);
            }
            return Ok(v["job"].clone());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Prints import log lines: a `==> STAGE` header whenever the stage changes, then each output.
#[derive(Default)]
struct ImportLog {
    /// The last line's id (`?after=`).
    after: i64,
    stage: String,
}

impl ImportLog {
    fn show(&mut self, log: &ProvisionerJobLog) {
        if log.id != 0 && log.id <= self.after {
            return;
        }
        self.after = self.after.max(log.id);
        if !log.stage.is_empty() && log.stage != self.stage {
            self.stage.clone_from(&log.stage);
            out(&format!("==> {}", log.stage));
        }
        if !log.output.is_empty() {
            out(&log.output);
        }
    }
}

const COLUMNS: &[&str] = &[
    "name",
    "display name",
    "id",
    "created at",
    "last updated",
    "organization id",
    "organization name",
    "provisioner",
    "active version id",
    "used by",
    "default ttl",
];

fn template_table(list: &[Value]) -> Table {
    let mut t = Table::new(COLUMNS, &["name", "organization name", "last updated", "used by"]);
    for tpl in list {
        let users = tpl["active_user_count"].as_i64().unwrap_or_default();
        let ttl = tpl["default_ttl_ms"].as_i64().unwrap_or_default();
        t.push(vec![
            cell(tpl, "name"),
            cell(tpl, "display_name"),
            cell(tpl, "id"),
            cell(tpl, "created_at"),
            cell(tpl, "updated_at"),
            cell(tpl, "organization_id"),
            cell(tpl, "organization_name"),
            cell(tpl, "provisioner"),
            cell(tpl, "active_version_id"),
            format!("{users} developer{}", if users == 1 { "" } else { "s" }),
            if ttl > 0 { format!("{}h", ttl / 3_600_000) } else { "0s".to_owned() },
        ]);
    }
    t
}

async fn list(c: &Client, org: Option<&str>, output: &OutputArgs) -> CliResult<()> {
    let list: Vec<Value> = match org {
        Some(o) => {
            let org = resolve_org(c, Some(o)).await?;
            c.get(&format!("/api/v2/organizations/{}/templates", field(&org, "id"))).await?
        }
        None => match c.get("/api/v2/templates").await {
            Ok(l) => l,
            // Without the cross-org route, every readable org in turn.
            Err(e) if e.status() == Some(404) => {
                let orgs: Vec<Value> = c.get("/api/v2/organizations").await?;
                let mut all = Vec::new();
                for o in &orgs {
                    let path = format!("/api/v2/organizations/{}/templates", field(o, "id"));
                    all.extend(c.get::<Vec<Value>>(&path).await?);
                }
                all
            }
            Err(e) => return Err(e),
        },
    };
    output::print_list(output, &list, || template_table(&list))
}

async fn permissions(c: &Client, org: Option<&str>, command: PermissionsCommand) -> CliResult<()> {
    let org = resolve_org(c, org).await?;
    match command {
        PermissionsCommand::List { template, output } => {
            let t = get_template(c, &org, &template).await?;
            let acl: Value = c.get(&format!("/api/v2/templates/{}/acl", field(&t, "id"))).await?;
            if output.output == Format::Json {
                out(&output::json(&acl)?);
                return Ok(());
            }
            let mut table =
                Table::new(&["type", "name", "id", "role"], &["type", "name", "id", "role"]);
            for g in acl["group"].as_array().into_iter().flatten() {
                table.push(vec!["group".into(), cell(g, "name"), cell(g, "id"), cell(g, "role")]);
            }
            for u in acl["users"].as_array().into_iter().flatten() {
                table.push(vec![
                    "user".into(),
                    cell(u, "username"),
                    cell(u, "id"),
                    cell(u, "role"),
                ]);
            }
            out(&table.render(&output.column)?);
            Ok(())
        }
        PermissionsCommand::Set { template, who, role } => {
            update_acl(c, &org, &template, &who, &role).await?;
            out(&format!("Gave {} the {role} role on template {template}.", who.describe()));
            Ok(())
        }
        PermissionsCommand::Remove { template, who } => {
            update_acl(c, &org, &template, &who, "").await?;
            out(&format!("Removed {} from template {template}.", who.describe()));
            Ok(())
        }
    }
}

impl Grantees {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.groups.iter().map(|g| format!("group {g}")).collect();
        parts.extend(self.users.iter().map(|u| format!("user {u}")));
        parts.join(", ")
    }
}

async fn update_acl(
    c: &Client,
    org: &Value,
    template: &str,
    who: &Grantees,
    role: &str,
) -> CliResult<()> {
    let t = get_template(c, org, template).await?;
    // The template's own org, where its groups live.
    let org = match field(&t, "organization_id") {
        id if !id.is_empty() && id != field(org, "id") => resolve_org(c, Some(id)).await?,
        _ => org.clone(),
    };
    let mut group_perms = Map::new();
    for g in who.groups.iter().filter(|g| !g.trim().is_empty()) {
        let id = match get_group(c, &org, g.trim()).await {
            Ok(group) => field(&group, "id").to_owned(),
            // The Everyone group's id is the org's id.
            Err(_) if g.trim().eq_ignore_ascii_case("everyone") => field(&org, "id").to_owned(),
            Err(e) => return Err(e),
        };
        group_perms.insert(id, json!(role));
    }
    let mut user_perms = Map::new();
    for u in who.users.iter().filter(|u| !u.trim().is_empty()) {
        let id = match find_member(c, &org, u.trim()).await {
            Ok(m) => field(&m, "user_id").to_owned(),
            Err(_) => get_user(c, u.trim()).await?.id.to_string(),
        };
        user_perms.insert(id, json!(role));
    }
    let body = json!({"user_perms": user_perms, "group_perms": group_perms});
    let _: Value =
        c.json(Method::PATCH, &format!("/api/v2/templates/{}/acl", field(&t, "id")), &body).await?;
    Ok(())
}
