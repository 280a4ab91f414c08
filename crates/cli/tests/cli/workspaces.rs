//! The workspace commands — `create`, `list`, `show`, `start`, `stop`, `delete` — and the
//! seed-000 story from the CLI alone: a member with the creation-ban role cannot create or
//! delete a workspace, but can stop and start the one the owner created on their behalf.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

/// Pushes an echo template named `name` into the default org as the logged-in owner.
fn push_echo_template(env: &Env, name: &str) {
    let dir = module_dir(&[("main.tf", &format!("# {}\n", unique("m")))]);
    let d = dir.path().to_str().unwrap();
    env.atrium(&["templates", "push", name, "-d", d, "--provisioner", "echo", "-y"]).ok();
}

fn workspace_path(owner: &str, name: &str) -> String {
    format!("/api/v2/users/{owner}/workspace/{name}")
}

/// The workspace's latest build status, over HTTP as the owner.
async fn status(env: &Env, owner: &str, name: &str) -> String {
    let ws = env.get(&workspace_path(owner, name)).await;
    ws["latest_build"]["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creation_ban_story_from_the_cli() {
    let env = Env::sqlite_with_owner().await;
    push_echo_template(&env, "docker");
    let (member, member_name) = env.user(&[]).await;
    let out = env
        .atrium(&[
            "organizations",
            "members",
            "edit-roles",
            &member_name,
            "organization-workspace-creation-ban",
        ])
        .ok()
        .to_owned();
    assert!(out.contains("organization-workspace-creation-ban"), "{out}");

    // The member may not create a workspace: the server's message, and a pointer to why.
    let err = env
        .atrium_as(&member, &["create", "ws", "--template", "docker"])
        .fails_with("Resource not found or you do not have access to this resource")
        .to_owned();
    assert!(err.contains("you may not create workspaces in organization `coder`"), "{err}");
    assert!(err.contains("atrium authz explain --action create --resource workspace"), "{err}");
    assert_eq!(env.status_of(&workspace_path(&member_name, "ws")).await, StatusCode::NOT_FOUND);

    // The owner creates it on the member's behalf; the first build's log is shown.
    let ws_arg = format!("{member_name}/ws");
    let out = env.atrium(&["create", &ws_arg, "--template", "docker"]).ok().to_owned();
    assert!(out.contains("==> "), "the build log is printed: {out}");
    assert!(
        out.contains(&format!("The ws workspace has been created for {member_name} at")),
        "{out}"
    );
    let ws = env.get(&workspace_path(&member_name, "ws")).await;
    assert_eq!(ws["owner_name"], member_name.as_str());
    assert_eq!(ws["template_name"], "docker");
    assert_eq!(ws["latest_build"]["initiator_name"], "admin");
    assert_eq!(ws["latest_build"]["status"], "running", "{ws}");
    let id = ws["id"].as_str().unwrap().to_owned();
    env.atrium(&["create", &ws_arg, "--template", "docker"])
        .fails_with("Workspace \"ws\" already exists.");

    // The member stops it (asked first) and starts it again.
    env.atrium_as(&member, &["stop", "ws"]).fails_with("--yes");
    assert_eq!(status(&env, &member_name, "ws").await, "running");
    let out = env.atrium_as(&member, &["stop", "ws", "-y"]).ok().to_owned();
    assert!(out.contains("The ws workspace has been stopped at"), "{out}");
    assert_eq!(status(&env, &member_name, "ws").await, "stopped");
    let out = env.atrium_as(&member, &["stop", "ws", "-y"]).ok().to_owned();
    assert!(out.contains("already stopped"), "{out}");
    let out = env.atrium_as(&member, &["start", "ws"]).ok().to_owned();
    assert!(out.contains("==> "), "{out}");
    assert!(out.contains("The ws workspace has been started at"), "{out}");
    assert_eq!(status(&env, &member_name, "ws").await, "running");
    let out = env.atrium_as(&member, &["start", "ws"]).ok().to_owned();
    assert!(out.contains("already running"), "{out}");
    let builds = env.get(&format!("/api/v2/workspaces/{id}/builds")).await;
    assert_eq!(builds.as_array().unwrap().len(), 3, "create, stop, start: {builds}");

    // The member may not delete it: the 403 message, and the workspace is still there.
    let err = env
        .atrium_as(&member, &["delete", "ws", "-y"])
        .fails_with("You do not have permission to delete this workspace.")
        .to_owned();
    assert!(err.contains("answered 403"), "{err}");
    assert_eq!(env.status_of(&format!("/api/v2/workspaces/{id}")).await, StatusCode::OK);
    assert_eq!(status(&env, &member_name, "ws").await, "running");

    // List: the member's own by default, as JSON the array of Workspace objects.
    let listed = env.atrium_as(&member, &["list", "-o", "json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["owner_name"], member_name.as_str());
    assert_eq!(listed[0]["latest_build"]["status"], "running");
    let table = env.atrium_as(&member, &["ls"]).ok().to_owned();
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("WORKSPACE") && header.contains("LAST BUILT"), "{table}");
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("{member_name}/ws ")), "{table}");
    assert!(row.contains("docker") && row.contains("running") && row.contains("ago"), "{table}");
    assert!(row.ends_with("false"), "not outdated: {table}");
    // The owner has none of their own; --all and --search see the member's.
    let r = env.atrium(&["list"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stderr.contains("No workspaces found!"), "{r}");
    assert_eq!(env.atrium(&["list", "-o", "json"]).json(), Value::Array(vec![]));
    let all = env.atrium(&["list", "--all", "-o", "json"]).json();
    assert_eq!(field_list(&all, "name"), ["ws"]);
    let search = format!("owner:{member_name}");
    let found = env.atrium(&["list", "--search", &search, "-o", "json"]).json();
    assert_eq!(field_list(&found, "id"), [id.as_str()]);
    let out = env.atrium(&["list", "--all", "-c", "workspace,status"]).ok().to_owned();
    let cells: Vec<&str> = out.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(cells, [ws_arg.as_str(), "running"], "{out}");
    env.atrium(&["list", "--search", "status:sleeping"])
        .fails_with("Invalid workspace search query.");

    // Show, by owner/name, name (the member's own) or id.
    let shown = env.atrium(&["show", &ws_arg, "-o", "json"]).json();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(env.atrium(&["show", &id, "-o", "json"]).json()["id"], id.as_str());
    let out = env.atrium_as(&member, &["show", "ws"]).ok().to_owned();
    assert!(out.starts_with("WORKSPACE"), "{out}");
    assert!(out.contains(&ws_arg) && out.contains("coder"), "{out}");

    // Another member sees nothing of it.
    let (other, _) = env.user(&[]).await;
    let r = env.atrium_as(&other, &["show", &ws_arg]);
    assert_eq!(r.code, 1, "{r}");
    r.assert_clean();
    env.atrium_as(&other, &["stop", &id, "-y"]).fails_with("does not exist or you cannot see it");
    assert_eq!(status(&env, &member_name, "ws").await, "running");

    // The owner deletes it.
    let out = env.atrium(&["delete", &ws_arg, "-y"]).ok().to_owned();
    assert!(out.contains("The ws workspace has been deleted at"), "{out}");
    assert_eq!(env.status_of(&format!("/api/v2/workspaces/{id}")).await, StatusCode::NOT_FOUND);
    assert_eq!(env.atrium_as(&member, &["list", "-o", "json"]).json(), Value::Array(vec![]));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_error_paths() {
    let env = Env::sqlite_with_owner().await;
    push_echo_template(&env, "docker");

    // Unknown template, org, owner; bad names.
    env.atrium(&["create", "ws", "--template", "nope"])
        .fails_with("organization `coder` has no template `nope`");
    env.atrium(&["create", "ws", "--template", "docker", "--org", "nosuchorg"])
        .fails_with("organization `nosuchorg` does not exist");
    env.atrium(&["create", "nobody/ws", "--template", "docker"])
        .fails_with("must be an existing uuid or username");
    env.atrium(&["create", "a/b/c", "--template", "docker"]).fails_with("one `/` at most");
    env.atrium(&["create", "Not_Valid", "--template", "docker"]).fails_with("Validation failed.");
    // No template and no terminal: fails naming the flag.
    env.atrium(&["create", "ws"]).fails_with("--template");
    assert_eq!(env.get("/api/v2/workspaces").await["count"], 0, "nothing was created");

    // Unknown workspaces.
    for args in [
        &["start", "nope"][..],
        &["stop", "nope", "-y"],
        &["delete", "nope", "-y"],
        &["show", "nope"],
        &["show", "admin/nope"],
        &["show", "00000000-0000-0000-0000-000000000001"],
    ] {
        env.atrium(args).fails_with("does not exist or you cannot see it");
    }
    env.atrium(&["show", "nobody/ws"]).fails_with("must be an existing uuid or username");

    // Delete asks first; without a terminal and without --yes nothing happens.
    env.atrium(&["create", "ws", "-t", "docker"]).ok();
    env.atrium(&["delete", "ws"]).fails_with("--yes");
    assert_eq!(env.status_of(&workspace_path("admin", "ws")).await, StatusCode::OK);
    let r = env.atrium(&["delete", "--help"]);
    assert!(r.ok().contains("Example") && r.stdout.contains("--yes"), "{r}");
    env.stop().await;
}

/// On a terminal: the template is asked for, the build shows a spinner, and confirmations
/// are asked (no cancels).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs util-linux `script`");
        eprintln!("skipping: no `script` (util-linux) for a pseudo-terminal");
        return;
    }
    let env = Env::sqlite_with_owner().await;
    push_echo_template(&env, "docker");
    let r = env.atrium_tty(&["create", "mine"], "docker\n");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Templates in coder: docker"), "{r}");
    assert!(r.stdout.contains("Template:"), "{r}");
    assert!(r.stdout.contains("\x1b[2K"), "the spinner was drawn: {r:?}");
    assert!(r.stdout.contains("The mine workspace has been created at"), "{r}");

    let r = env.atrium_tty(&["stop", "mine"], "no\n");
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("Confirm stop workspace admin/mine? (yes/no)"), "{r}");
    assert!(r.stdout.contains("error: canceled"), "{r}");
    assert_eq!(status(&env, "admin", "mine").await, "running");
    let r = env.atrium_tty(&["delete", "mine"], "yes\n");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Confirm delete workspace admin/mine? (yes/no)"), "{r}");
    assert!(r.stdout.contains("The mine workspace has been deleted at"), "{r}");
    assert_eq!(env.status_of(&workspace_path("admin", "mine")).await, StatusCode::NOT_FOUND);
    env.stop().await;
}

