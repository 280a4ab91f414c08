//! Workspaces and builds: the seed-000 story, the ban on org admins, on-behalf creation,
//! build authorization and the `q` filters.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::log_sockets::{NORMAL, open_socket, read_all};

const BAN: &str = "organization-workspace-creation-ban";

pub(crate) async fn create_for(
    by: &Client,
    org: Uuid,
    user: &str,
    template: Uuid,
    name: &str,
) -> Reply {
    by.send(
        Method::POST,
        &format!("/api/v2/organizations/{org}/members/{user}/workspaces"),
        &json!({"template_id": template, "name": name}),
    )
    .await
}

pub(crate) async fn build(by: &Client, ws: Uuid, transition: &str) -> Reply {
    by.send(
        Method::POST,
        &format!("/api/v2/workspaces/{ws}/builds"),
        &json!({"transition": transition}),
    )
    .await
}

/// Polls the workspace until its latest build reaches `status` (bounded).
pub(crate) async fn wait_status(by: &Client, ws: Uuid, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let r = by.get(&format!("/api/v2/workspaces/{ws}")).await;
        if r.status == StatusCode::NOT_FOUND && status == "deleted" {
            return Value::Null;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["latest_build"]["status"] == status {
            return r.body;
        }
        last = r.body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("workspace never reached {status}: {last}")
}

both_backends!(seed_000_story_ban_blocks_create_and_delete_not_use, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, me) = s.user_with_roles(&[]).await;
    let r = set_org_roles(&s.owner, org, me.id, &[BAN]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Their own create is refused (Coder answers 404 for a denied create).
    let r = create_for(&member, org, "me", template, "mine").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let listed = member.get("/api/v2/workspaces").await;
    assert_eq!(listed.body["count"], 0, "{}", listed.body);

    // A manager creates one on their behalf.
    let r = create_for(&s.owner, org, &me.username, template, "managed").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(uuid_of(&r.body["owner_id"]), me.id);
    assert_eq!(r.body["latest_build"]["transition"], "start");
    let ws = uuid_of(&r.body["id"]);
    wait_status(&member, ws, "running").await;

    // They stop and start it.
    let r = build(&member, ws, "stop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["transition"], "stop");
    wait_status(&member, ws, "stopped").await;
    let r = build(&member, ws, "start").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status(&member, ws, "running").await;

    // Their delete is refused with 403 and the workspace stays.
    let r = build(&member, ws, "delete").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "You do not have permission to delete this workspace.");
    let still = member.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(still.body["latest_build"]["status"], "running");

    // With the ban removed they create their own.
    let r = set_org_roles(&s.owner, org, me.id, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = create_for(&member, org, "me", template, "mine").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let listed = member.get("/api/v2/workspaces?q=owner:me").await;
    assert_eq!(listed.body["count"], 2, "{}", listed.body);
    // And may now delete.
    let r = build(&member, ws, "delete").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status(&member, ws, "deleted").await;
    s.stop().await;
});

both_backends!(ban_binds_org_admins_too, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (admin, admin_user) = s.user_with_roles(&[]).await;
    let r = set_org_roles(&s.owner, org, admin_user.id, &["organization-admin", BAN]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, member) = s.user_with_roles(&[]).await;

    let r = create_for(&admin, org, &member.username, template, "for-member").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the ban blocks an org admin's create: {}", r.body);
    // Without the ban, an org admin creates on a member's behalf.
    let r = create_for(&s.owner, org, &member.username, template, "by-owner").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&admin, ws, "running").await;
    // Stop and start stay with the org admin; delete does not.
    let r = build(&admin, ws, "stop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status(&admin, ws, "stopped").await;
    let r = build(&admin, ws, "delete").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    s.stop().await;
});

