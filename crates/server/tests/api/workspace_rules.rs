//! Workspace rules that close escalations: which template a create may name, which versions may
//! be built, what a grantor may share, and how long a log follower keeps reading.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::log_sockets::{POLICY, Socket, open_socket, read_all};
use crate::workspaces::{create_for, wait_status};

const EXCLUDED: &str = "Validation failed for tag \"excluded_with\" with value:";

/// `POST /organizations/{org}/members/{user}/workspaces` with any body.
async fn create_with(by: &Client, org: Uuid, user: &str, body: &Value) -> Reply {
    by.send(Method::POST, &format!("/api/v2/organizations/{org}/members/{user}/workspaces"), body)
        .await
}

/// A build with an explicit template version.
async fn build_version(by: &Client, ws: Uuid, transition: &str, version: Uuid) -> Reply {
    by.send(
        Method::POST,
        &format!("/api/v2/workspaces/{ws}/builds"),
        &json!({"transition": transition, "template_version_id": version}),
    )
    .await
}

/// A new version of `template` from `bytes`, imported with `provisioner`; not waited for.
async fn new_version(
    by: &Client,
    org: Uuid,
    template: Uuid,
    bytes: Vec<u8>,
    provisioner: &str,
) -> Uuid {
    let file = upload(by, bytes).await;
    assert_eq!(file.status, StatusCode::CREATED, "upload: {}", file.body);
    let r = by
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"],
                    "provisioner": provisioner, "template_id": template}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create template version: {}", r.body);
    uuid_of(&r.body["id"])
}

