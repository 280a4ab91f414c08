//! Files, template versions (an echo import job), templates, and the template ACL: Everyone's
//! default `use`, restricting to groups and users, who may edit the ACL, and the
//! closed-by-default server flag.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

async fn get_template(c: &Client, template: Uuid) -> Reply {
    c.get(&format!("/api/v2/templates/{template}")).await
}

async fn org_templates(c: &Client, org: Uuid) -> Vec<Uuid> {
    let r = c.get(&format!("/api/v2/organizations/{org}/templates")).await;
    assert_eq!(r.status, StatusCode::OK, "list templates: {}", r.body);
    ids(&r.body)
}

/// `(id, role)` of the ACL's `users` or `group` entries, sorted.
fn acl_entries(acl: &Value, key: &str) -> Vec<(Uuid, String)> {
    let mut out: Vec<(Uuid, String)> = acl[key]
        .as_array()
        .unwrap_or_else(|| panic!("acl has no {key}: {acl}"))
        .iter()
        .map(|e| (uuid_of(&e["id"]), e["role"].as_str().unwrap_or_default().to_owned()))
        .collect();
    out.sort();
    out
}

both_backends!(files_versions_and_templates, |s: TestServer| async move {
    let org = s.default_org;
    let bytes = module_tar();
    let first = upload(&s.owner, bytes.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let file = uuid_of(&first.body["hash"]);
    let again = upload(&s.owner, bytes.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "same bytes again: {}", again.body);
    assert_eq!(uuid_of(&again.body["hash"]), file);
    let other = upload(&s.owner, module_tar()).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(uuid_of(&other.body["hash"]), file);
    // The bytes come back as uploaded.
    let token = s.owner.token.clone().unwrap();
    let download = s
        .owner
        .request(Method::GET, &format!("/api/v2/files/{file}"))
        .header("Coder-Session-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    // A version imports as a job.
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file, "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = uuid_of(&r.body["id"]);
    assert!(
        matches!(r.body["job"]["status"].as_str(), Some("pending" | "running" | "succeeded")),
        "{}",
        r.body
    );
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    let done = wait_for_version(&s.owner, version).await;
    assert_eq!(done["job"]["status"], "succeeded");
    let bad = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": Uuid::new_v4(), "provisioner": "echo"}),
        )
        .await;
    assert!(bad.status.is_client_error(), "unknown file: {}", bad.body);

    // A template from it.
    let name = unique("tpl");
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": name, "display_name": "Docker", "template_version_id": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let template = uuid_of(&r.body["id"]);
    assert_eq!(r.body["name"], name);
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    assert_eq!(uuid_of(&r.body["active_version_id"]), version);
    let second_version = import_version(&s.owner, org).await;
    let dup = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": name, "template_version_id": second_version}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    let bad = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": name}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    assert!(org_templates(&s.owner, org).await.contains(&template));
    assert_eq!(get_template(&s.owner, template).await.body["name"], name);
    let by_name = s.owner.get(&format!("/api/v2/organizations/{org}/templates/{name}")).await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
    assert_eq!(uuid_of(&by_name.body["id"]), template);
    let r = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Docker v2", "description": "Containers"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = get_template(&s.owner, template).await;
    assert_eq!(got.body["display_name"], "Docker v2");
    assert_eq!(got.body["description"], "Containers");
    assert_eq!(got.body["name"], name);

    // Plain members read it (Everyone has use) but may not create or change templates.
    let (plain, _) = s.user_with_roles(&[]).await;
    assert_eq!(get_template(&plain, template).await.status, StatusCode::OK);
    let r = plain
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file, "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = plain
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("mine"), "template_version_id": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = plain
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Mine"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = plain.send_empty(Method::DELETE, &format!("/api/v2/templates/{template}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(get_template(&s.owner, template).await.body["display_name"], "Docker v2");
    assert_eq!(org_templates(&s.owner, org).await.len(), 1);

    // A site template admin may; deleting with no workspaces succeeds.
    let (template_admin, _) = s.user_with_roles(&["template-admin"]).await;
    let theirs = create_template(&template_admin, org, json!({})).await;
    let theirs = uuid_of(&theirs["id"]);
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/templates/{template}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_template(&s.owner, template).await.status, StatusCode::NOT_FOUND);
    assert_eq!(org_templates(&s.owner, org).await, [theirs]);
    s.stop().await;
});

