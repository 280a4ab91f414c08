//! Organizations: create, list, get by id or name, update, delete, the movable default
//! (Atrium's `is_default` extension), and the Everyone group every org is born with.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

async fn org_list(c: &Client) -> Vec<Value> {
    let r = c.get("/api/v2/organizations").await;
    assert_eq!(r.status, StatusCode::OK, "list orgs: {}", r.body);
    r.body.as_array().unwrap().clone()
}

async fn get_org(c: &Client, org: &str) -> Reply {
    c.get(&format!("/api/v2/organizations/{org}")).await
}

async fn patch_org(c: &Client, org: Uuid, body: &Value) -> Reply {
    c.send(Method::PATCH, &format!("/api/v2/organizations/{org}"), body).await
}

fn org_ids(list: &[Value]) -> Vec<Uuid> {
    list.iter().map(|o| uuid_of(&o["id"])).collect()
}

fn defaults(list: &[Value]) -> Vec<Uuid> {
    list.iter().filter(|o| o["is_default"] == true).map(|o| uuid_of(&o["id"])).collect()
}

both_backends!(create_get_update_and_delete, |s: TestServer| async move {
    let name = unique("acme");
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/organizations",
            &json!({"name": name, "display_name": "Acme Inc", "description": "Rockets", "icon": "/icon/acme.svg"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let org = uuid_of(&r.body["id"]);
    assert_eq!(r.body["name"], name);
    assert_eq!(r.body["display_name"], "Acme Inc");
    assert_eq!(r.body["description"], "Rockets");
    assert_eq!(r.body["icon"], "/icon/acme.svg");
    assert_eq!(r.body["is_default"], false);
    assert!(r.body["created_at"].is_string() && r.body["updated_at"].is_string(), "{}", r.body);

    // By id and by name.
    for key in [org.to_string(), name.clone()] {
        let got = get_org(&s.owner, &key).await;
        assert_eq!(got.status, StatusCode::OK, "GET {key}: {}", got.body);
        assert_eq!(uuid_of(&got.body["id"]), org);
    }
    let missing = get_org(&s.owner, &Uuid::new_v4().to_string()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.message(), NOT_FOUND);
    // The creator joined it as a plain member (Coder's postOrganizations), once.
    let members = s.owner.get(&format!("/api/v2/organizations/{org}/members")).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.body);
    let members = members.body.as_array().expect("members").clone();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(uuid_of(&members[0]["user_id"]), s.owner_id);
    assert_eq!(members[0]["roles"], json!([]), "{members:?}");

    // Refusals: the name rule, a duplicate name, callers who may not create orgs.
    let long = "x".repeat(33);
    for bad in ["bad name", "-leading", "trailing-", "double--hyphen", long.as_str(), ""] {
        let r = s.owner.send(Method::POST, "/api/v2/organizations", &json!({"name": bad})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "name {bad:?}: {}", r.body);
        assert_eq!(r.message(), "Validation failed.", "name {bad:?}");
        assert_eq!(r.body["validations"][0]["field"], "name", "name {bad:?}: {}", r.body);
    }
    let dup = s.owner.send(Method::POST, "/api/v2/organizations", &json!({"name": name})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    for site_role in ["user-admin", "template-admin", "auditor"] {
        let (c, _) = s.user_with_roles(&[site_role]).await;
        let r =
            c.send(Method::POST, "/api/v2/organizations", &json!({"name": unique("nope")})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{site_role}: {}", r.body);
        assert_eq!(r.message(), "Forbidden.");
    }
    let list = org_list(&s.owner).await;
    assert_eq!(list.len(), 2, "only the default org and {name}: {list:?}");

    // Update display name, description, icon; then the name.
    let r = patch_org(
        &s.owner,
        org,
        &json!({"display_name": "Acme Corp", "description": "Rockets & more", "icon": "/icon/new.svg"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["display_name"], "Acme Corp");
    let got = get_org(&s.owner, &org.to_string()).await;
    assert_eq!(got.body["display_name"], "Acme Corp");
    assert_eq!(got.body["description"], "Rockets & more");
    assert_eq!(got.body["icon"], "/icon/new.svg");
    assert_eq!(got.body["name"], name, "a PATCH without name keeps the name");
    let renamed = unique("acme");
    let r = patch_org(&s.owner, org, &json!({"name": renamed})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_org(&s.owner, &renamed).await.status, StatusCode::OK);
    assert_eq!(get_org(&s.owner, &name).await.status, StatusCode::NOT_FOUND);
    let bad = patch_org(&s.owner, org, &json!({"name": "not valid!"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // A plain member (of the default org only) cannot see or change it.
    let (member, _) = s.user_with_roles(&[]).await;
    let r = patch_org(&member, org, &json!({"display_name": "Hijacked"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = member.send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let got = get_org(&s.owner, &org.to_string()).await;
    assert_eq!(got.body["display_name"], "Acme Corp");
    assert_eq!(got.body["name"], renamed);

    // The default org is never deleted; another one is.
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{}", s.default_org))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Default organization cannot be deleted.");
    assert_eq!(get_org(&s.owner, &s.default_org.to_string()).await.body["is_default"], true);
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let gone = get_org(&s.owner, &org.to_string()).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.message(), NOT_FOUND);
    assert_eq!(org_ids(&org_list(&s.owner).await), [s.default_org]);
    s.stop().await;
});

both_backends!(members_see_only_their_orgs, |s: TestServer| async move {
    let (a, a_name) = create_org(&s).await;
    let (b, _) = create_org(&s).await;
    let (member, me) = s.user_with_roles(&[]).await;

    assert_eq!(org_ids(&org_list(&member).await), [s.default_org]);
    for key in [a.to_string(), a_name.clone()] {
        let r = get_org(&member, &key).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "a non-member reading {key}: {}", r.body);
        assert_eq!(r.message(), NOT_FOUND);
    }

    add_member(&s, a, me.id).await;
    let mut mine = org_ids(&org_list(&member).await);
    mine.sort();
    let mut expected = [s.default_org, a];
    expected.sort();
    assert_eq!(mine, expected);
    assert_eq!(get_org(&member, &a_name).await.status, StatusCode::OK);
    assert_eq!(get_org(&member, &b.to_string()).await.status, StatusCode::NOT_FOUND);

    // A plain member cannot update an org they belong to (readable, so 403).
    let r = patch_org(&member, a, &json!({"display_name": "Mine now"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Forbidden.");
    assert_ne!(get_org(&s.owner, &a.to_string()).await.body["display_name"], "Mine now");

    // Owners and site auditors read every org.
    assert_eq!(org_list(&s.owner).await.len(), 3);
    let (auditor, _) = s.user_with_roles(&["auditor"]).await;
    assert_eq!(org_list(&auditor).await.len(), 3);
    s.stop().await;
});

both_backends!(the_default_org_can_be_moved_by_owners_only, |s: TestServer| async move {
    let old = s.default_org;
    // An org admin of the current default, created while it is the default.
    let (admin, _) = member(&s, old, &[], &["organization-admin"]).await;
    let (new, _) = create_org(&s).await;

    let r = patch_org(&s.owner, new, &json!({"is_default": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["is_default"], true);
    assert_eq!(get_org(&s.owner, &old.to_string()).await.body["is_default"], false);
    assert_eq!(get_org(&s.owner, &new.to_string()).await.body["is_default"], true);
    assert_eq!(defaults(&org_list(&s.owner).await), [new]);

    // Users created without an org join the current default.
    let (_, joined) = s.user_with_roles(&[]).await;
    assert_eq!(joined.organization_ids, [new]);
    let nil = unique("nil");
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": format!("{nil}@example.com"), "username": nil, "password": PASSWORD,
                    "organization_ids": ["00000000-0000-0000-0000-000000000000"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["organization_ids"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(uuid_of(&r.body["organization_ids"][0]), new);

    // Un-defaulting the default is refused: another org must be made default instead.
    let r = patch_org(&s.owner, new, &json!({"is_default": false})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().to_lowercase().contains("default"), "{}", r.body);
    assert_eq!(defaults(&org_list(&s.owner).await), [new]);

    // The org admin may edit their org, but not move the default to it.
    let r = patch_org(&admin, old, &json!({"display_name": "Old default"})).await;
    assert_eq!(r.status, StatusCode::OK, "an org admin updates their org: {}", r.body);
    let r = patch_org(&admin, old, &json!({"is_default": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Forbidden.");
    assert_eq!(defaults(&org_list(&s.owner).await), [new]);

    // The deletion guard follows the flag, not the creation order.
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/organizations/{new}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Default organization cannot be deleted.");
    assert_eq!(get_org(&s.owner, &new.to_string()).await.status, StatusCode::OK);

    // Moving it back works the same way.
    let r = patch_org(&s.owner, old, &json!({"is_default": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(defaults(&org_list(&s.owner).await), [old]);
    s.stop().await;
});

both_backends!(every_org_is_born_with_its_everyone_group, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    for o in [s.default_org, org] {
        let r = s.owner.get(&format!("/api/v2/organizations/{o}/groups")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let everyone: Vec<&Value> =
            r.body.as_array().unwrap().iter().filter(|g| uuid_of(&g["id"]) == o).collect();
        assert_eq!(everyone.len(), 1, "{}", r.body);
        assert_eq!(everyone[0]["name"], "Everyone");
        assert_eq!(uuid_of(&everyone[0]["organization_id"]), o);
        let by_id = s.owner.get(&format!("/api/v2/groups/{o}")).await;
        assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
        assert_eq!(by_id.body["name"], "Everyone");
    }
    // A member of another org cannot read this org's groups.
    let (outsider, _) = s.user_with_roles(&[]).await;
    let r = outsider.get(&format!("/api/v2/organizations/{org}/groups")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    s.stop().await;
});
