//! The workspace commands, top-level as in Coder's CLI: `atrium create [OWNER/]NAME`, `list`,
//! `show`, `start`, `stop` and `delete`. Every build streams its log live (a spinner below it
//! on a terminal), and the command's exit code is the build's result.

use std::time::Duration;

use atrium_api::templates::ProvisionerJobLog;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, CreateWorkspaceRequest};
use reqwest::Method;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::client::{Client, encode};
use crate::commands::templates::get_template;
use crate::commands::{OrgArg, YesArg, field, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, OutputArgs, Table, cell, out, time_of};
use crate::progress::Spinner;
use crate::prompt;

/// `atrium create`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium create dev --template docker\n  atrium create alice/dev --template docker --org platform   # on alice's behalf"
)]
pub struct CreateArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub org: OrgArg,
    /// NAME for a workspace of your own, OWNER/NAME to create it on OWNER's behalf.
    #[arg(value_name = "[OWNER/]NAME")]
    pub workspace: String,
    /// The template, by name, in the organization (asked on a terminal when missing).
    #[arg(short = 't', long)]
    pub template: Option<String>,
    /// Accepted for Coder compatibility (create asks nothing).
    #[arg(short = 'y', long = "yes", hide = true)]
    pub yes: bool,
}

/// `atrium list`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium list\n  atrium list --all\n  atrium list --search 'owner:alice status:stopped'\n  atrium list -c workspace,status,current\\ version -o json"
)]
pub struct ListArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Every workspace you can see, not only yours (when --search is left at its default).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// A workspaces query: free text `NAME` or `OWNER/NAME`; keys `owner:USER|me`,
    /// `name:`, `template:`, `status:running|stopped|failed|...`, `organization:`, `id:`,
    /// `dormant:true|false`.
    #[arg(long, value_name = "QUERY", default_value = DEFAULT_SEARCH)]
    pub search: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `atrium show`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  atrium show dev\n  atrium show alice/dev -o json")]
pub struct ShowArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// NAME (yours), OWNER/NAME, or the workspace's id.
    #[arg(value_name = "[OWNER/]NAME")]
    pub workspace: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `atrium start`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  atrium start dev\n  atrium start alice/dev")]
pub struct StartArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// NAME (yours), OWNER/NAME, or the workspace's id.
    #[arg(value_name = "[OWNER/]NAME")]
    pub workspace: String,
}

/// `atrium stop` and `atrium delete`: both ask first (their examples are on the commands).
#[derive(clap::Args, Debug)]
pub struct ConfirmedArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// NAME (yours), OWNER/NAME, or the workspace's id.
    #[arg(value_name = "[OWNER/]NAME")]
    pub workspace: String,
    #[command(flatten)]
    pub yes: YesArg,
}

const DEFAULT_SEARCH: &str = "owner:me";

const SPINNER_TICK: Duration = Duration::from_millis(100);

/// `[OWNER/]NAME` as (owner, name); the owner defaults to `me`.
fn split_name(ident: &str) -> CliResult<(String, String)> {
    let ident = ident.trim();
    let parts: Vec<&str> = ident.split('/').collect();
    let (owner, name) = match parts.as_slice() {
        [name] => ("me", *name),
        [owner, name] => (*owner, *name),
        _ => {
            return Err(CliError::msg(format!(
                "`{ident}` is not a workspace name: give NAME or OWNER/NAME (one `/` at most)"
            )));
        }
    };
    if owner.is_empty() || name.is_empty() {
        return Err(CliError::msg(format!(
            "`{ident}` is not a workspace name: give NAME or OWNER/NAME"
        )));
    }
    Ok((owner.to_owned(), name.to_owned()))
}

/// A workspace by `[OWNER/]NAME` or id (Coder's `namedWorkspace`).
pub async fn get_workspace(c: &Client, ident: &str) -> CliResult<Value> {
    let path = match ident.trim().parse::<Uuid>() {
        Ok(id) => format!("/api/v2/workspaces/{id}"),
        Err(_) => {
            let (owner, name) = split_name(ident)?;
            format!("/api/v2/users/{}/workspace/{}", encode(&owner), encode(&name))
        }
    };
    c.get_optional(&path).await?.ok_or_else(|| {
        CliError::msg(format!("workspace `{}` does not exist or you cannot see it", ident.trim()))
    })
}

/// `owner/name` of a Workspace object.
fn full_name(ws: &Value) -> String {
    format!("{}/{}", field(ws, "owner_name"), field(ws, "name"))
}

