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
