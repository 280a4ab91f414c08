//! Groups: create, list, get (by id and by name), rename, add / remove members, delete; the
//! implicit Everyone group; who may read and change groups (rbac.md §7.3).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

async fn get_group(c: &Client, group: Uuid) -> Reply {
    c.get(&format!("/api/v2/groups/{group}")).await
}

async fn group_list(c: &Client, org: Uuid) -> Vec<Value> {
    let r = c.get(&format!("/api/v2/organizations/{org}/groups")).await;
    assert_eq!(r.status, StatusCode::OK, "list groups: {}", r.body);
    r.body.as_array().unwrap().clone()
}

fn member_ids(group: &Value) -> Vec<Uuid> {
    let mut out = ids(&group["members"]);
    out.sort();
    out
}

both_backends!(create_get_rename_change_members_and_delete, |s: TestServer| async move {
    let (org, org_name) = create_org(&s).await;
    let (_, m1) = member(&s, org, &[], &[]).await;
    let (_, m2) = member(&s, org, &[], &[]).await;
    let (_, outsider) = s.user_with_roles(&[]).await;

    let name = unique("devs");
    let r = create_group(&s.owner, org, &name).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let group = uuid_of(&r.body["id"]);
    assert_eq!(r.body["name"], name);
    assert_eq!(r.body["display_name"], format!("Group {name}"));
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    assert_eq!(r.body["organization_name"], org_name);
    assert_eq!(r.body["members"], json!([]));
    assert_eq!(r.body["total_member_count"], 0);
    assert_eq!(r.body["source"], "user");

    // Refused names change nothing.
    let before = group_list(&s.owner, org).await.len();
    let r = create_group(&s.owner, org, "Everyone").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Invalid group name.");
    assert_eq!(
        r.body["validations"],
        json!([{"field": "name", "detail": "\"Everyone\" is a reserved group name"}])
    );
    let r = create_group(&s.owner, org, &name).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.message(), format!("A group named \"{name}\" already exists."));
    assert_eq!(
        r.body["validations"],
        json!([{"field": "name", "detail": "Group names must be unique"}])
    );
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/groups"),
            &json!({"display_name": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "name");
    assert_eq!(group_list(&s.owner, org).await.len(), before);
    // The same name in another org is fine.
    let r = create_group(&s.owner, s.default_org, &name).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // List (Everyone counts every org member), get by id, get by name.
    let list = group_list(&s.owner, org).await;
    let org_members = members(&s, org).await.len();
    let everyone = list.iter().find(|g| uuid_of(&g["id"]) == org).unwrap();
    assert_eq!(everyone["name"], "Everyone");
    assert_eq!(everyone["total_member_count"], org_members);
    assert!(list.iter().any(|g| uuid_of(&g["id"]) == group));
    assert_eq!(get_group(&s.owner, group).await.body["name"], name);
    let by_name = s.owner.get(&format!("/api/v2/organizations/{org}/groups/{name}")).await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
    assert_eq!(uuid_of(&by_name.body["id"]), group);
    let missing = s.owner.get(&format!("/api/v2/organizations/{org}/groups/nosuchgroup")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Members: add, refusals, remove.
    let r = patch_group(&s.owner, group, &json!({"add_users": [m1.id], "remove_users": []})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), [m1.id]);
    assert_eq!(r.body["total_member_count"], 1);
    assert_eq!(r.body["members"][0]["username"], m1.username.as_str());
    let refusals = [
        (json!({"add_users": [outsider.id]}), "User must be a member of organization"),
        (json!({"add_users": [m1.id]}), "Cannot add the same user to a group twice!"),
        (json!({"add_users": ["nope"]}), "ID \"nope\" must be a valid user UUID."),
        (json!({"remove_users": [m2.id]}), "Failed to add or remove non-existent group member"),
        (json!({"name": "Everyone"}), "\"Everyone\" is a reserved group name!"),
    ];
    for (body, message) in refusals {
        let r = patch_group(&s.owner, group, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert!(r.message().starts_with(message), "{body}: {}", r.body);
        let now = get_group(&s.owner, group).await;
        assert_eq!(member_ids(&now.body), [m1.id], "{body} changed the members");
        assert_eq!(now.body["name"], name);
    }
    let r =
        patch_group(&s.owner, group, &json!({"add_users": [m2.id], "remove_users": [m1.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), [m2.id]);

    // Rename; a clash is a 409.
    let renamed = unique("platform");
    let r = patch_group(&s.owner, group, &json!({"name": renamed})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], renamed);
    assert_eq!(member_ids(&r.body), [m2.id], "a rename keeps the members");
    let old = s.owner.get(&format!("/api/v2/organizations/{org}/groups/{name}")).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let other = unique("ops");
    let other_id = uuid_of(&create_group(&s.owner, org, &other).await.body["id"]);
    let r = patch_group(&s.owner, group, &json!({"name": other})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.message(), format!("A group with name \"{other}\" already exists."));
    assert_eq!(get_group(&s.owner, group).await.body["name"], renamed);

    // Delete.
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/groups/{other_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"message": "Successfully deleted group!"}));
    let gone = get_group(&s.owner, other_id).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.message(), NOT_FOUND);
    assert!(!group_list(&s.owner, org).await.iter().any(|g| uuid_of(&g["id"]) == other_id));
    s.stop().await;
});

