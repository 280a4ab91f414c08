//! Shared fixtures for the organization-level tests (orgs, members, roles, groups, templates,
//! authcheck): small API calls that assert their own success, so a test reads as its story.

use std::time::Duration;

use atrium_api::users::User;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

pub const NOT_FOUND: &str = "Resource not found or you do not have access to this resource";

/// A JSON string holding a UUID.
pub fn uuid_of(v: &Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a uuid: {v}"))
}

/// The `name` fields of a JSON array, sorted.
pub fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// The `id` fields of a JSON array.
pub fn ids(v: &Value) -> Vec<Uuid> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|e| uuid_of(&e["id"]))
        .collect()
}

/// Sorted owned strings, for comparing role-name sets.
pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    out.sort();
    out
}

/// The owner creates an organization; returns its id and name.
pub async fn create_org(s: &TestServer) -> (Uuid, String) {
    let name = unique("org");
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/organizations",
            &json!({"name": name, "display_name": format!("Org {name}")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create org: {}", r.body);
    (uuid_of(&r.body["id"]), name)
}

/// `POST /organizations/{org}/members/{user}` by `by`.
pub async fn add_member_by(by: &Client, org: Uuid, user: Uuid) -> Reply {
    by.send_empty(Method::POST, &format!("/api/v2/organizations/{org}/members/{user}")).await
}

/// The owner adds `user` to `org`.
pub async fn add_member(s: &TestServer, org: Uuid, user: Uuid) {
    let r = add_member_by(&s.owner, org, user).await;
    assert_eq!(r.status, StatusCode::OK, "add member: {}", r.body);
}

/// `PUT /organizations/{org}/members/{user}/roles` by `by`.
pub async fn set_org_roles(by: &Client, org: Uuid, user: Uuid, roles: &[&str]) -> Reply {
    by.send(
        Method::PUT,
        &format!("/api/v2/organizations/{org}/members/{user}/roles"),
        &json!({ "roles": roles }),
    )
    .await
}

/// The member list of `org` as the owner sees it.
pub async fn members(s: &TestServer, org: Uuid) -> Vec<Value> {
    let r = s.owner.get(&format!("/api/v2/organizations/{org}/members")).await;
    assert_eq!(r.status, StatusCode::OK, "list members: {}", r.body);
    r.body.as_array().unwrap_or_else(|| panic!("members: {}", r.body)).clone()
}

/// The stored org roles of `user` in `org` (sorted names), read back as the owner.
pub async fn org_roles(s: &TestServer, org: Uuid, user: Uuid) -> Vec<String> {
    let all = members(s, org).await;
    let member = all
        .iter()
        .find(|m| uuid_of(&m["user_id"]) == user)
        .unwrap_or_else(|| panic!("{user} is not a member of {org}: {all:?}"));
    names(&member["roles"])
}

/// A fresh user with the given site roles, a member of `org` (the owner adds them unless `org`
/// is the default org, which they join at creation) holding `roles` there, logged in.
pub async fn member(
    s: &TestServer,
    org: Uuid,
    site_roles: &[&str],
    roles: &[&str],
) -> (Client, User) {
    let (client, user) = s.user_with_roles(site_roles).await;
    if org != s.default_org {
        add_member(s, org, user.id).await;
    }
    if !roles.is_empty() {
        let r = set_org_roles(&s.owner, org, user.id, roles).await;
        assert_eq!(r.status, StatusCode::OK, "set org roles {roles:?}: {}", r.body);
    }
    (client, user)
}

/// A positive permission.
pub fn perm(resource_type: &str, action: &str) -> Value {
    json!({"negate": false, "resource_type": resource_type, "action": action})
}

/// A custom-role request body with only organization permissions.
pub fn role_body(name: &str, organization_permissions: &[Value]) -> Value {
    json!({
        "name": name,
        "display_name": format!("Role {name}"),
        "site_permissions": [],
        "organization_permissions": organization_permissions,
        "user_permissions": [],
    })
}

/// `POST` (create) or `PUT` (update) of a custom role in `org`.
pub async fn send_role(by: &Client, method: Method, org: Uuid, body: &Value) -> Reply {
    by.send(method, &format!("/api/v2/organizations/{org}/members/roles"), body).await
}

/// The org's role listing as `by` sees it (asserting 200).
pub async fn org_role_list(by: &Client, org: Uuid) -> Vec<Value> {
    let r = by.get(&format!("/api/v2/organizations/{org}/members/roles")).await;
    assert_eq!(r.status, StatusCode::OK, "list org roles: {}", r.body);
    r.body.as_array().unwrap_or_else(|| panic!("roles: {}", r.body)).clone()
}

/// `POST /organizations/{org}/groups` with a name and display name.
pub async fn create_group(by: &Client, org: Uuid, name: &str) -> Reply {
    by.send(
        Method::POST,
        &format!("/api/v2/organizations/{org}/groups"),
        &json!({"name": name, "display_name": format!("Group {name}")}),
    )
    .await
}

/// `PATCH /groups/{group}`.
pub async fn patch_group(by: &Client, group: Uuid, body: &Value) -> Reply {
    by.send(Method::PATCH, &format!("/api/v2/groups/{group}"), body).await
}

/// A minimal ustar archive (regular files only), written by hand so no crate is needed.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        assert!(name.len() < 100, "tar name too long");
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[148..156].copy_from_slice(b"        ");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A one-file Terraform module, unique per call so uploads never collide by accident.
pub fn module_tar() -> Vec<u8> {
    let main_tf = format!("resource \"terraform_data\" \"x\" {{}}\n# {}\n", unique("m"));
    tar(&[("main.tf", main_tf.as_bytes())])
}

/// `POST /files` with a tar body.
pub async fn upload(by: &Client, bytes: Vec<u8>) -> Reply {
    by.send_raw(
        by.request(Method::POST, "/api/v2/files")
            .header(CONTENT_TYPE, "application/x-tar")
            .body(bytes),
    )
    .await
}

/// Polls `GET /templateversions/{id}` until its import job succeeds (at most ~10 s).
pub async fn wait_for_version(by: &Client, version: Uuid) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let r = by.get(&format!("/api/v2/templateversions/{version}")).await;
        assert_eq!(r.status, StatusCode::OK, "get template version: {}", r.body);
        let status = r.body["job"]["status"].as_str().unwrap_or_default().to_owned();
        match status.as_str() {
            "succeeded" => return r.body,
            "failed" | "canceled" | "canceling" => panic!("import job did not succeed: {}", r.body),
            _ => {}
        }
        last = r.body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import job still not done after 10s: {last}")
}

/// Uploads a module and imports it with the echo provisioner in `org`; returns the version id
/// once its job succeeded.
pub async fn import_version(by: &Client, org: Uuid) -> Uuid {
    let file = upload(by, module_tar()).await;
    assert_eq!(file.status, StatusCode::CREATED, "upload: {}", file.body);
    let r = by
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create template version: {}", r.body);
    let id = uuid_of(&r.body["id"]);
    wait_for_version(by, id).await;
    id
}

/// Imports a version and creates a template from it in `org` (extra request fields merged in);
/// returns the created template.
pub async fn create_template(by: &Client, org: Uuid, extra: Value) -> Value {
    let version = import_version(by, org).await;
    let mut body = json!({"name": unique("tpl"), "template_version_id": version});
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    let r = by.send(Method::POST, &format!("/api/v2/organizations/{org}/templates"), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "create template: {}", r.body);
    r.body
}

/// `GET /templates/{t}/acl` as `by`, asserting 200.
pub async fn template_acl(by: &Client, template: Uuid) -> Value {
    let r = by.get(&format!("/api/v2/templates/{template}/acl")).await;
    assert_eq!(r.status, StatusCode::OK, "get template acl: {}", r.body);
    r.body
}

/// `PATCH /templates/{t}/acl`.
pub async fn patch_acl(by: &Client, template: Uuid, body: &Value) -> Reply {
    by.send(Method::PATCH, &format!("/api/v2/templates/{template}/acl"), body).await
}

/// A workspace object in `org` owned by `owner` (`"me"` or a user id), for authcheck.
pub fn workspace_in(org: Uuid, owner: &str) -> Value {
    json!({"resource_type": "workspace", "owner_id": owner, "organization_id": org})
}

/// One `POST /authcheck` question; returns the answer.
pub async fn authcheck(by: &Client, object: &Value, action: &str) -> bool {
    let r = by
        .send(
            Method::POST,
            "/api/v2/authcheck",
            &json!({"checks": {"k": {"object": object, "action": action}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "authcheck {action} {object}: {}", r.body);
    r.body["k"].as_bool().unwrap_or_else(|| panic!("authcheck answer: {}", r.body))
}

/// `POST /authcheck/explain` for one check (optionally about another user).
pub async fn explain(by: &Client, user: Option<Uuid>, object: &Value, action: &str) -> Reply {
    let mut body = json!({"object": object, "action": action});
    if let Some(user) = user {
        body["user_id"] = json!(user);
    }
    by.send(Method::POST, "/api/v2/authcheck/explain", &body).await
}