fn now() -> String {
    time_of(OffsetDateTime::now_utc()).unwrap_or_default()
}

pub async fn create(args: CreateArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    let (owner, name) = split_name(&args.workspace)?;
    let org = resolve_org(&c, args.org.org.as_deref()).await?;
    let org_name = field(&org, "name").to_owned();
    if args.template.is_none() && prompt::interactive() {
        let list: Vec<Value> = c
            .get(&format!("/api/v2/organizations/{}/templates", field(&org, "id")))
            .await
            .unwrap_or_default();
        let names: Vec<&str> = list.iter().map(|t| field(t, "name")).collect();
        output::note(&format!("Templates in {org_name}: {}", names.join(", ")));
    }
    let template_name = prompt::value(args.template.as_deref(), "Template:", "--template", None)?;
    let template = get_template(&c, &org, &template_name).await?;
    let template_id = field(&template, "id").parse::<Uuid>().map_err(|_| CliError::Protocol {
        url: c.url.clone(),
        cause: "a template without a valid id".into(),
    })?;
    let request = CreateWorkspaceRequest {
        template_id: Some(template_id),
        template_version_id: None,
        name: name.clone(),
    };
    let path = format!(
        "/api/v2/organizations/{}/members/{}/workspaces",
        field(&org, "id"),
        encode(&owner)
    );
    let ws: Value = match c.json(Method::POST, &path, &request).await {
        Ok(ws) => ws,
        // Coder answers 404 when the caller may not create this workspace: say what that means.
        Err(e @ CliError::Api { status: 404, .. }) => {
            let (whose, flag) = if owner == "me" {
                (String::new(), String::new())
            } else {
                (format!(" for `{owner}`"), format!(" --owner {owner}"))
            };
            return Err(CliError::msg(format!(
                "{e}\n  you may not create workspaces{whose} in organization `{org_name}`; \
                 `atrium authz explain --action create --resource workspace --org {org_name}{flag}` \
                 shows why"
            )));
        }
        Err(e) => return Err(e),
    };
    let display = full_name(&ws);
    let build = follow_build(&c, &ws["latest_build"], &format!("Creating {display}")).await?;
    if let Err(e) = build_succeeded(&build, &display) {
        return Err(CliError::msg(format!("workspace {display} was created, but {e}")));
    }
    let whose =
        if owner == "me" { String::new() } else { format!(" for {}", field(&ws, "owner_name")) };
    out(&format!("\nThe {} workspace has been created{whose} at {}!", field(&ws, "name"), now()));
    Ok(())
}

/// `start`, `stop` and `delete`: one build, followed to its end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Start,
    Stop,
    Delete,
}

impl Transition {
    fn as_str(self) -> &'static str {
        match self {
            Transition::Start => "start",
            Transition::Stop => "stop",
            Transition::Delete => "delete",
        }
    }
}

pub async fn start(args: StartArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    build(&c, &args.workspace, Transition::Start, true).await
}

pub async fn stop(args: ConfirmedArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    build(&c, &args.workspace, Transition::Stop, args.yes.yes).await
}

pub async fn delete(args: ConfirmedArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    build(&c, &args.workspace, Transition::Delete, args.yes.yes).await
}

async fn build(c: &Client, ident: &str, transition: Transition, yes: bool) -> CliResult<()> {
    let ws = get_workspace(c, ident).await?;
    let display = full_name(&ws);
    let latest = &ws["latest_build"];
    let (status, last) = (field(latest, "status"), field(latest, "transition"));
    match transition {
        Transition::Start if last == "start" && status == "running" => {
            out(&format!("The {} workspace is already running.", field(&ws, "name")));
            return Ok(());
        }
        Transition::Stop if last == "stop" && status == "stopped" => {
            out(&format!("The {} workspace is already stopped.", field(&ws, "name")));
            return Ok(());
        }
        Transition::Stop => prompt::confirm(&format!("Confirm stop workspace {display}?"), yes)?,
        Transition::Delete => {
            prompt::confirm(&format!("Confirm delete workspace {display}?"), yes)?;
        }
        Transition::Start => {}
    }
    let request = CreateWorkspaceBuildRequest {
        transition: transition.as_str().to_owned(),
        template_version_id: None,
    };
    let path = format!("/api/v2/workspaces/{}/builds", field(&ws, "id"));
    let queued: Value = c.json(Method::POST, &path, &request).await?;
    let verb = match transition {
        Transition::Start => "Starting",
        Transition::Stop => "Stopping",
        Transition::Delete => "Deleting",
    };
    let done = follow_build(c, &queued, &format!("{verb} {display}")).await?;
    build_succeeded(&done, &display)?;
    let past = match transition {
        Transition::Start => "started",
        Transition::Stop => "stopped",
        Transition::Delete => "deleted",
    };
    out(&format!("\nThe {} workspace has been {past} at {}!", field(&ws, "name"), now()));
    Ok(())
}