both_backends!(the_everyone_group_is_implicit_and_fixed, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (_, m1) = member(&s, org, &[], &[]).await;
    let everyone = get_group(&s.owner, org).await;
    assert_eq!(everyone.status, StatusCode::OK, "{}", everyone.body);
    assert_eq!(everyone.body["name"], "Everyone");
    let count = members(&s, org).await.len();
    assert_eq!(everyone.body["total_member_count"], count);
    assert!(ids(&everyone.body["members"]).contains(&m1.id), "{}", everyone.body);
    let by_name = s.owner.get(&format!("/api/v2/organizations/{org}/groups/Everyone")).await;
    assert_eq!(uuid_of(&by_name.body["id"]), org, "{}", by_name.body);

    let r = patch_group(&s.owner, org, &json!({"name": "Everybody"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Cannot rename the \"Everyone\" group!");
    let r = patch_group(&s.owner, org, &json!({"display_name": "All of us"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Cannot update the Display Name for the \"Everyone\" group!");
    for body in [json!({"add_users": [s.owner_id]}), json!({"remove_users": [m1.id]})] {
        let r = patch_group(&s.owner, org, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{body}: {}", r.body);
        assert_eq!(r.message(), "Cannot add or remove users from the \"Everyone\" group!");
    }
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/groups/{org}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "\"Everyone\" is a reserved group and cannot be deleted!");
    let after = get_group(&s.owner, org).await;
    assert_eq!(after.body["name"], "Everyone");
    assert_eq!(after.body["total_member_count"], count);

    // Membership follows the org: a new member is in Everyone at once, a removed one is not.
    let (_, m2) = member(&s, org, &[], &[]).await;
    let after = get_group(&s.owner, org).await;
    assert_eq!(after.body["total_member_count"], count + 1);
    assert!(ids(&after.body["members"]).contains(&m2.id));
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", m2.id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let after = get_group(&s.owner, org).await;
    assert_eq!(after.body["total_member_count"], count);
    assert!(!ids(&after.body["members"]).contains(&m2.id));
    s.stop().await;
});

both_backends!(who_may_read_and_change_groups, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (in_group, in_group_user) = member(&s, org, &[], &[]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (org_auditor, _) = member(&s, org, &[], &["organization-auditor"]).await;
    let (outsider, _) = s.user_with_roles(&[]).await;
    let name = unique("team");
    let group = uuid_of(&create_group(&s.owner, org, &name).await.body["id"]);
    let r = patch_group(&s.owner, group, &json!({"add_users": [in_group_user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let count = group_list(&s.owner, org).await.len();

    // Creating: a plain member can read the org but may not create (403); an outsider cannot
    // read it (404); an org user admin may.
    let r = create_group(&plain, org, &unique("mine")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Forbidden.");
    let r = create_group(&outsider, org, &unique("theirs")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(group_list(&s.owner, org).await.len(), count);
    let r = create_group(&user_admin, org, &unique("admins")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Reading: a group's members read it; other plain members do not; org auditors do.
    assert_eq!(get_group(&in_group, group).await.status, StatusCode::OK);
    let by_name = in_group.get(&format!("/api/v2/organizations/{org}/groups/{name}")).await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
    for (who, c) in [("plain", &plain), ("outsider", &outsider)] {
        let r = get_group(c, group).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
        assert_eq!(r.message(), NOT_FOUND);
        let r = c.get(&format!("/api/v2/organizations/{org}/groups/{name}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
    }
    assert_eq!(get_group(&org_auditor, group).await.status, StatusCode::OK);
    // Lists are filtered the same way; every member reads Everyone (its ACL is the org's).
    let mut seen = ids(&Value::Array(group_list(&in_group, org).await));
    seen.sort();
    let mut expected = [org, group];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(ids(&Value::Array(group_list(&plain, org).await)), [org]);

    // Changing: readers without update are refused with 403 and nothing changes.
    for (who, c) in [("group member", &in_group), ("org auditor", &org_auditor)] {
        let r = patch_group(
            c,
            group,
            &json!({"name": unique("hijack"), "remove_users": [in_group_user.id]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
        assert_eq!(r.message(), "Forbidden.");
        let r = c.send_empty(Method::DELETE, &format!("/api/v2/groups/{group}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
    }
    let r = patch_group(&plain, group, &json!({"name": unique("hijack")})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let now = get_group(&s.owner, group).await;
    assert_eq!(now.body["name"], name);
    assert_eq!(member_ids(&now.body), [in_group_user.id]);
    // The org user admin manages groups.
    let r = patch_group(&user_admin, group, &json!({"remove_users": [in_group_user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        get_group(&in_group, group).await.status,
        StatusCode::NOT_FOUND,
        "no longer a member"
    );
    s.stop().await;
});

both_backends!(parallel_writes_keep_group_names_and_members_unique, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (_, m1) = member(&s, org, &[], &[]).await;
    let name = unique("raced");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (owner, name) = (s.owner.clone(), name.clone());
            tokio::spawn(async move { create_group(&owner, org, &name).await })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => created.push(uuid_of(&r.body["id"])),
            // The unique constraint decides, inside the transaction.
            StatusCode::CONFLICT => {
                assert_eq!(r.message(), format!("A group named \"{name}\" already exists."));
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(created.len(), 1);
    let group = created[0];
    assert_eq!(group_list(&s.owner, org).await.iter().filter(|g| g["name"] == name).count(), 1);

    // Parallel adds of one user: the group is locked while its members are read and changed,
    // so exactly one adds the user and the others see it there (Coder's 400).
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let owner = s.owner.clone();
            let body = json!({"add_users": [m1.id.to_string()]});
            tokio::spawn(async move { patch_group(&owner, group, &body).await })
        })
        .collect();
    let mut added = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::OK => added += 1,
            StatusCode::BAD_REQUEST => {
                assert_eq!(r.message(), "Cannot add the same user to a group twice!");
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(added, 1, "exactly one of the parallel adds adds the user");
    let r = get_group(&s.owner, group).await;
    assert_eq!(member_ids(&r.body), [m1.id]);
});
