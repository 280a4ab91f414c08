//! Template variables (Coder's: the Terraform `variable` blocks of a version's root module),
//! read at a terraform import, given values with `user_variable_values`, listed by
//! `GET /templateversions/{id}/variables` (sensitive ones redacted) and passed to terraform on
//! every build. The server's own `atrium_*` variables are neither listed nor required. These
//! need terraform: skipped without it, except under CI.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{create_for, wait_status};

const MAIN_TF: &str = r#"
variable "region" {
  type        = string
  description = "Where it runs"
  default     = "eu"
}

variable "token" {
  type      = string
  sensitive = true
}

variable "size" {
  type    = number
  default = 2
}

# Set by the server on every build: not a template variable.
variable "atrium_workspace_name" {
  type = string
}

resource "terraform_data" "x" {
  input = "${var.region}/${var.size}"
  provisioner "local-exec" {
    command = "echo 'planted ${var.region} size ${var.size}'"
  }
}
"#;

fn terraform_on_path() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "terraform must be on PATH under CI=true"
        );
        eprintln!("skipping: terraform is not on PATH");
    }
    found
}

/// Imports `archive` with `values` as `user_variable_values`; returns the version once its job
/// finished (either way).
async fn import(s: &TestServer, provisioner: &str, archive: Vec<u8>, values: Value) -> Value {
    let org = s.default_org;
    let file = upload(&s.owner, archive).await;
    assert!(file.status.is_success(), "{}", file.body);
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"],
                    "provisioner": provisioner, "user_variable_values": values}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = uuid_of(&r.body["id"]);
    for _ in 0..600 {
        let r = s.owner.get(&format!("/api/v2/templateversions/{version}")).await;
        if !r.body["job"]["completed_at"].is_null() {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import did not finish in 60s");
}

async fn variables(by: &Client, version: Uuid) -> Value {
    let r = by.get(&format!("/api/v2/templateversions/{version}/variables")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

both_backends!(variables_are_read_required_redacted_and_passed, |s: TestServer| async move {
    if !terraform_on_path() {
        s.stop().await;
        return;
    }
    let archive = || tar(&[("main.tf", MAIN_TF.as_bytes())]);
    // A required variable without a value fails the import in Coder's words.
    let failed = import(&s, "terraform", archive(), Value::Null).await;
    assert_eq!(failed["job"]["status"], "failed", "{failed}");
    assert_eq!(
        failed["job"]["error"], "required template variables need values: token",
        "{failed}"
    );
    let listed = variables(&s.owner, uuid_of(&failed["id"])).await;
    assert_eq!(names(&listed), ["region", "size", "token"], "{listed}");

    let values = json!([{"name": "token", "value": "s3cret"}, {"name": "region", "value": "us"},
                        {"name": "unknown", "value": "ignored"}]);
    let good = import(&s, "terraform", archive(), values).await;
    assert_eq!(good["job"]["status"], "succeeded", "{good}");
    let version = uuid_of(&good["id"]);
    let listed = variables(&s.owner, version).await;
    assert_eq!(
        listed,
        json!([
            {"name": "region", "description": "Where it runs", "type": "string", "value": "us",
             "default_value": "eu", "required": false, "sensitive": false},
            {"name": "token", "description": "", "type": "string", "value": "*redacted*",
             "default_value": "*redacted*", "required": true, "sensitive": true},
            {"name": "size", "description": "", "type": "number", "value": "2",
             "default_value": "2", "required": false, "sensitive": false},
        ])
    );
    // Readers of the template read them; others do not.
    let org = s.default_org;
    let t = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("vars"), "template_version_id": version}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let (member, _) = s.user_with_roles(&[]).await;
    assert_eq!(variables(&member, version).await, listed);
    let (stranger_org, _) = create_org(&s).await;
    let (stranger, _) = member_of(&s, stranger_org).await;
    let r = stranger.get(&format!("/api/v2/templateversions/{version}/variables")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // A build passes the values to terraform.
    let ws = create_for(&s.owner, org, "me", uuid_of(&t.body["id"]), "vars").await;
    assert_eq!(ws.status, StatusCode::CREATED, "{}", ws.body);
    let build = ws.body["latest_build"]["id"].as_str().unwrap().to_owned();
    let ws = uuid_of(&ws.body["id"]);
    for _ in 0..600 {
        let r = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
        if !r.body["latest_build"]["job"]["completed_at"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let logs = s.owner.get(&format!("/api/v2/workspacebuilds/{build}/logs")).await;
    assert!(logs.body.to_string().contains("planted us size 2"), "{}", logs.body);
    wait_status(&s.owner, ws, "running").await;

    // The echo provisioner reads no variables (as Coder's): none listed, none required.
    let echo = import(&s, "echo", archive(), Value::Null).await;
    assert_eq!(echo["job"]["status"], "succeeded", "{echo}");
    assert_eq!(variables(&s.owner, uuid_of(&echo["id"])).await, json!([]));
    s.stop().await;
});

/// A user only in `org`.
async fn member_of(s: &TestServer, org: Uuid) -> (Client, Uuid) {
    let name = unique("m");
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": format!("{name}@example.com"), "username": name,
                    "password": PASSWORD, "organization_ids": [org]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = uuid_of(&r.body["id"]);
    (s.anonymous().login(&format!("{name}@example.com"), PASSWORD).await, id)
}