/// A build that fails: its log is shown as it runs, the job's error is printed and the exit
/// code is non-zero. Uses terraform (built-in `terraform_data`, offline) with a stop that
/// refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_build_exits_non_zero_with_the_job_error() {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !on_path {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "terraform must be on PATH under CI=true"
        );
        eprintln!("skipping: terraform is not on PATH");
        return;
    }
    let env = Env::sqlite_with_owner().await;
    let main_tf = r#"
variable "atrium_transition" {
  type    = string
  default = "start"
}

resource "terraform_data" "power" {
  triggers_replace = [var.atrium_transition]
  input            = var.atrium_transition

  provisioner "local-exec" {
    command = "echo power-${self.input}; test ${self.input} != stop || { echo refusing-to-stop; exit 3; }"
  }
}
"#;
    let dir = module_dir(&[("main.tf", main_tf)]);
    let d = dir.path().to_str().unwrap();
    env.atrium(&["templates", "push", "stubborn", "-d", d, "--provisioner", "terraform", "-y"])
        .ok();
    let out = env.atrium(&["create", "ws", "--template", "stubborn"]).ok().to_owned();
    assert!(out.contains("power-start"), "the terraform output is shown: {out}");
    assert_eq!(status(&env, "admin", "ws").await, "running");

    let r = env.atrium(&["stop", "ws", "-y"]);
    let err = r.fails_with("the stop build of admin/ws failed").to_owned();
    assert!(r.stdout.contains("refusing-to-stop"), "the log was shown: {r}");
    assert!(!r.stdout.contains("has been stopped"), "{r}");
    let ws = env.get(&workspace_path("admin", "ws")).await;
    assert_eq!(ws["latest_build"]["status"], "failed", "{ws}");
    let job_error = ws["latest_build"]["job"]["error"].as_str().unwrap_or_default();
    assert!(!job_error.is_empty() && err.contains(job_error), "the job error is printed: {err}");
    let r = env.atrium(&["show", "ws"]);
    assert!(r.ok().contains("failed"), "{r}");
    assert!(r.stderr.contains("The last build failed"), "{r}");
    // A failed stop can be retried with a start.
    env.atrium(&["start", "ws"]).ok();
    assert_eq!(status(&env, "admin", "ws").await, "running");
    env.stop().await;
}