/// The finished build's outcome: `Err` with the job's error unless it succeeded.
fn build_succeeded(build: &Value, display: &str) -> CliResult<()> {
    let job = &build["job"];
    let transition = field(build, "transition");
    let error = field(job, "error");
    let because = if error.is_empty() { String::new() } else { format!(": {error}") };
    match field(job, "status") {
        "succeeded" => Ok(()),
        "canceled" | "canceling" => {
            Err(CliError::msg(format!("the {transition} build of {display} was canceled{because}")))
        }
        status => {
            Err(CliError::msg(format!("the {transition} build of {display} {status}{because}")))
        }
    }
}

fn job_finished(job: &Value) -> bool {
    matches!(field(job, "status"), "succeeded" | "failed" | "canceled")
}

/// Prints log lines: a `==> STAGE` header whenever the stage changes, then each output.
#[derive(Default)]
struct LogView {
    /// The last line's id (`?after=`).
    after: i64,
    stage: String,
}

impl LogView {
    fn show(&mut self, log: &ProvisionerJobLog, spinner: &mut Spinner, what: &str) {
        if log.id != 0 && log.id <= self.after {
            return;
        }
        if self.after == 0 {
            // The first line: the job left the queue.
            spinner.set_message(what);
        }
        self.after = self.after.max(log.id);
        if !log.stage.is_empty() && log.stage != self.stage {
            self.stage.clone_from(&log.stage);
            spinner.line(&format!("==> {}", log.stage));
        }
        if !log.output.is_empty() {
            spinner.line(&log.output);
        }
    }
}