/// Polls a version until its import job is finished (bounded); returns the version.
async fn wait_for_import_end(by: &Client, version: Uuid) -> Value {
    for _ in 0..600 {
        let r = by.get(&format!("/api/v2/templateversions/{version}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if matches!(r.body["job"]["status"].as_str(), Some("succeeded" | "failed" | "canceled")) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import of {version} never finished");
}

both_backends!(template_and_version_exclude_each_other_on_create, |s: TestServer| async move {
    let org = s.default_org;
    let open = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let closed =
        create_template(&s.owner, org, json!({"disable_everyone_group_access": true})).await;
    let closed_version = uuid_of(&closed["active_version_id"]);
    let (org2, _) = create_org(&s).await;
    let elsewhere = create_template(&s.owner, org2, json!({})).await;
    let elsewhere_version = uuid_of(&elsewhere["active_version_id"]);
    let (member, _) = s.user_with_roles(&[]).await;

    // A usable template with another template's version, restricted or in another org: 400,
    // naming both fields, on both create routes; nothing is created.
    for version in [closed_version, elsewhere_version] {
        let body =
            json!({"template_id": open, "template_version_id": version, "name": unique("w")});
        for r in [
            create_with(&member, org, "me", &body).await,
            member.send(Method::POST, "/api/v2/users/me/workspaces", &body).await,
        ] {
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
            assert_eq!(r.message(), "Validation failed.");
            let v = &r.body["validations"];
            assert_eq!(v[0]["field"], "template_id", "{}", r.body);
            assert_eq!(v[0]["detail"], format!("{EXCLUDED} \"{open}\""));
            assert_eq!(v[1]["field"], "template_version_id", "{}", r.body);
            assert_eq!(v[1]["detail"], format!("{EXCLUDED} \"{version}\""));
        }
    }
    assert_eq!(member.get("/api/v2/workspaces").await.body["count"], 0);

    // A version alone stands for its own template: one the caller may not see is unknown,
    // one in another org is refused.
    let r = create_with(
        &member,
        org,
        "me",
        &json!({"template_version_id": closed_version, "name": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "template_id", "{}", r.body);
    let r = create_with(
        &member,
        org,
        "me",
        &json!({"template_version_id": elsewhere_version, "name": "x"}),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_ne!(r.status, StatusCode::CREATED);
    // The caller must be allowed to use it: an auditor reads every template but uses none.
    let (auditor, _) = s.user_with_roles(&["auditor"]).await;
    let r = create_with(
        &auditor,
        org,
        "me",
        &json!({"template_version_id": closed_version, "name": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let closed_name = closed["name"].as_str().unwrap();
    assert_eq!(r.message(), format!("Unauthorized access to use the template \"{closed_name}\"."));
    // A nil id counts as absent; the open template's own version alone works.
    let open_version =
        uuid_of(&s.owner.get(&format!("/api/v2/templates/{open}")).await.body["active_version_id"]);
    let r = create_with(
        &member,
        org,
        "me",
        &json!({"template_id": Uuid::nil(), "template_version_id": open_version, "name": "mine"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(uuid_of(&r.body["template_id"]), open);
    // A build names a version of the workspace's own template only.
    let ws = uuid_of(&r.body["id"]);
    wait_status(&member, ws, "running").await;
    let r = build_version(&s.owner, ws, "stop", elsewhere_version).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "template version doesn't match template");
    s.stop().await;
});

both_backends!(versions_that_did_not_import_are_never_built, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let tpl = create_template(&s.owner, org, json!({})).await;
    let template = uuid_of(&tpl["id"]);
    let r = create_for(&s.owner, org, "me", template, "ws").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&s.owner, ws, "running").await;

    // A version whose import failed (terraform refuses the source, or is missing).
    let bad = tar(&[("main.tf", b"resource \"terraform_data\" {")]);
    let failed = new_version(&s.owner, org, template, bad, "terraform").await;
    let v = wait_for_import_end(&s.owner, failed).await;
    assert_eq!(v["job"]["status"], "failed", "{v}");
    let name = v["name"].as_str().unwrap().to_owned();
    let prefix = format!("The provided template version \"{name}\" has failed to import: \"");
    let r = create_with(&s.owner, org, "me", &json!({"template_version_id": failed, "name": "f"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with(&prefix), "{}", r.body);
    assert!(r.message().ends_with("\". You cannot build workspaces with it!"), "{}", r.body);
    let r = build_version(&s.owner, ws, "start", failed).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with(&prefix), "{}", r.body);

    // A version still importing: 406.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let pending = new_version(&s.owner, org, template, module_tar(), "echo").await;
    let wait = "The provided template version is pending. Wait for it to complete importing!";
    let r = create_with(&s.owner, org, "me", &json!({"template_version_id": pending, "name": "p"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{}", r.body);
    assert_eq!(r.message(), wait);
    let r = build_version(&s.owner, ws, "stop", pending).await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{}", r.body);
    assert_eq!(r.message(), wait);
    // Nothing was created or queued.
    assert_eq!(s.owner.get("/api/v2/workspaces").await.body["count"], 1);
    let builds = s.owner.get(&format!("/api/v2/workspaces/{ws}/builds")).await;
    assert_eq!(builds.body.as_array().unwrap().len(), 1, "{}", builds.body);
    s.stop().await;
});

both_backends!(sharing_grants_only_what_the_grantor_holds_in_the_org, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, alice_user) = s.user_with_roles(&[]).await;
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    let (admin, admin_user) = member(&s, org, &[], &["organization-admin"]).await;
    let r = create_for(&alice, org, "me", template, "mine").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let grant = |user: Uuid, role: &str| json!({"user_roles": {user.to_string(): role}});

    // An org admin may edit the ACL (it holds `create`) but holds no `ssh` here, so it can
    // grant neither `use` nor `admin`, to itself or anyone.
    for (who, role) in [(admin_user.id, "use"), (admin_user.id, "admin"), (bob_user.id, "use")] {
        let r = admin.send(Method::PATCH, &acl, &grant(who, role)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}: {}", r.body);
        assert!(r.message().contains(&format!("\"{role}\"")), "{}", r.body);
    }
    let shown = alice.get(&acl).await;
    assert_eq!(shown.body["users"], json!([]), "{}", shown.body);
    let theirs = workspace_in(org, &alice_user.id.to_string());
    assert!(!authcheck(&admin, &theirs, "ssh").await, "still no ssh for the org admin");

    // The owner of the workspace holds everything and may share, but only within the org.
    let r = alice.send(Method::PATCH, &acl, &grant(bob_user.id, "use")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let (org2, _) = create_org(&s).await;
    let (_, outsider) = member(&s, org2, &[], &[]).await;
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", outsider.id))
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = alice.send(Method::PATCH, &acl, &grant(outsider.id, "admin")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "user_roles", "{}", r.body);
    assert!(
        r.body["validations"][0]["detail"].as_str().unwrap().contains("not a member"),
        "{}",
        r.body
    );
    // Removing a grant needs only `create`: the org admin may take bob's away.
    let r = admin.send(Method::PATCH, &acl, &grant(bob_user.id, "")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(bob.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::NOT_FOUND);
    s.stop().await;
});

/// Opens `GET /workspacebuilds/{id}/logs?follow` as `by` (a WebSocket, as codersdk follows).
async fn follow(s: &TestServer, by: &Client, build: &str) -> Socket {
    let path = format!("/api/v2/workspacebuilds/{build}/logs?follow");
    open_socket(&s.url, &path, by, None).await.unwrap()
}

/// Reads a socket to its end and checks the server cut the reader off (not a finished job).
async fn read_to_end(socket: Socket, what: &str) {
    assert_eq!(read_all(socket, what).await.1, Some(POLICY), "{what}");
}

both_backends!(log_followers_stop_when_their_access_ends, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, alice_user) = s.user_with_roles(&[]).await;
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    // No workers: builds stay pending, so a follow only ends when its reader loses access.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let alice = Client::new(&s.url, alice.token.clone());
    let bob = Client::new(&s.url, bob.token.clone());
    let r = create_for(&alice, org, "me", template, "followed").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let build_id = r.body["latest_build"]["id"].as_str().unwrap().to_owned();

    // A grantee whose grant is removed.
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let r = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): "use"}}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let stream = follow(&s, &bob, &build_id).await;
    let r = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): ""}}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    read_to_end(stream, "unshared reader").await;

    // The owner, suspended while following.
    let stream = follow(&s, &alice, &build_id).await;
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", alice_user.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    read_to_end(stream, "suspended reader").await;
    // The build is still pending: only access ended the streams.
    let got = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(got.body["latest_build"]["status"], "pending", "{}", got.body);
    s.stop().await;
});
