//! The `coder` CLI's flows replayed request by request, as codersdk sends them (method, path,
//! query, and bodies as Go marshals them: zero UUIDs for unset ids, `null` for nil slices and
//! maps, every field without `omitempty` present), each asserting the status and the fields the
//! CLI reads next. The flows: `coder create`, `start`, `stop`, `delete`, `templates push` (new
//! and existing template), `tokens create/list/remove`, `organizations roles show/create/
//! update` — against the echo provisioner, and create → stop → start → delete against
//! `examples/templates/local-dir` with terraform.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::log_sockets::{NORMAL, open_socket, read_all};

const ZERO: &str = "00000000-0000-0000-0000-000000000000";

/// A CLI session: the server's base URL and the user's client.
struct Cli<'a> {
    base: &'a str,
    c: &'a Client,
}

impl Cli<'_> {
    /// `CurrentOrganization`: `GET /users/me/organizations`, the default one when several.
    async fn current_org(&self) -> Uuid {
        let r = self.c.get("/api/v2/users/me/organizations").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let orgs = r.body.as_array().unwrap();
        let org = orgs.iter().find(|o| o["is_default"] == true).unwrap_or(&orgs[0]);
        assert!(org["name"].is_string(), "{org}");
        uuid_of(&org["id"])
    }

    /// `cliui.ProvisionerJob`: follow the log (`?follow`, a WebSocket closed normally at the
    /// end), then fetch the job until it completed; returns the last job and the log lines.
    async fn watch_job(
        &self,
        job_path: &str,
        logs_path: &str,
        pick: fn(&Value) -> &Value,
    ) -> (Value, Vec<Value>) {
        let socket = open_socket(self.base, &format!("{logs_path}?follow"), self.c, None)
            .await
            .unwrap_or_else(|(s, b)| panic!("{logs_path}: {s} {b}"));
        let (lines, code) = read_all(socket, logs_path).await;
        assert_eq!(code, Some(NORMAL), "{logs_path}");
        for line in &lines {
            for field in ["id", "created_at", "log_source", "log_level", "stage", "output"] {
                assert!(!line[field].is_null(), "{field} in {line}");
            }
        }
        for _ in 0..600 {
            let r = self.c.get(job_path).await;
            assert_eq!(r.status, StatusCode::OK, "{job_path}: {}", r.body);
            let job = pick(&r.body).clone();
            assert!(job["queue_position"].is_i64(), "{job}");
            if !job["completed_at"].is_null() {
                return (job, lines);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{job_path}: the job did not complete in 60s");
    }

    /// `prepWorkspaceBuild`: the version, its rich parameters and external auth, a dry-run
    /// with its matched provisioners, followed to the end, and its resources. Returns the
    /// dry-run's log lines and resources.
    async fn prep_workspace_build(&self, version: Uuid, workspace_name: &str) -> (Value, Value) {
        let r = self.c.get(&format!("/api/v2/templateversions/{version}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for list in ["rich-parameters", "external-auth"] {
            let r = self.c.get(&format!("/api/v2/templateversions/{version}/{list}")).await;
            assert_eq!(r.status, StatusCode::OK, "{list}: {}", r.body);
            assert_eq!(r.body, json!([]), "{list}");
        }
        let r = self
            .c
            .send(
                Method::POST,
                &format!("/api/v2/templateversions/{version}/dry-run"),
                &json!({"workspace_name": workspace_name, "rich_parameter_values": null}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "dry-run: {}", r.body);
        assert_eq!(r.body["type"], "template_version_dry_run", "{}", r.body);
        assert_eq!(uuid_of(&r.body["input"]["template_version_id"]), version, "{}", r.body);
        let job = uuid_of(&r.body["id"]);
        let base = format!("/api/v2/templateversions/{version}/dry-run/{job}");
        let r = self.c.get(&format!("{base}/matched-provisioners")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body["count"].as_i64().unwrap() > 0, "{}", r.body);
        assert_eq!(r.body["available"], r.body["count"], "{}", r.body);
        assert!(r.body["most_recently_seen"].is_string(), "{}", r.body);
        let (done, lines) = self.watch_job(&base, &format!("{base}/logs"), |b| b).await;
        assert_eq!(done["status"], "succeeded", "{done} {lines:?}");
        let r = self.c.get(&format!("{base}/resources")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.is_array(), "{}", r.body);
        (json!(lines), r.body)
    }

    /// `cliui.WorkspaceBuild`: the build, its log followed, the build again until done.
    async fn watch_build(&self, build: Uuid) -> Value {
        let path = format!("/api/v2/workspacebuilds/{build}");
        let (job, lines) = self.watch_job(&path, &format!("{path}/logs"), |b| &b["job"]).await;
        assert_eq!(job["status"], "succeeded", "{job} {lines:?}");
        let r = self.c.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    /// `namedWorkspace`: `GET /users/{owner}/workspace/{name}?include_deleted=false`.
    async fn named_workspace(&self, owner: &str, name: &str) -> Reply {
        self.c.get(&format!("/api/v2/users/{owner}/workspace/{name}?include_deleted=false")).await
    }

    /// `coder create NAME --template TEMPLATE -y`: returns the workspace.
    async fn create(&self, name: &str, template: &str) -> Value {
        let org = self.current_org().await;
        let r = self.named_workspace("me", name).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the name is free: {}", r.body);
        // Go's url.Values.Encode: spaces as `+`, quotes and colons escaped.
        let q = format!("organization%3A%22{org}%22+exact_name%3A%22{template}%22");
        let r = self.c.get(&format!("/api/v2/templates?q={q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(names(&r.body), vec![template.to_owned()], "{}", r.body);
        let version = uuid_of(&r.body[0]["active_version_id"]);
        let r = self.c.get(&format!("/api/v2/templateversions/{version}/presets")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, json!([]));
        self.prep_workspace_build(version, name).await;
        let r = self
            .c
            .send(
                Method::POST,
                "/api/v2/users/me/workspaces",
                &json!({"template_id": ZERO, "template_version_id": version, "name": name,
                        "automatic_updates": "never", "template_version_preset_id": ZERO}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create: {}", r.body);
        let build = self.watch_build(uuid_of(&r.body["latest_build"]["id"])).await;
        assert_eq!(build["transition"], "start", "{build}");
        assert_eq!(build["status"], "running", "{build}");
        r.body
    }

    /// `coder stop NAME -y`.
    async fn stop(&self, name: &str) -> Value {
        let ws = self.named_workspace("me", name).await;
        assert_eq!(ws.status, StatusCode::OK, "{}", ws.body);
        assert_ne!(ws.body["latest_build"]["job"]["status"], "pending", "{}", ws.body);
        let r = self
            .c
            .send(
                Method::POST,
                &format!("/api/v2/workspaces/{}/builds", ws.body["id"].as_str().unwrap()),
                &json!({"template_version_id": ZERO, "transition": "stop",
                        "template_version_preset_id": ZERO}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "stop: {}", r.body);
        let build = self.watch_build(uuid_of(&r.body["id"])).await;
        assert_eq!(build["status"], "stopped", "{build}");
        build
    }

    /// `coder start NAME`: the last build's parameters, a dry-run of its version, the build.
    async fn start(&self, name: &str) -> Value {
        let ws = self.named_workspace("me", name).await;
        assert_eq!(ws.status, StatusCode::OK, "{}", ws.body);
        assert_eq!(ws.body["latest_build"]["status"], "stopped", "{}", ws.body);
        let last = uuid_of(&ws.body["latest_build"]["id"]);
        let r = self.c.get(&format!("/api/v2/workspacebuilds/{last}/parameters")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, json!([]));
        let version = uuid_of(&ws.body["latest_build"]["template_version_id"]);
        self.prep_workspace_build(version, name).await;
        let r = self
            .c
            .send(
                Method::POST,
                &format!("/api/v2/workspaces/{}/builds", ws.body["id"].as_str().unwrap()),
                &json!({"template_version_id": version, "transition": "start",
                        "template_version_preset_id": ZERO}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "start: {}", r.body);
        let build = self.watch_build(uuid_of(&r.body["id"])).await;
        assert_eq!(build["status"], "running", "{build}");
        build
    }

    /// `coder delete NAME -y`.
    async fn delete(&self, name: &str) {
        let ws = self.named_workspace("me", name).await;
        assert_eq!(ws.status, StatusCode::OK, "{}", ws.body);
        assert!(ws.body["last_used_at"].is_string(), "{}", ws.body);
        let r = self
            .c
            .send(
                Method::POST,
                &format!("/api/v2/workspaces/{}/builds", ws.body["id"].as_str().unwrap()),
                &json!({"template_version_id": ZERO, "transition": "delete",
                        "template_version_preset_id": ZERO}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "delete: {}", r.body);
        let build = self.watch_build(uuid_of(&r.body["id"])).await;
        assert_eq!(build["status"], "deleted", "{build}");
        let r = self.named_workspace("me", name).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "deleted: {}", r.body);
    }

    /// `coder templates push NAME -d DIR --provisioner P -y [--activate]`: returns the version.
    async fn push(&self, name: &str, archive: Vec<u8>, provisioner: &str) -> Uuid {
        let org = self.current_org().await;
        let existing = self.c.get(&format!("/api/v2/organizations/{org}/templates/{name}")).await;
        let template = match existing.status {
            StatusCode::NOT_FOUND => None,
            StatusCode::OK => Some(existing.body),
            s => panic!("template by name: {s} {}", existing.body),
        };
        // With no --provisioner-tag, the active version's tags are reused.
        let tags = match &template {
            Some(t) => {
                let active = uuid_of(&t["active_version_id"]);
                let r = self.c.get(&format!("/api/v2/templateversions/{active}")).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                assert!(r.body["job"]["tags"].is_object(), "{}", r.body);
                r.body["job"]["tags"].clone()
            }
            None => json!({}),
        };
        let file = self
            .c
            .send_raw(
                self.c
                    .request(Method::POST, "/api/v2/files")
                    .header(CONTENT_TYPE, "application/x-tar")
                    .body(archive),
            )
            .await;
        assert!(matches!(file.status, StatusCode::CREATED | StatusCode::OK), "{}", file.body);
        let template_id =
            template.as_ref().map_or(ZERO.to_owned(), |t| t["id"].as_str().unwrap().to_owned());
        let r = self
            .c
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{org}/templateversions"),
                &json!({"template_id": template_id, "storage_method": "file",
                        "file_id": file.body["hash"], "provisioner": provisioner, "tags": tags}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "version: {}", r.body);
        let version = uuid_of(&r.body["id"]);
        let path = format!("/api/v2/templateversions/{version}");
        let (job, lines) = self.watch_job(&path, &format!("{path}/logs"), |b| &b["job"]).await;
        assert_eq!(job["status"], "succeeded", "{job} {lines:?}");
        let r = self.c.get(&path).await;
        assert_eq!(r.body["job"]["status"], "succeeded", "{}", r.body);
        let r = self.c.get(&format!("{path}/resources")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        match template {
            None => {
                let r = self
                    .c
                    .send(
                        Method::POST,
                        &format!("/api/v2/organizations/{org}/templates"),
                        &json!({"name": name, "template_version_id": version,
                                "allow_user_cancel_workspace_jobs": null,
                                "disable_everyone_group_access": false,
                                "require_active_version": false, "max_port_share_level": null}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "template: {}", r.body);
            }
            Some(t) => {
                let r = self
                    .c
                    .send(
                        Method::PATCH,
                        &format!("/api/v2/templates/{}/versions", t["id"].as_str().unwrap()),
                        &json!({"id": version}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "activate: {}", r.body);
            }
        }
        version
    }
}

both_backends!(templates_push_creates_then_updates, |s: TestServer| async move {
    let cli = Cli { base: &s.url, c: &s.owner };
    let first = cli.push("pushed", module_tar(), "echo").await;
    let org = s.default_org;
    let t = s.owner.get(&format!("/api/v2/organizations/{org}/templates/pushed")).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_eq!(uuid_of(&t.body["active_version_id"]), first);
    let second = cli.push("pushed", module_tar(), "echo").await;
    assert_ne!(first, second);
    let t = s.owner.get(&format!("/api/v2/organizations/{org}/templates/pushed")).await;
    assert_eq!(uuid_of(&t.body["active_version_id"]), second, "{}", t.body);
    let v = s.owner.get(&format!("/api/v2/templateversions/{second}")).await;
    assert_eq!(uuid_of(&v.body["template_id"]), uuid_of(&t.body["id"]), "{}", v.body);
    s.stop().await;
});

both_backends!(create_stop_start_delete_as_a_member, |s: TestServer| async move {
    let owner = Cli { base: &s.url, c: &s.owner };
    owner.push("basic", module_tar(), "echo").await;
    let (member, _) = s.user_with_roles(&[]).await;
    let cli = Cli { base: &s.url, c: &member };
    let ws = cli.create("dev", "basic").await;
    assert_eq!(ws["name"], "dev");
    cli.stop("dev").await;
    cli.start("dev").await;
    cli.delete("dev").await;
    s.stop().await;
});

both_backends!(dry_runs_are_authorized_like_coder, |s: TestServer| async move {
    let owner = Cli { base: &s.url, c: &s.owner };
    let version = owner.push("dry", module_tar(), "echo").await;
    let (member, _) = s.user_with_roles(&[]).await;
    let (other, _) = s.user_with_roles(&[]).await;
    let start = |c: Client| async move {
        c.send(
            Method::POST,
            &format!("/api/v2/templateversions/{version}/dry-run"),
            &json!({"workspace_name": "x", "rich_parameter_values": []}),
        )
        .await
    };
    let r = start(member.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let job = uuid_of(&r.body["id"]);
    let base = format!("/api/v2/templateversions/{version}/dry-run/{job}");
    // Done first: a dry-run's resources answer 400 until its job completes.
    let (done, _) = owner.watch_job(&base, &format!("{base}/logs"), |b| b).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // Another member reads the template but not the member's planned workspace: 403.
    for path in [
        base.clone(),
        format!("{base}/matched-provisioners"),
        format!("{base}/resources"),
        format!("{base}/logs"),
    ] {
        let r = other.get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert_eq!(s.owner.get(&path).await.status, StatusCode::OK, "{path}");
    }
    // A job that is not this version's dry-run.
    let import =
        s.owner.get(&format!("/api/v2/templateversions/{version}")).await.body["job"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let r = s.owner.get(&format!("/api/v2/templateversions/{version}/dry-run/{import}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let missing = Uuid::new_v4();
    let r = s.owner.get(&format!("/api/v2/templateversions/{version}/dry-run/{missing}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.message(), format!("Provisioner job \"{missing}\" not found."));
    let r = s.owner.get(&format!("/api/v2/templateversions/{version}/dry-run/nope")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Job ID \"nope\" must be a valid UUID.");
    // Finished: cancelling is refused in Coder's words.
    let cli = Cli { base: &s.url, c: &member };
    let (done, _) = cli.watch_job(&base, &format!("{base}/logs"), |b| b).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let r = member.send_empty(Method::PATCH, &format!("{base}/cancel")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Job has already completed.");
    let r = member.get(&format!("{base}/logs")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.as_array().unwrap().is_empty(), "{}", r.body);

    // Who may not create workspaces may not dry-run: the creation ban, and an outsider.
    let (banned, banned_user) = s.user_with_roles(&[]).await;
    let r = set_org_roles(
        &s.owner,
        s.default_org,
        banned_user.id,
        &["organization-workspace-creation-ban"],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(start(banned).await.status, StatusCode::NOT_FOUND);
    let missing_version = Uuid::new_v4();
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/templateversions/{missing_version}/dry-run"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    s.stop().await;
});

both_backends!(dry_runs_wait_for_the_import_and_cancel, |base: TestServer| async move {
    let backend = base.backend;
    base.stop().await;
    // No provisioner: the import stays pending, so does a dry-run.
    let s = TestServer::start_with(backend, |c| c.provisioner_daemons = 0).await;
    let org = s.default_org;
    let file = upload(&s.owner, module_tar()).await;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "echo"}),
        )
        .await;
    let version = uuid_of(&r.body["id"]);
    let dry_run = format!("/api/v2/templateversions/{version}/dry-run");
    let body = json!({"workspace_name": "w", "rich_parameter_values": null});
    let r = s.owner.send(Method::POST, &dry_run, &body).await;
    assert_eq!(r.status.as_u16(), 425, "{}", r.body);
    assert_eq!(r.message(), "Template version import job hasn't completed!");
    // Cancel the import, so it counts as completed, then queue a dry-run and cancel it.
    let r = s
        .owner
        .send_empty(Method::PATCH, &format!("/api/v2/templateversions/{version}/cancel"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s.owner.send(Method::POST, &dry_run, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "pending", "{}", r.body);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let r = s.owner.get(&format!("{dry_run}/{job}/matched-provisioners")).await;
    assert_eq!(r.body, json!({"count": 0, "available": 0, "most_recently_seen": null}));
    let r = s.owner.get(&format!("{dry_run}/{job}/resources")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let (member, _) = s.user_with_roles(&["template-admin"]).await;
    // A template admin reads every workspace, so reads the owner's dry-run, but cancelling
    // needs update on the planned workspace: not found, as Coder answers.
    assert_eq!(member.get(&format!("{dry_run}/{job}")).await.status, StatusCode::OK);
    let r = member.send_empty(Method::PATCH, &format!("{dry_run}/{job}/cancel")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = s.owner.send_empty(Method::PATCH, &format!("{dry_run}/{job}/cancel")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.message(), "Job has been marked as canceled.");
    let r = s.owner.get(&format!("{dry_run}/{job}")).await;
    assert_eq!(r.body["status"], "canceled", "{}", r.body);
    let r = s.owner.send_empty(Method::PATCH, &format!("{dry_run}/{job}/cancel")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Job has already completed.");
    s.stop().await;
});

both_backends!(tokens_create_list_remove, |s: TestServer| async move {
    let (member, user) = s.user_with_roles(&[]).await;
    let r = member.get("/api/v2/users/me/keys/tokens/tokenconfig").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let lifetime = r.body["max_token_lifetime"].as_i64().unwrap();
    for name in ["ci", "other"] {
        let r = member
            .send(
                Method::POST,
                "/api/v2/users/me/keys/tokens",
                &json!({"lifetime": lifetime, "scope": "", "token_name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(r.body["key"].is_string(), "{}", r.body);
    }
    // A lifetime in Go's nanoseconds: one hour.
    let r = member
        .send(
            Method::POST,
            "/api/v2/users/me/keys/tokens",
            &json!({"lifetime": 3_600_000_000_000_i64, "scope": "", "token_name": "hour"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hour_key = r.body["key"].as_str().unwrap().to_owned();

    let r = member.get("/api/v2/users/me/keys/tokens?include_all=false").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let listed = r.body.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{}", r.body);
    for t in listed {
        for field in ["id", "token_name", "last_used", "expires_at", "created_at", "scope"] {
            assert!(!t[field].is_null(), "{field} in {t}");
        }
        assert_eq!(t["username"], user.username.as_str(), "{t}");
    }
    // `tokens list --all`: every user's tokens the caller may read, each with its owner.
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users/me/keys/tokens",
            &json!({"lifetime": lifetime, "scope": "", "token_name": "owners"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let all = s.owner.get("/api/v2/users/me/keys/tokens?include_all=true").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let owners: Vec<(String, String)> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["username"].as_str().unwrap().to_owned(),
                t["token_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(owners.len(), 4, "{}", all.body);
    assert!(owners.contains(&("owner".to_owned(), "owners".to_owned())), "{owners:?}");
    assert!(owners.contains(&(user.username.clone(), "ci".to_owned())), "{owners:?}");
    let mine = member.get("/api/v2/users/me/keys/tokens?include_all=true").await;
    assert_eq!(mine.body.as_array().unwrap().len(), 3, "only their own: {}", mine.body);
    let hour = listed.iter().find(|t| t["token_name"] == "hour").unwrap();
    assert_eq!(hour["lifetime_seconds"], 3600, "{hour}");

    // `tokens remove ci`: by name, then delete by id.
    let r = member.get("/api/v2/users/me/keys/tokens/ci").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = member.send_empty(Method::DELETE, &format!("/api/v2/users/me/keys/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // `tokens remove <the token itself>`: the name lookup fails, the id prefix is found.
    let r = member.get(&format!("/api/v2/users/me/keys/tokens/{hour_key}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let prefix = hour_key.split('-').next().unwrap();
    let r = member.get(&format!("/api/v2/users/me/keys/{prefix}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = member.send_empty(Method::DELETE, &format!("/api/v2/users/me/keys/{prefix}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        member.with_token(&hour_key).get("/api/v2/users/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = member.get("/api/v2/users/me/keys/tokens?include_all=false").await;
    assert_eq!(names_of_tokens(&r.body), vec!["other".to_owned()]);
    s.stop().await;
});

fn names_of_tokens(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|t| t["token_name"].as_str().unwrap().to_owned()).collect()
}

both_backends!(organization_roles_show_create_update, |s: TestServer| async move {
    let cli = Cli { base: &s.url, c: &s.owner };
    let org = cli.current_org().await;
    let path = format!("/api/v2/organizations/{org}/members/roles");
    let shown = org_role_list(&s.owner, org).await;
    for r in &shown {
        for field in ["name", "display_name", "assignable", "built_in"] {
            assert!(!r[field].is_null(), "{field} in {r}");
        }
    }
    assert!(shown.iter().any(|r| r["name"] == "organization-admin" && r["built_in"] == true));
    // Interactive create: organization_id set, the other lists nil.
    let role = json!({"name": "starter", "display_name": "",
        "site_permissions": null, "organization_permissions": [perm("workspace", "read")],
        "user_permissions": null});
    let r = s.owner.send(Method::POST, &path, &role).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "starter");
    assert_eq!(r.body["organization_id"], org.to_string());
    assert_eq!(r.body["organization_permissions"].as_array().unwrap().len(), 1, "{}", r.body);
    let listed = org_role_list(&s.owner, org).await;
    let mine = listed.iter().find(|r| r["name"] == "starter").expect("listed");
    assert_eq!(mine["built_in"], false, "{mine}");
    // Update from JSON on stdin: the role as `show -o json` printed it, one permission more.
    let mut updated = mine.clone();
    updated["organization_permissions"] =
        json!([perm("workspace", "read"), perm("workspace", "start")]);
    let r = s.owner.send(Method::PUT, &path, &updated).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["organization_permissions"].as_array().unwrap().len(), 2, "{}", r.body);
    let listed = org_role_list(&s.owner, org).await;
    let mine = listed.iter().find(|r| r["name"] == "starter").unwrap();
    assert_eq!(mine["organization_permissions"].as_array().unwrap().len(), 2, "{mine}");
    s.stop().await;
});

/// The local-dir example as an archive.
fn local_dir_tar() -> Vec<u8> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/templates/local-dir");
    let main_tf = std::fs::read(dir.join("main.tf")).unwrap();
    tar(&[("main.tf", &main_tf)])
}

both_backends!(the_flows_against_the_local_dir_example, |s: TestServer| async move {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !on_path {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "terraform must be on PATH under CI=true"
        );
        eprintln!("skipping: terraform is not on PATH");
        s.stop().await;
        return;
    }
    let mut s = s;
    let host = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(host.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let workspaces = host.path().join("workspaces");
    let configured = workspaces.clone();
    s.restart(|c| c.provisioner_workspaces_dir = Some(configured)).await;
    let cli = Cli { base: &s.url, c: &s.owner };
    cli.push("local-dir", local_dir_tar(), "terraform").await;
    // `templates push`'s preview: the import planned the start and stop transitions.
    let org = s.default_org;
    let template =
        s.owner.get(&format!("/api/v2/organizations/{org}/templates/local-dir")).await.body;
    let version = template["active_version_id"].as_str().unwrap().to_owned();
    let r = s.owner.get(&format!("/api/v2/templateversions/{version}/resources")).await;
    let previewed: Vec<String> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}.{}",
                r["workspace_transition"].as_str().unwrap(),
                r["type"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        previewed,
        [
            "start terraform_data.power",
            "start terraform_data.workspace",
            "stop terraform_data.power",
            "stop terraform_data.workspace",
        ],
        "{}",
        r.body
    );
    cli.create("dev", "local-dir").await;
    let dir = workspaces.join("owner/dev");
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "start");
    cli.stop("dev").await;
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "stop");
    // The dry-run before the start plans with terraform and changes nothing.
    let active = s.owner.get("/api/v2/users/me/workspace/dev").await.body["latest_build"]
        ["template_version_id"]
        .clone();
    let (lines, resources) = cli.prep_workspace_build(uuid_of(&active), "dev").await;
    assert!(lines.to_string().contains("terraform plan"), "{lines}");
    // What `coder create` lists before building: the plan's resources, in Coder's shape.
    let planned: Vec<String> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["workspace_transition"], "start", "{r}");
            assert!(r["id"].is_string() && r["job_id"].is_string(), "{r}");
            format!("{}.{}", r["type"].as_str().unwrap(), r["name"].as_str().unwrap())
        })
        .collect();
    assert_eq!(planned, ["terraform_data.power", "terraform_data.workspace"], "{resources}");
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "stop");
    cli.start("dev").await;
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "start");
    cli.delete("dev").await;
    assert!(!dir.exists(), "delete removes {}", dir.display());
    s.stop().await;
});