/// Shows a build's log as it streams (a WebSocket, `?follow`), with the spinner on a terminal, until
/// its job ends; returns the finished build. A dropped or timed-out stream is reopened after
/// the lines already shown.
async fn follow_build(c: &Client, build: &Value, what: &str) -> CliResult<Value> {
    let id = field(build, "id").to_owned();
    if id.is_empty() {
        return Err(CliError::Protocol {
            url: c.url.clone(),
            cause: "a build without an id".into(),
        });
    }
    let queued = field(&build["job"], "status") == "pending";
    let mut spinner =
        Spinner::stdout(if queued { format!("{what} (queued)") } else { what.to_owned() });
    let mut view = LogView::default();
    let mut ticker = tokio::time::interval(SPINNER_TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let path = format!("/api/v2/workspacebuilds/{id}/logs?follow&after={}", view.after);
        let mut stream = c.follow_logs(&path).await?;
        loop {
            let next = stream.next();
            tokio::pin!(next);
            let line = loop {
                tokio::select! {
                    line = &mut next => break line,
                    _ = ticker.tick() => spinner.tick(),
                }
            };
            match line? {
                Some(log) => view.show(&log, &mut spinner, what),
                // Closed (the job ended, or the server cut the reader off) or dropped: the
                // build says whether to reconnect.
                None => break,
            }
        }
        let now: Value = c.get(&format!("/api/v2/workspacebuilds/{id}")).await?;
        if job_finished(&now["job"]) {
            // Lines written between a dropped socket and the job's end.
            let rest: Vec<ProvisionerJobLog> =
                c.get(&format!("/api/v2/workspacebuilds/{id}/logs?after={}", view.after)).await?;
            for log in &rest {
                view.show(log, &mut spinner, what);
            }
            spinner.finish();
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

const COLUMNS: &[&str] = &[
    "workspace",
    "id",
    "owner",
    "name",
    "organization id",
    "organization name",
    "template",
    "status",
    "healthy",
    "last built",
    "current version",
    "outdated",
    "created at",
    "last used at",
];

/// "5m ago" since an RFC 3339 time.
fn ago(at: &str, now: OffsetDateTime) -> String {
    let Ok(t) = OffsetDateTime::parse(at, &Rfc3339) else {
        return String::new();
    };
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3_600 => format!("{}m ago", s / 60),
        s if s < 48 * 3_600 => format!("{}h ago", s / 3_600),
        s => format!("{}d ago", s / 86_400),
    }
}

fn workspace_table(list: &[Value], defaults: &'static [&'static str]) -> Table {
    let now = OffsetDateTime::now_utc();
    let mut t = Table::new(COLUMNS, defaults);
    for ws in list {
        let build = &ws["latest_build"];
        t.push(vec![
            full_name(ws),
            cell(ws, "id"),
            cell(ws, "owner_name"),
            cell(ws, "name"),
            cell(ws, "organization_id"),
            cell(ws, "organization_name"),
            cell(ws, "template_name"),
            cell(build, "status"),
            cell(&ws["health"], "healthy"),
            ago(field(build, "created_at"), now),
            cell(build, "template_version_name"),
            cell(ws, "outdated"),
            cell(ws, "created_at"),
            cell(ws, "last_used_at"),
        ]);
    }
    t
}

pub async fn list(args: ListArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    // As Coder's `--all`: only when the search is left at its default.
    let q = if args.all && args.search == DEFAULT_SEARCH { "" } else { args.search.trim() };
    let mut all: Vec<Value> = Vec::new();
    loop {
        let mut path = format!("/api/v2/workspaces?q={}", encode(q));
        if !all.is_empty() {
            path.push_str(&format!("&offset={}", all.len()));
        }
        let page: Value = c.get(&path).await?;
        let rows = page["workspaces"].as_array().cloned().unwrap_or_default();
        let count = page["count"].as_u64().unwrap_or_default();
        let got = rows.len();
        all.extend(rows);
        // A server that pages by itself: fetch the rest.
        if got == 0 || all.len() as u64 >= count {
            break;
        }
    }
    if all.is_empty() && args.output.output == Format::Table {
        output::note(
            "No workspaces found! Create one:\n\n  atrium create <name> --template <template>",
        );
        return Ok(());
    }
    output::print_list(&args.output, &all, || {
        workspace_table(&all, &["workspace", "template", "status", "last built", "outdated"])
    })
}

pub async fn show(args: ShowArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    let ws = get_workspace(&c, &args.workspace).await?;
    if args.output.output == Format::Json {
        out(&output::json(&ws)?);
        return Ok(());
    }
    let table = workspace_table(
        std::slice::from_ref(&ws),
        &[
            "workspace",
            "organization name",
            "template",
            "status",
            "last built",
            "current version",
            "outdated",
        ],
    );
    out(&table.render(&args.output.column)?);
    let job = &ws["latest_build"]["job"];
    if field(job, "status") == "failed" && !field(job, "error").is_empty() {
        output::note(&format!("The last build failed: {}", field(job, "error")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_owner_and_name() {
        assert_eq!(split_name("dev").ok(), Some(("me".into(), "dev".into())));
        assert_eq!(split_name("alice/dev").ok(), Some(("alice".into(), "dev".into())));
        for bad in ["a/b/c", "/dev", "alice/", ""] {
            assert!(split_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn last_built_reads_as_an_age() {
        let now = OffsetDateTime::parse("2026-12-01T18:00:00Z", &Rfc3339).unwrap();
        assert_eq!(ago("2026-12-01T17:59:30.5Z", now), "29s ago");
        assert_eq!(ago("2026-12-01T17:55:00Z", now), "5m ago");
        assert_eq!(ago("2026-11-30T18:00:00Z", now), "24h ago");
        assert_eq!(ago("2026-11-21T18:00:00Z", now), "10d ago");
        assert_eq!(ago("2026-12-01T18:00:05Z", now), "0s ago");
        assert_eq!(ago("", now), "");
    }

    #[test]
    fn a_failed_build_is_an_error_with_the_job_error() {
        let ok = serde_json::json!({"transition": "start", "job": {"status": "succeeded"}});
        assert!(build_succeeded(&ok, "a/b").is_ok());
        let failed = serde_json::json!({"transition": "stop",
            "job": {"status": "failed", "error": "terraform exploded"}});
        assert_eq!(
            build_succeeded(&failed, "a/b").err().map(|e| e.to_string()).as_deref(),
            Some("the stop build of a/b failed: terraform exploded")
        );
        let canceled = serde_json::json!({"transition": "delete", "job": {"status": "canceled"}});
        assert_eq!(
            build_succeeded(&canceled, "a/b").err().map(|e| e.to_string()).as_deref(),
            Some("the delete build of a/b was canceled")
        );
    }
}