both_backends!(template_acl_restricts_and_grants, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (dev, dev_user) = member(&s, org, &[], &[]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let (acl_admin, acl_admin_user) = member(&s, org, &[], &[]).await;
    let (org_auditor, _) = member(&s, org, &[], &["organization-auditor"]).await;
    let (org_template_admin, _) = member(&s, org, &[], &["organization-template-admin"]).await;
    let (outsider, _) = s.user_with_roles(&[]).await;
    let devs = uuid_of(&create_group(&s.owner, org, "devs").await.body["id"]);
    let r = patch_group(&s.owner, devs, &json!({"add_users": [dev_user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // New templates give Everyone `use`; users start empty.
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let acl = template_acl(&s.owner, template).await;
    assert_eq!(acl["users"], json!([]));
    assert_eq!(acl_entries(&acl, "group"), [(org, "use".to_owned())]);
    assert_eq!(acl["group"][0]["name"], "Everyone");
    assert_eq!(uuid_of(&acl["group"][0]["organization_id"]), org);
    assert_eq!(get_template(&plain, template).await.status, StatusCode::OK);
    assert_eq!(
        get_template(&outsider, template).await.status,
        StatusCode::NOT_FOUND,
        "Everyone is this org's"
    );
    // ...unless asked not to.
    let closed = uuid_of(
        &create_template(&s.owner, org, json!({"disable_everyone_group_access": true})).await["id"],
    );
    assert_eq!(template_acl(&s.owner, closed).await["group"], json!([]));
    assert_eq!(get_template(&plain, closed).await.status, StatusCode::NOT_FOUND);

    // Restrict to devs, make one user an admin of it.
    let r = patch_acl(
        &s.owner,
        template,
        &json!({"group_perms": {org.to_string(): "", devs.to_string(): "use"},
                "user_perms": {acl_admin_user.id.to_string(): "admin"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"message": "Successfully updated template ACL list."}));
    let acl = template_acl(&s.owner, template).await;
    assert_eq!(acl_entries(&acl, "group"), [(devs, "use".to_owned())]);
    assert_eq!(acl["group"][0]["name"], "devs");
    assert_eq!(acl_entries(&acl, "users"), [(acl_admin_user.id, "admin".to_owned())]);
    assert_eq!(acl["users"][0]["username"], acl_admin_user.username.as_str());

    let r = get_template(&plain, template).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.message(), NOT_FOUND);
    assert!(!org_templates(&plain, org).await.contains(&template));
    assert_eq!(get_template(&dev, template).await.status, StatusCode::OK);
    assert!(org_templates(&dev, org).await.contains(&template));
    assert!(!org_templates(&dev, org).await.contains(&closed));
    // An `admin` entry is every template action: update, and the ACL itself.
    let r = acl_admin
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Devs only"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A `use` entry reads but does not update.
    let r = dev
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Mine"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Invalid requests name the field and change nothing.
    let before = template_acl(&s.owner, template).await;
    let nil = Uuid::nil().to_string();
    let invalid = [
        (
            json!({"group_perms": {devs.to_string(): "superuser"}}),
            "group_perms",
            "role \"superuser\" is not a valid template role".to_owned(),
        ),
        (
            json!({"user_perms": {dev_user.id.to_string(): "owner"}}),
            "user_perms",
            "role \"owner\" is not a valid template role".to_owned(),
        ),
        (
            json!({"user_perms": {"nope": "use"}}),
            "user_perms",
            "nope is not a valid UUID.".to_owned(),
        ),
        (
            json!({"group_perms": {nil.clone(): "use"}}),
            "group_perms",
            format!("group with ID {nil} does not exist"),
        ),
    ];
    for (body, field, detail) in invalid {
        let r = patch_acl(&s.owner, template, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.message(), "Invalid request to update template ACL", "{body}");
        assert_eq!(r.body["validations"][0]["field"], field, "{body}: {}", r.body);
        assert_eq!(r.body["validations"][0]["detail"], detail, "{body}: {}", r.body);
    }
    assert_eq!(template_acl(&s.owner, template).await, before);

    // Only those who may create the template edit its ACL.
    let grab = json!({"user_perms": {dev_user.id.to_string(): "admin"}});
    for (who, c, status) in [
        ("org auditor (reads templates)", &org_auditor, StatusCode::FORBIDDEN),
        ("devs member (use)", &dev, StatusCode::FORBIDDEN),
        ("plain member (cannot read)", &plain, StatusCode::NOT_FOUND),
        ("outsider", &outsider, StatusCode::NOT_FOUND),
    ] {
        let r = patch_acl(c, template, &grab).await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    assert_eq!(template_acl(&s.owner, template).await, before);
    let r = acl_admin
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}/acl"),
            &json!({"group_perms": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "an ACL admin holds create on the template: {}", r.body);
    // An org template admin reopens it to Everyone.
    let r =
        patch_acl(&org_template_admin, template, &json!({"group_perms": {org.to_string(): "use"}}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_template(&plain, template).await.status, StatusCode::OK);
    let acl = template_acl(&s.owner, template).await;
    assert_eq!(acl_entries(&acl, "group").len(), 2, "{acl}");
    s.stop().await;
});

both_backends!(templates_closed_by_default_give_everyone_nothing, |base: TestServer| async move {
    let backend = base.backend;
    base.stop().await;
    let s = TestServer::start_with(backend, |c| c.templates_closed_by_default = true).await;
    assert!(s.config.templates_closed_by_default);
    let org = s.default_org;
    let (plain, _) = s.user_with_roles(&[]).await;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let acl = template_acl(&s.owner, template).await;
    assert_eq!(acl["group"], json!([]), "{acl}");
    assert_eq!(acl["users"], json!([]), "{acl}");
    assert_eq!(get_template(&plain, template).await.status, StatusCode::NOT_FOUND);
    assert!(org_templates(&plain, org).await.is_empty());
    // Access is granted explicitly.
    let r = patch_acl(&s.owner, template, &json!({"group_perms": {org.to_string(): "use"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_template(&plain, template).await.status, StatusCode::OK);
    s.stop().await;
});

async fn download(c: &Client, file: Uuid) -> reqwest::StatusCode {
    let mut request = c.request(Method::GET, &format!("/api/v2/files/{file}"));
    if let Some(token) = &c.token {
        request = request.header("Coder-Session-Token", token);
    }
    request.send().await.unwrap().status()
}

both_backends!(
    uploads_are_tar_only_bounded_and_owned_by_their_uploaders,
    |s: TestServer| async move {
        let (alice, _) = s.user_with_roles(&[]).await;
        let (bob, _) = s.user_with_roles(&[]).await;
        let (carol, _) = s.user_with_roles(&[]).await;
        let zip = alice
            .send_raw(
                alice
                    .request(Method::POST, "/api/v2/files")
                    .header("Content-Type", "application/gzip")
                    .body(b"\x1f\x8b".to_vec()),
            )
            .await;
        // Tar and zip only (zip_uploads.rs has zips).
        assert_eq!(zip.status, StatusCode::BAD_REQUEST, "{}", zip.body);
        assert_eq!(zip.message(), "Unsupported content type header \"application/gzip\".");
        // Refused on its declared length, before any of the body is read. Sent as bare headers:
        // a client still writing a 10 MiB body when the server answers and closes can see a
        // broken pipe instead of the answer, whatever the server does.
        let huge =
            declare_upload(&s.url, alice.token.as_deref().unwrap_or_default(), (10 << 20) + 1)
                .await;
        assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
        assert!(huge.contains("\"message\":\"File is too large.\""), "{huge}");
        // Past the server's 1 MiB default for JSON bodies, within the 10 MiB for files.
        let big = upload(&alice, tar(&[("big.bin", &vec![7u8; 3 << 20])])).await;
        assert_eq!(big.status, StatusCode::CREATED, "{}", big.body);

        // The same bytes from two users are one file that each of them owns.
        let bytes = module_tar();
        let a = upload(&alice, bytes.clone()).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let file = uuid_of(&a.body["hash"]);
        let b = upload(&bob, bytes.clone()).await;
        assert_eq!(b.status, StatusCode::CREATED, "new for bob: {}", b.body);
        assert_eq!(uuid_of(&b.body["hash"]), file);
        assert_eq!(upload(&bob, bytes).await.status, StatusCode::OK);
        assert_eq!(download(&alice, file).await, StatusCode::OK);
        assert_eq!(download(&bob, file).await, StatusCode::OK);
        assert_eq!(download(&carol, file).await, StatusCode::NOT_FOUND, "not an uploader");
        assert_eq!(download(&s.owner, file).await, StatusCode::OK);
        assert_eq!(download(&s.anonymous(), file).await, StatusCode::UNAUTHORIZED);
        // A file you may not read cannot be imported either.
        let (org_admin, _) = member(&s, s.default_org, &[], &["organization-template-admin"]).await;
        let r = org_admin
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{}/templateversions", s.default_org),
                &json!({"storage_method": "file", "file_id": file, "provisioner": "echo"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert_eq!(r.message(), "File not found.");
        s.stop().await;
    }
);

both_backends!(versions_validate_their_request_and_show_their_logs, |s: TestServer| async move {
    let org = s.default_org;
    let file = uuid_of(&upload(&s.owner, module_tar()).await.body["hash"]);
    let post = |body: Value| {
        let owner = s.owner.clone();
        async move {
            owner
                .send(Method::POST, &format!("/api/v2/organizations/{org}/templateversions"), &body)
                .await
        }
    };
    let r = post(json!({"storage_method": "file", "file_id": file, "provisioner": "docker"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "provisioner");
    let r = post(json!({"storage_method": "s3", "file_id": file, "provisioner": "echo"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(json!({"storage_method": "file", "provisioner": "echo"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(json!({"storage_method": "file", "file_id": file, "provisioner": "echo",
                        "template_id": Uuid::new_v4()}))
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = post(json!({"storage_method": "file", "file_id": file, "provisioner": "echo",
                        "name": "v1.0-rc_1", "message": "first"}))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["name"], "v1.0-rc_1");
    assert_eq!(r.body["created_by"]["username"], "owner");
    assert_eq!(uuid_of(&r.body["job"]["file_id"]), file);
    let version = uuid_of(&r.body["id"]);
    let done = wait_for_version(&s.owner, version).await;
    assert!(done["job"]["completed_at"].is_string(), "{done}");
    let logs = s.owner.get(&format!("/api/v2/templateversions/{version}/logs")).await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    let lines: Vec<&str> =
        logs.body.as_array().unwrap().iter().map(|l| l["output"].as_str().unwrap()).collect();
    assert_eq!(lines.last(), Some(&"Import complete"), "{}", logs.body);
    let after = s.owner.get(&format!("/api/v2/templateversions/{version}/logs?after=1")).await;
    assert_eq!(after.body.as_array().unwrap().len(), lines.len() - 1);

    // An orphan version is checked as an org-wide template: plain members cannot see it.
    let (plain, _) = s.user_with_roles(&[]).await;
    let r = plain.get(&format!("/api/v2/templateversions/{version}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = plain.get(&format!("/api/v2/templateversions/{version}/logs")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Once it belongs to a template, whoever may read the template reads it; a second
    // version of that template needs `update` on it.
    let template = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("tpl"), "template_version_id": version}),
        )
        .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
    assert_eq!(template.body["provisioner"], "echo");
    let template = uuid_of(&template.body["id"]);
    let r = plain.get(&format!("/api/v2/templateversions/{version}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuid_of(&r.body["template_id"]), template);
    let file = uuid_of(&upload(&plain, module_tar()).await.body["hash"]);
    let r = plain
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file, "provisioner": "echo",
                    "template_id": template}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let again = post(json!({"storage_method": "file", "file_id": file, "provisioner": "echo",
                            "template_id": template, "name": "v1.0-rc_1"}))
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "same name in one template: {}", again.body);

    // A second version becomes active once imported; only the template's own versions can.
    let second = post(json!({"storage_method": "file", "file_id": file, "provisioner": "echo",
                             "template_id": template}))
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let second = uuid_of(&second.body["id"]);
    wait_for_version(&s.owner, second).await;
    let versions = s.owner.get(&format!("/api/v2/templates/{template}/versions")).await;
    assert_eq!(ids(&versions.body), [version, second], "{}", versions.body);
    let activate = |v: Uuid, by: Client| async move {
        by.send(Method::PATCH, &format!("/api/v2/templates/{template}/versions"), &json!({"id": v}))
            .await
    };
    assert_eq!(activate(second, plain.clone()).await.status, StatusCode::FORBIDDEN);
    let orphan = import_version(&s.owner, org).await;
    let r = activate(orphan, s.owner.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = activate(second, s.owner.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = s.owner.get(&format!("/api/v2/templates/{template}")).await;
    assert_eq!(uuid_of(&got.body["active_version_id"]), second);
    s.stop().await;
});

both_backends!(template_lists_take_a_query, |s: TestServer| async move {
    let org = s.default_org;
    let a = create_template(&s.owner, org, json!({"display_name": "Docker Desktop"})).await;
    let b = create_template(&s.owner, org, json!({})).await;
    let list = |q: String| {
        let owner = s.owner.clone();
        async move { owner.get(&format!("/api/v2/templates?q={q}")).await }
    };
    let r = list(format!("exact_name:{}", a["name"].as_str().unwrap())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body), [uuid_of(&a["id"])]);
    let r = list("docker".into()).await;
    assert_eq!(ids(&r.body), [uuid_of(&a["id"])]);
    let r = list(format!("organization:{org}")).await;
    assert_eq!(ids(&r.body).len(), 2);
    assert!(ids(&r.body).contains(&uuid_of(&b["id"])));
    assert_eq!(ids(&list("deprecated:false".into()).await.body).len(), 2);
    assert_eq!(list("deprecated:true".into()).await.body, json!([]));
    let r = list("colour:blue".into()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["detail"], "\"colour\" is not a valid query param");
    let r = list("organization:nowhere".into()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    s.stop().await;
});

// The terraform provisioner runs `terraform init` and `validate` on the source. Without
// terraform on PATH this is skipped, except under CI, where terraform must be installed.
both_backends!(terraform_imports_validate_the_source, |s: TestServer| async move {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !on_path {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "terraform is not on PATH under CI");
        eprintln!("skipping: no terraform on PATH");
        s.stop().await;
        return;
    }
    let org = s.default_org;
    let import = |bytes: Vec<u8>| {
        let owner = s.owner.clone();
        async move {
            let file = upload(&owner, bytes).await;
            assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
            let r = owner
                .send(
                    Method::POST,
                    &format!("/api/v2/organizations/{org}/templateversions"),
                    &json!({"storage_method": "file", "file_id": file.body["hash"],
                            "provisioner": "terraform"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let version = uuid_of(&r.body["id"]);
            for _ in 0..600 {
                let r = owner.get(&format!("/api/v2/templateversions/{version}")).await;
                if matches!(r.body["job"]["status"].as_str(), Some("succeeded" | "failed")) {
                    let logs = owner.get(&format!("/api/v2/templateversions/{version}/logs")).await;
                    return (r.body, logs.body);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("terraform import did not finish within 60s");
        }
    };
    let (good, logs) = import(module_tar()).await;
    assert_eq!(good["job"]["status"], "succeeded", "{good} {logs}");
    let text = logs.to_string();
    assert!(text.contains("terraform init"), "{logs}");
    assert!(text.contains("terraform validate"), "{logs}");
    // terraform's own output, streamed line by line.
    assert!(text.contains("Terraform has been successfully initialized"), "{logs}");
    assert!(text.contains("The configuration is valid"), "{logs}");
    let (bad, logs) = import(tar(&[("main.tf", b"resource \"terraform_data\" {")])).await;
    assert_eq!(bad["job"]["status"], "failed", "{bad} {logs}");
    assert!(bad["job"]["error"].as_str().unwrap().contains("terraform"), "{bad}");
    // A version that did not import cannot become a template.
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("tpl"), "template_version_id": bad["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "template_version_id");
    s.stop().await;
});

both_backends!(acl_candidates_need_update_on_the_template, |s: TestServer| async move {
    let org = s.default_org;
    let (plain, plain_user) = s.user_with_roles(&[]).await;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r = s.owner.get(&format!("/api/v2/templates/{template}/acl/available")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(ids(&r.body["users"]).contains(&plain_user.id), "{}", r.body);
    assert!(ids(&r.body["groups"]).contains(&org), "Everyone is a candidate: {}", r.body);
    let r = plain.get(&format!("/api/v2/templates/{template}/acl/available")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "use is not update: {}", r.body);
    // Reading the ACL needs update too (Coder's dbauthz), not just read.
    let r =
        patch_acl(&s.owner, template, &json!({"user_perms": {s.owner_id.to_string(): "admin"}}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = plain.get(&format!("/api/v2/templates/{template}/acl")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The creation, the ACL change and a refused delete are each one audit row.
    let r = plain.send_empty(Method::DELETE, &format!("/api/v2/templates/{template}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let log = s.owner.get(&format!("/api/v2/audit?q=resource_id:{template}")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let rows: Vec<(String, i64)> = log.body["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap().to_owned(), a["status_code"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [("delete".to_owned(), 403), ("write".to_owned(), 200), ("create".to_owned(), 201)],
        "{}",
        log.body
    );
    s.stop().await;
});

/// `POST /api/v2/files` declaring `length` bytes of tar but sending none; the raw response.
async fn declare_upload(base: &str, token: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v2/files HTTP/1.1\r\nHost: {addr}\r\nCoder-Session-Token: {token}\r\n\
         Content-Type: application/x-tar\r\nContent-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("send the head");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Until the body the response declares has arrived (or the server closes).
    loop {
        let text = String::from_utf8_lossy(&response).to_string();
        if let Some((headers, body)) = text.split_once("\r\n\r\n") {
            let declared = headers
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| body.len() >= n) {
                return text;
            }
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(30), socket.read(&mut buf))
            .await
            .expect("the server answers")
            .expect("read");
        if read == 0 {
            return text;
        }
        response.extend_from_slice(&buf[..read]);
    }
}

both_backends!(a_version_shows_the_archives_readme, |s: TestServer| async move {
    let readme = "# Dev box\nA workspace for tests.\n";
    let archive = crate::fixtures::tar(&[
        ("main.tf", b"resource \"terraform_data\" \"x\" {}\n"),
        ("README.md", readme.as_bytes()),
    ]);
    let file = crate::fixtures::upload(&s.owner, archive).await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{}/templateversions", s.default_org),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["readme"], readme);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let again = s.owner.get(&format!("/api/v2/templateversions/{id}")).await;
    assert_eq!(again.body["readme"], readme);
});
