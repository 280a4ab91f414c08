//! What a reader may learn: group members filtered by `read` on each membership, ACLs read only
//! by those who may change them, no existence oracles (explain, `organization:` filters,
//! `has_member`), audit rows embedding only readable users; leaving an org leaves its groups;
//! deleting an org whose templates and workspaces are gone.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

fn sorted_ids(v: &Value) -> Vec<Uuid> {
    let mut out = ids(v);
    out.sort();
    out
}

fn group_in(list: &Value, id: Uuid) -> &Value {
    list.as_array()
        .and_then(|a| a.iter().find(|g| uuid_of(&g["id"]) == id))
        .unwrap_or_else(|| panic!("group {id} not in {list}"))
}

both_backends!(group_members_are_filtered_by_read_on_each_membership, |s: TestServer| async move {
    let org = s.default_org;
    let (m1, u1) = s.user_with_roles(&[]).await;
    let (_, u2) = s.user_with_roles(&[]).await;
    let (auditor, _) = member(&s, org, &[], &["organization-auditor"]).await;
    let name = unique("crew");
    let group = uuid_of(&create_group(&s.owner, org, &name).await.body["id"]);
    let r = patch_group(&s.owner, group, &json!({"add_users": [u1.id, u2.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // By id, by name, in the org's list and in `/groups`: a plain member sees only themselves,
    // while the count stays the group's.
    let by_id = m1.get(&format!("/api/v2/groups/{group}")).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
    assert_eq!(ids(&by_id.body["members"]), [u1.id], "{}", by_id.body);
    assert_eq!(by_id.body["members"][0]["email"], u1.email);
    assert_eq!(by_id.body["total_member_count"], 2);
    let by_name = m1.get(&format!("/api/v2/organizations/{org}/groups/{name}")).await;
    assert_eq!(ids(&by_name.body["members"]), [u1.id], "{}", by_name.body);
    let listed = m1.get(&format!("/api/v2/organizations/{org}/groups")).await;
    assert_eq!(ids(&group_in(&listed.body, group)["members"]), [u1.id]);
    let everyone = group_in(&listed.body, org);
    assert_eq!(ids(&everyone["members"]), [u1.id], "Everyone too: {everyone}");
    let all_members = members(&s, org).await.len();
    assert_eq!(everyone["total_member_count"], json!(all_members));
    let everyone = m1.get(&format!("/api/v2/groups/{org}")).await;
    assert_eq!(ids(&everyone.body["members"]), [u1.id], "{}", everyone.body);
    let across = m1.get(&format!("/api/v2/groups?has_member={}", u1.username)).await;
    assert_eq!(across.status, StatusCode::OK, "{}", across.body);
    assert_eq!(ids(&group_in(&across.body, group)["members"]), [u1.id]);

    // Those who may read memberships (an org auditor, the owner) see them all.
    for reader in [&auditor, &s.owner] {
        let r = reader.get(&format!("/api/v2/groups/{group}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut both = vec![u1.id, u2.id];
        both.sort();
        assert_eq!(sorted_ids(&r.body["members"]), both, "{}", r.body);
        let r = reader.get(&format!("/api/v2/groups/{org}")).await;
        assert_eq!(ids(&r.body["members"]).len(), all_members, "{}", r.body);
    }

    // `has_member` naming a user the caller may not read is answered like a missing one.
    let hidden = m1.get(&format!("/api/v2/groups?has_member={}", u2.username)).await;
    let missing = m1.get("/api/v2/groups?has_member=no-such-user-anywhere").await;
    assert_eq!(hidden.status, StatusCode::BAD_REQUEST, "{}", hidden.body);
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    assert_eq!(
        hidden.body["validations"][0]["detail"],
        format!("Query param \"has_member\" has invalid value: user \"{}\" not found", u2.username)
    );
    let r = auditor.get(&format!("/api/v2/groups?has_member={}", u2.username)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an org auditor cannot read users: {}", r.body);
    let r = s.owner.get(&format!("/api/v2/groups?has_member={}", u2.username)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&group_in(&r.body, group)["members"]).len(), 2);
    s.stop().await;
});

both_backends!(reading_a_template_acl_needs_update, |s: TestServer| async move {
    let org = s.default_org;
    let (plain, plain_user) = s.user_with_roles(&[]).await;
    let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r =
        patch_acl(&s.owner, template, &json!({"user_perms": {plain_user.id.to_string(): "use"}}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The plain member may read and use the template, not read who else may.
    let r = plain.get(&format!("/api/v2/templates/{template}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = plain.get(&format!("/api/v2/templates/{template}/acl")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let acl = template_acl(&admin, template).await;
    assert_eq!(ids(&acl["users"]), [plain_user.id], "{acl}");
    // Its groups' members are those the reader may see: the org admin reads them all.
    let everyone = group_in(&acl["group"], org);
    assert_eq!(ids(&everyone["members"]).len(), members(&s, org).await.len(), "{everyone}");
    s.stop().await;
});

both_backends!(reading_a_workspace_acl_needs_create, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, _) = s.user_with_roles(&[]).await;
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    let r = alice
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/members/me/workspaces"),
            &json!({"template_id": template, "name": "shared"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let acl = format!("/api/v2/workspaces/{}/acl", uuid_of(&r.body["id"]));
    let r = alice
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob_user.id.to_string(): "use"}}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = alice.get(&acl).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body["users"]), [bob_user.id]);
    // Bob may read the workspace (a `use` grant) but not list its grantees.
    let r = bob.get(&acl).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    s.stop().await;
});

both_backends!(explain_answers_unreadable_objects_like_missing_ones, |s: TestServer| async move {
    let (other_org, _) = create_org(&s).await;
    let (plain, _) = s.user_with_roles(&[]).await;
    let template = uuid_of(&create_template(&s.owner, other_org, json!({})).await["id"]);
    let group = uuid_of(&create_group(&s.owner, other_org, &unique("g")).await.body["id"]);
    for (resource_type, existing) in
        [("template", template), ("group", group), ("group", other_org), ("user", s.owner_id)]
    {
        let object = |id: Uuid| json!({"resource_type": resource_type, "resource_id": id});
        let hidden = explain(&plain, None, &object(existing), "read").await;
        let missing = explain(&plain, None, &object(Uuid::new_v4()), "read").await;
        assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.body);
        assert_eq!(hidden.body, missing.body, "{resource_type} {existing}");
        // The owner, who may read it, gets the decision.
        let r = explain(&s.owner, None, &object(existing), "read").await;
        assert_eq!(r.body["allowed"], true, "{}", r.body);
    }
    s.stop().await;
});

both_backends!(organization_filters_answer_alike_for_unreadable_orgs, |s: TestServer| async move {
    let (_, other_name) = create_org(&s).await;
    let (plain, _) = s.user_with_roles(&[]).await;
    let (auditor, _) = member(&s, s.default_org, &[], &["organization-auditor"]).await;
    let detail = |r: &Reply| r.body["validations"][0]["detail"].as_str().unwrap_or("").to_owned();
    for (who, path) in [(&plain, "/api/v2/workspaces"), (&auditor, "/api/v2/audit")] {
        let hidden = who.get(&format!("{path}?q=organization:{other_name}")).await;
        let missing = who.get(&format!("{path}?q=organization:nosuchorg")).await;
        assert_eq!(hidden.status, StatusCode::BAD_REQUEST, "{path}: {}", hidden.body);
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{path}: {}", missing.body);
        assert_eq!(
            detail(&hidden).replace(&other_name, "X"),
            detail(&missing).replace("nosuchorg", "X"),
            "{path}"
        );
        let r = s.owner.get(&format!("{path}?q=organization:{other_name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    s.stop().await;
});

both_backends!(
    audit_rows_embed_only_what_the_reader_may_see_of_users,
    |s: TestServer| async move {
        let org = s.default_org;
        let (auditor, auditor_user) = member(&s, org, &[], &["organization-auditor"]).await;
        let name = unique("audited");
        let r = create_group(&s.owner, org, &name).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let group = uuid_of(&r.body["id"]);
        let path = format!("/api/v2/audit?q=resource_id:{group}");

        let r = auditor.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let user = &r.body["audit_logs"][0]["user"];
        assert_eq!(uuid_of(&user["id"]), s.owner_id, "{}", r.body);
        assert!(!user["username"].as_str().unwrap_or("").is_empty(), "{user}");
        assert_eq!(user["email"], "", "an org auditor cannot read the owner: {user}");
        assert_eq!(user["roles"], json!([]), "{user}");
        assert_eq!(user["organization_ids"], json!([]), "{user}");

        let r = s.owner.get(&path).await;
        let user = &r.body["audit_logs"][0]["user"];
        assert!(user["email"].as_str().unwrap_or("").contains('@'), "{user}");

        // Their own rows show the auditor in full.
        let r = auditor.get(&format!("/api/v2/audit?q=username:{}", auditor_user.username)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for row in r.body["audit_logs"].as_array().unwrap() {
            assert_eq!(row["user"]["email"], auditor_user.email, "{row}");
        }
        s.stop().await;
    }
);

both_backends!(leaving_an_org_leaves_its_groups, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (_, user) = member(&s, org, &[], &[]).await;
    let group = uuid_of(&create_group(&s.owner, org, &unique("g")).await.body["id"]);
    let r = patch_group(&s.owner, group, &json!({"add_users": [user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", user.id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = s.owner.get(&format!("/api/v2/groups/{group}")).await;
    assert_eq!(r.body["members"], json!([]), "{}", r.body);
    // Coming back restores no group (nor its grants).
    add_member(&s, org, user.id).await;
    let r = s.owner.get(&format!("/api/v2/groups/{group}")).await;
    assert_eq!(r.body["members"], json!([]), "{}", r.body);
    assert_eq!(r.body["total_member_count"], 0);
    s.stop().await;
});

both_backends!(
    an_org_whose_templates_and_workspaces_are_gone_can_be_deleted,
    |s: TestServer| async move {
        let (org, _) = create_org(&s).await;
        let (_, user) = member(&s, org, &[], &[]).await;
        let group = uuid_of(&create_group(&s.owner, org, &unique("g")).await.body["id"]);
        let r = patch_group(&s.owner, group, &json!({"add_users": [user.id]})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &role_body("reader", &[perm("template", "read")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
        import_version(&s.owner, org).await; // a version never attached to a template
        let r = patch_acl(&s.owner, template, &json!({"group_perms": {group.to_string(): "use"}}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = s
            .owner
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{org}/members/me/workspaces"),
                &json!({"template_id": template, "name": "doomed"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let ws = uuid_of(&r.body["id"]);

        // Live ones refuse, with Coder's words, and change nothing.
        let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "Error deleting organization.");
        assert_eq!(
            r.detail(),
            "This organization has 1 workspace, 1 template that must be deleted first."
        );
        assert_eq!(
            s.owner.get(&format!("/api/v2/organizations/{org}")).await.status,
            StatusCode::OK
        );

        wait_until_built(&s.owner, ws).await;
        let r = s
            .owner
            .send(
                Method::POST,
                &format!("/api/v2/workspaces/{ws}/builds"),
                &json!({"transition": "delete"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        wait_until_gone(&s.owner, ws).await;
        let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/templates/{template}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.message(), "Organization has been deleted.");
        assert_eq!(
            s.owner.get(&format!("/api/v2/organizations/{org}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.owner.get(&format!("/api/v2/groups/{group}")).await.status,
            StatusCode::NOT_FOUND
        );
        let r = s.owner.get(&format!("/api/v2/users/{}", user.id)).await;
        assert_eq!(r.body["organization_ids"], json!([s.default_org]), "{}", r.body);

        // The default org is still refused.
        let r = s
            .owner
            .send_empty(Method::DELETE, &format!("/api/v2/organizations/{}", s.default_org))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "Default organization cannot be deleted.");
        s.stop().await;
    }
);

/// Polls until the workspace's latest build finished (bounded).
async fn wait_until_built(by: &Client, ws: Uuid) {
    for _ in 0..100 {
        let r = by.get(&format!("/api/v2/workspaces/{ws}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let status = r.body["latest_build"]["status"].as_str().unwrap_or_default().to_owned();
        if ["running", "stopped", "failed"].contains(&status.as_str()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("workspace {ws} never finished building")
}

/// Polls until the workspace is deleted (bounded).
async fn wait_until_gone(by: &Client, ws: Uuid) {
    for _ in 0..100 {
        if by.get(&format!("/api/v2/workspaces/{ws}")).await.status == StatusCode::NOT_FOUND {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("workspace {ws} never deleted")
}
