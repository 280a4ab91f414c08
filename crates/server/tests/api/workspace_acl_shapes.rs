//! `GET /workspaces/{id}/acl` in Coder's shapes (`codersdk.WorkspaceACL`): users as
//! `MinimalUser` plus `role` (`id`, `username`, `avatar_url` left out when empty), groups under
//! `group` as full `Group` objects plus `role`; deleted users and groups are not listed.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{create_for, wait_status};

both_backends!(workspace_acl_entries_are_coders_shapes, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, _) = s.user_with_roles(&[]).await;
    let (_, bob) = s.user_with_roles(&[]).await;
    let (_, carol) = s.user_with_roles(&[]).await;
    let r = create_for(&alice, org, "me", template, "shared").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&alice, ws, "running").await;
    let group = create_group(&s.owner, org, &unique("devs")).await;
    let group_id = uuid_of(&group.body["id"]);
    let r = patch_group(&s.owner, group_id, &json!({"add_users": [bob.id.to_string()]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let r = alice
        .send(
            Method::PATCH,
            &acl,
            &json!({"user_roles": {bob.id.to_string(): "use", carol.id.to_string(): "use"},
                    "group_roles": {group_id.to_string(): "use", org.to_string(): "use"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let shown = alice.get(&acl).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let mut users = shown.body["users"].as_array().unwrap().clone();
    users.sort_by_key(|u| u["username"].as_str().unwrap().to_owned());
    let mut want = vec![
        json!({"id": bob.id, "username": bob.username, "role": "use"}),
        json!({"id": carol.id, "username": carol.username, "role": "use"}),
    ];
    want.sort_by_key(|u| u["username"].as_str().unwrap().to_owned());
    assert_eq!(users, want);
    let groups = shown.body["group"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{}", shown.body);
    let devs = groups.iter().find(|g| uuid_of(&g["id"]) == group_id).unwrap();
    for field in [
        "name",
        "display_name",
        "organization_id",
        "organization_name",
        "organization_display_name",
        "members",
        "total_member_count",
        "avatar_url",
        "quota_allowance",
        "source",
    ] {
        assert!(!devs[field].is_null(), "{field} in {devs}");
    }
    assert_eq!(devs["role"], "use");
    assert_eq!(devs["total_member_count"], 1, "{devs}");
    let everyone = groups.iter().find(|g| uuid_of(&g["id"]) == org).unwrap();
    assert_eq!(everyone["name"], "Everyone", "{everyone}");
    assert_eq!(everyone["role"], "use");

    // A deleted user or group is not listed.
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{}", carol.id)).await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/groups/{group_id}")).await;
    assert!(r.status.is_success(), "{}", r.body);
    let shown = alice.get(&acl).await;
    assert_eq!(ids(&shown.body["users"]), [bob.id], "{}", shown.body);
    assert_eq!(ids(&shown.body["group"]), [org], "{}", shown.body);
    s.stop().await;
});
