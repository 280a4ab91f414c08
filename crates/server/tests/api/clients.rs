//! What Coder's own clients send and read (issue 16): Go-shaped bodies (zero UUIDs, `null`
//! lists), `X-Coder-Build-Version` on every response, literal routes that win over `{user}`,
//! `{keyname}` and `{template}`, and the routes the CLI calls on create, start, stop, delete and
//! `templates push`, each for an authorized and an unauthorized caller.

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::create_for;

const ZERO: &str = "00000000-0000-0000-0000-000000000000";

/// A user only in a new org: reads nothing in the default org.
async fn outsider(s: &TestServer) -> (Client, Uuid) {
    let (org, _) = create_org(s).await;
    let name = unique("out");
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
    (s.anonymous().login(&format!("{name}@example.com"), PASSWORD).await, org)
}

both_backends!(go_shaped_bodies_read_zero_uuids_and_null_lists, |s: TestServer| async move {
    let org = s.default_org;
    // A version and a template with Go's zero UUID for "no template".
    let file = upload(&s.owner, module_tar()).await;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"name": "", "message": "", "template_id": ZERO, "storage_method": "file",
                    "file_id": file.body["hash"], "example_id": "", "provisioner": "echo",
                    "tags": null, "user_variable_values": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = uuid_of(&r.body["id"]);
    wait_for_version(&s.owner, version).await;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("tpl"), "template_version_id": ZERO}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a zero version is no version: {}", r.body);
    let template = create_template(&s.owner, org, json!({})).await;
    let template_id = uuid_of(&template["id"]);

    // Workspace create and a build, as codersdk marshals them.
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users/me/workspaces",
            &json!({"template_id": template_id, "template_version_id": ZERO, "name": unique("w"),
                    "autostart_schedule": null, "ttl_ms": null, "rich_parameter_values": null,
                    "automatic_updates": "", "template_version_preset_id": ZERO}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    crate::workspaces::wait_status(&s.owner, ws, "running").await;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/workspaces/{ws}/builds"),
            &json!({"template_version_id": ZERO, "transition": "stop", "dry_run": false,
                    "state": null, "orphan": false, "rich_parameter_values": null,
                    "log_level": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Null lists: users, roles, groups, custom roles, ACLs.
    let name = unique("go");
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": format!("{name}@example.com"), "username": name, "name": "",
                    "password": PASSWORD, "login_type": "", "organization_ids": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user = uuid_of(&r.body["id"]);
    let r = s
        .owner
        .send(Method::PUT, &format!("/api/v2/users/{user}/roles"), &json!({"roles": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{org}/members/{user}/roles"),
            &json!({"roles": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let group = uuid_of(&create_group(&s.owner, org, &unique("g")).await.body["id"]);
    let r = patch_group(
        &s.owner,
        group,
        &json!({"add_users": null, "remove_users": null, "name": "", "display_name": null,
                "avatar_url": null, "quota_allowance": null}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = patch_group(
        &s.owner,
        group,
        &json!({"add_users": [user.to_string()], "remove_users": null}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1), "{}", r.body);
    let role = unique("role");
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &json!({"name": role, "display_name": "", "site_permissions": null,
                "organization_permissions": null, "user_permissions": null}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        patch_acl(&s.owner, template_id, &json!({"user_perms": null, "group_perms": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/workspaces/{ws}/acl"),
            &json!({"user_roles": null, "group_roles": null}),
        )
        .await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
    let r = s.owner.send(Method::POST, "/api/v2/authcheck", &json!({"checks": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.stop().await;
});

both_backends!(every_response_carries_the_build_version, |s: TestServer| async move {
    let info = s.anonymous().get("/api/v2/buildinfo").await;
    let version = info.body["version"].as_str().unwrap().to_owned();
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    for (client, path) in [
        (s.anonymous(), "/api/v2/buildinfo"),
        (s.anonymous(), "/api/v2/users/first"),
        (s.anonymous(), "/api/v2/users/me"),
        (s.anonymous(), "/api/v2/no-such-route"),
        (s.owner.clone(), "/api/v2/templates/not-a-uuid"),
    ] {
        let r = client.get(path).await;
        let header = r.headers.get("x-coder-build-version").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref(), Some(version.as_str()), "{path} ({})", r.status);
    }
    s.stop().await;
});

both_backends!(literal_routes_win_over_path_parameters, |s: TestServer| async move {
    // Public, as `coder login` asks before it has a session.
    let r = s.anonymous().get("/api/v2/users/authmethods").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["password"]["enabled"], true);
    assert_eq!(r.body["github"]["enabled"], false);
    assert_eq!(r.body["oidc"]["enabled"], false);
    assert_eq!(r.body["oidc"]["signInText"], "");

    let r = s.owner.get("/api/v2/users/me/keys/tokens/tokenconfig").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let nanos = i64::try_from(s.config.max_token_lifetime.as_nanos()).unwrap();
    assert_eq!(r.body["max_token_lifetime"], nanos);
    let (member, member_user) = s.user_with_roles(&[]).await;
    let mine = member.get("/api/v2/users/me/keys/tokens/tokenconfig").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let r = s.owner.get(&format!("/api/v2/users/{}/keys/tokens/tokenconfig", member_user.id)).await;
    assert_eq!(r.status, StatusCode::OK, "an owner reads anyone's keys: {}", r.body);
    // Another user's keys are not the member's to read: as listing them.
    let theirs = member.get(&format!("/api/v2/users/{}/keys/tokens/tokenconfig", s.owner_id)).await;
    let list = member.get(&format!("/api/v2/users/{}/keys/tokens", s.owner_id)).await;
    assert_ne!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert_eq!(theirs.status, list.status, "{} / {}", theirs.body, list.body);
    assert_eq!(
        s.anonymous().get("/api/v2/users/me/keys/tokens/tokenconfig").await.status,
        StatusCode::UNAUTHORIZED
    );

    let r = member.get("/api/v2/templates/examples").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!([]));
    assert_eq!(
        s.anonymous().get("/api/v2/templates/examples").await.status,
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
});

both_backends!(a_users_organizations_are_those_the_caller_may_read, |s: TestServer| async move {
    let (other, _) = create_org(&s).await;
    let (member, member_user) = s.user_with_roles(&[]).await;
    let mine = member.get("/api/v2/users/me/organizations").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(ids(&mine.body), vec![s.default_org]);
    let r = s.owner.get(&format!("/api/v2/users/{}/organizations", member_user.id)).await;
    assert_eq!(ids(&r.body), vec![s.default_org], "{}", r.body);
    // The owner created the other org, so joined it (as Coder's creator does); the member
    // sees only the org it may read.
    let mut all = ids(&s.owner.get("/api/v2/users/me/organizations").await.body);
    all.sort();
    let mut want = vec![s.default_org, other];
    want.sort();
    assert_eq!(all, want);
    // An org admin of the default org reads the owner, but not the other org.
    let (admin, admin_user) = s.user_with_roles(&[]).await;
    let r = set_org_roles(&s.owner, s.default_org, admin_user.id, &["organization-admin"]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = admin.get(&format!("/api/v2/users/{}/organizations", s.owner_id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body), vec![s.default_org], "{}", r.body);
    // A user the caller may not read is refused as `{user}` always is.
    let r = member.get(&format!("/api/v2/users/{}/organizations", s.owner_id)).await;
    let user = member.get(&format!("/api/v2/users/{}", s.owner_id)).await;
    assert_eq!(r.status, user.status, "{}", r.body);
    assert_eq!(
        s.anonymous().get("/api/v2/users/me/organizations").await.status,
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
});

both_backends!(the_clis_version_and_build_reads, |s: TestServer| async move {
    let org = s.default_org;
    let template = create_template(&s.owner, org, json!({})).await;
    let template_id = uuid_of(&template["id"]);
    let version = uuid_of(&template["active_version_id"]);
    let (member, _) = s.user_with_roles(&[]).await;
    let (stranger, _) = outsider(&s).await;
    for list in ["presets", "rich-parameters", "external-auth", "resources", "variables"] {
        let path = format!("/api/v2/templateversions/{version}/{list}");
        for (who, c) in [("owner", &s.owner), ("member", &member)] {
            let r = c.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {list}: {}", r.body);
            assert_eq!(r.body, json!([]), "{list}");
        }
        assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND, "{list}");
        let missing = format!("/api/v2/templateversions/{}/{list}", Uuid::new_v4());
        assert_eq!(s.owner.get(&missing).await.status, StatusCode::NOT_FOUND, "{list}");
    }

    // A version by name.
    let name = s.owner.get(&format!("/api/v2/templateversions/{version}")).await.body["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v2/templates/{template_id}/versions/{name}");
    let r = member.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuid_of(&r.body["id"]), version);
    let r = s.owner.get(&format!("/api/v2/templates/{template_id}/versions/nope")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.message(), "No template version found by name \"nope\".");
    assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);

    // A build's parameters.
    let ws = create_for(&member, org, "me", template_id, &unique("w")).await;
    assert_eq!(ws.status, StatusCode::CREATED, "{}", ws.body);
    let build = uuid_of(&ws.body["latest_build"]["id"]);
    let path = format!("/api/v2/workspacebuilds/{build}/parameters");
    for c in [&member, &s.owner] {
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, json!([]));
    }
    let (other_member, _) = s.user_with_roles(&[]).await;
    assert_eq!(other_member.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);

    // Cancelling a finished import is refused; a reader without update is forbidden.
    let cancel = format!("/api/v2/templateversions/{version}/cancel");
    let r = s.owner.send_empty(Method::PATCH, &cancel).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Job has already completed!");
    assert_eq!(member.send_empty(Method::PATCH, &cancel).await.status, StatusCode::FORBIDDEN);
    assert_eq!(stranger.send_empty(Method::PATCH, &cancel).await.status, StatusCode::NOT_FOUND);
    s.stop().await;
});

both_backends!(cancelling_a_pending_import, |base: TestServer| async move {
    let backend = base.backend;
    base.stop().await;
    // No provisioner: the import stays pending.
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
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = uuid_of(&r.body["id"]);
    let cancel = format!("/api/v2/templateversions/{version}/cancel");
    let (admin, _) = s.user_with_roles(&["template-admin"]).await;
    let (member, _) = s.user_with_roles(&[]).await;
    // A plain member cannot read a version without a template: not found.
    assert_eq!(member.send_empty(Method::PATCH, &cancel).await.status, StatusCode::NOT_FOUND);
    let r = admin.send_empty(Method::PATCH, &cancel).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.message(), "Job has been marked as canceled...");
    let got = s.owner.get(&format!("/api/v2/templateversions/{version}")).await;
    assert_eq!(got.body["job"]["status"], "canceled", "{}", got.body);
    let again = s.owner.send_empty(Method::PATCH, &cancel).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let audit = s.owner.get("/api/v2/audit?limit=100").await;
    assert!(
        audit.body["audit_logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "write" && uuid_of(&a["resource_id"]) == version),
        "{}",
        audit.body
    );
    s.stop().await;
});