both_backends!(create_validations_and_visibility, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, me) = s.user_with_roles(&[]).await;
    let (other, _) = s.user_with_roles(&[]).await;
    // A member cannot create for someone else (they cannot even read them).
    let r = create_for(&member, org, &s.owner_id.to_string(), template, "nope").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = member
        .send(
            Method::POST,
            "/api/v2/users/me/workspaces",
            &json!({"template_id": template, "name": "first"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let dup = create_for(&member, org, "me", template, "FIRST").await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    assert_eq!(dup.message(), "Workspace \"FIRST\" already exists.");
    let bad = create_for(&member, org, "me", Uuid::new_v4(), "x").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["validations"][0]["field"], "template_id");
    let bad_name = create_for(&member, org, "me", template, "no spaces").await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);

    // Others cannot see it; the owner and the owner's admins can.
    assert_eq!(other.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::NOT_FOUND);
    let r = build(&other, ws, "stop").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let by_name = s.owner.get(&format!("/api/v2/users/{}/workspace/first", me.username)).await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
    assert_eq!(uuid_of(&by_name.body["id"]), ws);
    wait_status(&member, ws, "running").await;

    // Rename.
    let r = member
        .send(Method::PATCH, &format!("/api/v2/workspaces/{ws}"), &json!({"name": "renamed"}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let got = member.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(got.body["name"], "renamed");

    // Builds list and a single build.
    let builds = member.get(&format!("/api/v2/workspaces/{ws}/builds")).await;
    assert_eq!(builds.status, StatusCode::OK);
    let first = &builds.body.as_array().unwrap()[0];
    let one =
        member.get(&format!("/api/v2/workspacebuilds/{}", first["id"].as_str().unwrap())).await;
    assert_eq!(one.status, StatusCode::OK);
    let logs = member
        .get(&format!("/api/v2/workspacebuilds/{}/logs", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    assert!(logs.body.is_array());
    let bad = build(&member, ws, "explode").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    s.stop().await;
});

both_backends!(workspace_search_filters, |s: TestServer| async move {
    let org = s.default_org;
    let tpl = create_template(&s.owner, org, json!({})).await;
    let template = uuid_of(&tpl["id"]);
    let template_name = tpl["name"].as_str().unwrap().to_owned();
    let (member, me) = s.user_with_roles(&[]).await;
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        let r = create_for(&member, org, "me", template, name).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(uuid_of(&r.body["id"]));
    }
    let owner_ws = create_for(&s.owner, org, "me", template, "alpha").await;
    assert_eq!(owner_ws.status, StatusCode::CREATED);
    for id in &ids {
        wait_status(&member, *id, "running").await;
    }
    build(&member, ids[1], "stop").await;
    wait_status(&member, ids[1], "stopped").await;

    let count = |q: &str| {
        let owner = s.owner.clone();
        let q = q.to_owned();
        async move {
            let r =
                owner.get(&format!("/api/v2/workspaces?q={}", crate::users::urlencode(&q))).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
            r.body["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count("").await, 4);
    assert_eq!(count(&format!("owner:{}", me.username)).await, 3);
    assert_eq!(count("owner:me").await, 1);
    assert_eq!(count("name:alp").await, 2);
    assert_eq!(count(&format!("template:{template_name}")).await, 4);
    assert_eq!(count("status:stopped").await, 1);
    assert_eq!(count("status:running").await, 3);
    assert_eq!(count(&format!("organization:{org}")).await, 4);
    assert_eq!(count(&format!("id:{}", ids[2])).await, 1);
    assert_eq!(count(&format!("{}/gamma", me.username)).await, 1);
    assert_eq!(count("dormant:false").await, 4);
    let bad = s.owner.get("/api/v2/workspaces?q=status:sleepy").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A member lists only what they may read.
    let mine = member.get("/api/v2/workspaces").await;
    assert_eq!(mine.body["count"], 3);
    let page = s.owner.get("/api/v2/workspaces?limit=2").await;
    assert_eq!(page.body["workspaces"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["count"], 4);
    s.stop().await;
});

both_backends!(queued_jobs_survive_a_restart, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    // No workers: the build is queued and stays queued while the server runs.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let r = create_for(&s.owner, org, "me", template, "queued").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(pending.body["latest_build"]["status"], "pending", "{}", pending.body);
    // After a restart with workers, the queued job runs.
    s.restart(|c| c.provisioner_daemons = 3).await;
    wait_status(&s.owner, ws, "running").await;
    s.stop().await;
});

/// The example template's files as a tar.
fn example_tar() -> Vec<u8> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/templates/local-dir");
    let main_tf = std::fs::read(dir.join("main.tf")).unwrap();
    tar(&[("main.tf", &main_tf)])
}

both_backends!(terraform_provisioner_runs_the_local_dir_example, |s: TestServer| async move {
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
    // Sandboxed jobs write only their own directory and --provisioner-workspaces-dir. Its
    // parent must be passable by the job's user (`nobody` when the tests run as root).
    let mut s = s;
    let host = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(host.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let workspaces = host.path().join("workspaces");
    let configured = workspaces.clone();
    s.restart(|c| c.provisioner_workspaces_dir = Some(configured)).await;
    let org = s.default_org;
    let file = upload(&s.owner, example_tar()).await;
    assert!(file.status.is_success(), "{}", file.body);
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "terraform"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = uuid_of(&r.body["id"]);
    wait_for_version(&s.owner, version).await;
    let t = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": "local-dir", "template_version_id": version}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let r = create_for(&s.owner, org, "me", uuid_of(&t.body["id"]), "dev").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let dir = workspaces.join("owner/dev");
    wait_status_long(&s.owner, ws, "running").await;
    assert!(dir.is_dir(), "start creates {}", dir.display());
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "start");
    let build_id =
        s.owner.get(&format!("/api/v2/workspaces/{ws}")).await.body["latest_build"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let logs = s.owner.get(&format!("/api/v2/workspacebuilds/{build_id}/logs")).await;
    assert!(logs.body.to_string().contains("terraform apply"), "{}", logs.body);

    build(&s.owner, ws, "stop").await;
    wait_status_long(&s.owner, ws, "stopped").await;
    assert_eq!(std::fs::read_to_string(dir.join(".atrium-state")).unwrap().trim(), "stop");

    let r = build(&s.owner, ws, "delete").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status_long(&s.owner, ws, "deleted").await;
    assert!(!dir.exists(), "delete removes {}", dir.display());
    s.stop().await;
});

/// `wait_status` with room for real terraform runs.
async fn wait_status_long(by: &Client, ws: Uuid, status: &str) {
    for _ in 0..600 {
        let r = by.get(&format!("/api/v2/workspaces/{ws}")).await;
        if r.status == StatusCode::NOT_FOUND && status == "deleted" {
            return;
        }
        let now = r.body["latest_build"]["status"].as_str().unwrap_or_default().to_owned();
        if now == status {
            return;
        }
        if now == "failed" {
            let id = r.body["latest_build"]["id"].as_str().unwrap_or_default().to_owned();
            let logs = by.get(&format!("/api/v2/workspacebuilds/{id}/logs")).await;
            panic!("build failed: {}\nlogs: {}", r.body["latest_build"]["job"]["error"], logs.body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("workspace never reached {status}");
}

both_backends!(suspending_a_user_stops_their_running_workspaces, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, me) = s.user_with_roles(&[]).await;
    let r = create_for(&member, org, "me", template, "busy").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&s.owner, ws, "running").await;
    let r =
        s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", me.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stopped = wait_status(&s.owner, ws, "stopped").await;
    assert_eq!(stopped["latest_build"]["reason"], "suspended", "{stopped}");
    assert_eq!(stopped["latest_build"]["transition"], "stop");
    // Activating does not start it again.
    s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{}/status/activate", me.id)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(after.body["latest_build"]["status"], "stopped");
    s.stop().await;
});

both_backends!(one_active_build_and_owners_of_workspaces_stay, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, me) = s.user_with_roles(&[]).await;
    // With no workers the first build stays pending, so a second one is refused.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let member = Client::new(&s.url, member.token.clone());
    let r = create_for(&member, org, "me", template, "pending").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let again = build(&member, ws, "stop").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.message(), "A workspace build is already active.");
    // A user who owns workspaces cannot be deleted.
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{}", me.id)).await;
    assert_eq!(r.status, StatusCode::EXPECTATION_FAILED, "{}", r.body);
    assert_eq!(
        r.message(),
        "You cannot delete a user that has workspaces. Delete their workspaces and try again!"
    );
    assert_eq!(s.owner.get(&format!("/api/v2/users/{}", me.id)).await.status, StatusCode::OK);

    // Following the log streams until the job ends: start workers again.
    s.restart(|c| c.provisioner_daemons = 3).await;
    let member = Client::new(&s.url, member.token.clone());
    let got = member.get(&format!("/api/v2/workspaces/{ws}")).await;
    let build_id = got.body["latest_build"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v2/workspacebuilds/{build_id}/logs?follow");
    let socket = open_socket(&s.url, &path, &member, None).await.unwrap();
    let (lines, code) = read_all(socket, "the build log").await;
    assert_eq!(code, Some(NORMAL), "the socket closes normally when the job ends");
    assert!(
        lines.iter().any(|l| l["output"].as_str().unwrap_or_default().contains("complete")),
        "{lines:?}"
    );
    s.stop().await;
});

both_backends!(sharing_grants_use_and_the_ban_blocks_it, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, alice_user) = s.user_with_roles(&[]).await;
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    let (carol, carol_user) = s.user_with_roles(&[]).await;
    let r = create_for(&alice, org, "me", template, "shared").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&alice, ws, "running").await;
    assert_eq!(bob.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::NOT_FOUND);

    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let r = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): "use"}}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let shown = alice.get(&acl).await;
    assert_eq!(shown.body["users"][0]["role"], "use", "{}", shown.body);
    // Bob may see, stop and start it, but not change or delete it.
    assert_eq!(bob.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::OK);
    assert_eq!(bob.get("/api/v2/workspaces").await.body["count"], 1);
    let r = build(&bob, ws, "stop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status(&alice, ws, "stopped").await;
    let r = build(&bob, ws, "delete").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = bob
        .send(Method::PATCH, &format!("/api/v2/workspaces/{ws}"), &json!({"name": "mine-now"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = bob
        .send(Method::PATCH, &acl, &json!({"user_roles": {carol_user.id.to_string(): "use"}}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a `use` grantee cannot share further: {}", r.body);
    let bad = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): "owner"}}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["validations"][0]["field"], "user_roles");

    // Groups: a member of the group reads it.
    let g = create_group(&s.owner, org, &unique("pair")).await;
    let group = uuid_of(&g.body["id"]);
    let r = patch_group(&s.owner, group, &json!({"add_users": [carol_user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        alice.send(Method::PATCH, &acl, &json!({"group_roles": {group.to_string(): "use"}})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(carol.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::OK);

    // The creation ban also blocks sharing (sharing needs `create` on the workspace).
    let r = set_org_roles(&s.owner, org, alice_user.id, &[BAN]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): ""}}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        bob.get(&format!("/api/v2/workspaces/{ws}")).await.status,
        StatusCode::OK,
        "unchanged"
    );
    let r = s.owner.send_empty(Method::DELETE, &acl).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(bob.get(&format!("/api/v2/workspaces/{ws}")).await.status, StatusCode::NOT_FOUND);
    s.stop().await;
});

both_backends!(a_pending_build_can_be_canceled, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    s.restart(|c| c.provisioner_daemons = 0).await;
    let r = create_for(&s.owner, org, "me", template, "to-cancel").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let build_id = r.body["latest_build"]["id"].as_str().unwrap().to_owned();
    let ws = uuid_of(&r.body["id"]);
    let (other, _) = s.user_with_roles(&[]).await;
    let other = Client::new(&s.url, other.token.clone());
    let path = format!("/api/v2/workspacebuilds/{build_id}/cancel");
    assert_eq!(other.send_empty(Method::PATCH, &path).await.status, StatusCode::NOT_FOUND);
    let r = s.owner.send_empty(Method::PATCH, &path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(got.body["latest_build"]["status"], "canceled", "{}", got.body);
    let again = s.owner.send_empty(Method::PATCH, &path).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    // A canceled build is not active: a new one may start.
    s.restart(|c| c.provisioner_daemons = 3).await;
    let r = build(&s.owner, ws, "start").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    wait_status(&s.owner, ws, "running").await;
    s.stop().await;
});
