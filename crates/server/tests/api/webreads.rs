//! What Coder's web client reads on first load and on the templates and workspace pages
//! (entitlements, appearance, experiments, regions, update check, deployment config, build
//! time stats, authcheck by `resource_id`), and paging and `q` keys as Coder has them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{build, create_for, wait_status};

both_backends!(site_reads_in_coder_shapes, |s: TestServer| async move {
    let (member, m) = s.user_with_roles(&[]).await;

    let e = member.get("/api/v2/entitlements").await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    let features = e.body["features"].as_object().unwrap();
    assert_eq!(features.len(), 22, "every codersdk feature name: {}", e.body);
    for has in ["custom_roles", "multiple_organizations", "template_rbac", "audit_log"] {
        assert_eq!(features[has]["entitlement"], "entitled", "{has}");
        assert_eq!(features[has]["enabled"], true, "{has}");
    }
    for lacks in ["scim", "workspace_proxy", "high_availability", "appearance"] {
        assert_eq!(features[lacks]["entitlement"], "not_entitled", "{lacks}");
        assert_eq!(features[lacks]["enabled"], false, "{lacks}");
    }
    assert!(features["user_limit"]["actual"].as_i64().unwrap() >= 2);

    let a = member.get("/api/v2/appearance").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["service_banner"]["enabled"], false);
    assert_eq!(a.body["announcement_banners"], json!([]));
    assert!(a.body["application_name"].is_string() && a.body["docs_url"].is_string());

    let mine = member.get("/api/v2/users/me/appearance").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body, json!({"theme_preference": "", "terminal_font": ""}));
    let theirs = s.owner.get(&format!("/api/v2/users/{}/appearance", m.id)).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(s.anonymous().get("/api/v2/appearance").await.status, StatusCode::UNAUTHORIZED);

    let x = member.get("/api/v2/experiments").await;
    assert_eq!((x.status, x.body.clone()), (StatusCode::OK, json!([])));

    let r = member.get("/api/v2/regions").await;
    assert_eq!(r.status, StatusCode::OK);
    let regions = r.body["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["name"], "primary");
    assert_eq!(regions[0]["healthy"], true);
    assert_eq!(regions[0]["path_app_url"], s.url.as_str());

    // Public, like Coder's: current, at Atrium's own version.
    let info = s.anonymous().get("/api/v2/buildinfo").await;
    let version = info.body["version"].as_str().unwrap().to_owned();
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    let u = s.anonymous().get("/api/v2/updatecheck").await;
    assert_eq!(u.status, StatusCode::OK);
    assert_eq!(u.body["current"], true);
    assert_eq!(u.body["version"], version.as_str());

    // The deployment config: `deployment_config` read (owners), never a secret.
    let c = s.owner.get("/api/v2/deployment/config").await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert_eq!(c.body["config"]["access_url"], s.url.as_str());
    assert!(c.body["config"]["session_lifetime"]["default_duration"].as_i64().unwrap() > 0);
    assert!(c.body["options"].as_array().unwrap().iter().all(|o| o["name"].is_string()));
    let text = c.body.to_string();
    assert!(!text.contains("postgres://") && !text.contains("postgresql://"), "{text}");
    assert_eq!(member.get("/api/v2/deployment/config").await.status, StatusCode::FORBIDDEN);
    s.stop().await;
});

both_backends!(template_build_time_stats_always_there, |s: TestServer| async move {
    let t = create_template(&s.owner, s.default_org, json!({})).await;
    for transition in ["start", "stop", "delete"] {
        let stats = &t["build_time_stats"][transition];
        assert!(stats.is_object(), "{transition}: {t}");
        assert!(stats["P50"].is_null() && stats.get("P95").is_some(), "{transition}: {t}");
    }
    let got = s.owner.get(&format!("/api/v2/templates/{}", t["id"].as_str().unwrap())).await;
    assert_eq!(got.body["build_time_stats"]["delete"], json!({"P50": null, "P95": null}));
    s.stop().await;
});

fn by_id(resource_type: &str, id: impl ToString) -> Value {
    json!({"resource_type": resource_type, "resource_id": id.to_string()})
}

both_backends!(authcheck_by_resource_id_for_workspaces, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, _) = s.user_with_roles(&[]).await;
    let (other, _) = s.user_with_roles(&[]).await;
    let mine = create_for(&member, org, "me", template, &unique("ws")).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    let ws = uuid_of(&mine.body["id"]);

    // The owner's own routes decide: the member may read and update it, another member may
    // not even see it, the site owner may.
    assert!(authcheck(&member, &by_id("workspace", ws), "read").await);
    assert!(authcheck(&member, &by_id("workspace", ws), "update").await);
    assert!(!authcheck(&other, &by_id("workspace", ws), "read").await);
    assert!(!authcheck(&other, &by_id("workspace", ws), "update").await);
    assert!(authcheck(&s.owner, &by_id("workspace", ws), "delete").await);
    // Checks name the row, not the body's owner or org.
    let mut misleading = by_id("workspace", ws);
    misleading["owner_id"] = json!("me");
    assert!(!authcheck(&other, &misleading, "read").await);
    // A missing row is false, not an error.
    assert!(!authcheck(&s.owner, &by_id("workspace", Uuid::new_v4()), "read").await);
    // Templates, users and groups by id too.
    assert!(authcheck(&member, &by_id("template", template), "read").await);
    assert!(!authcheck(&member, &by_id("template", template), "update").await);
    assert!(authcheck(&s.owner, &by_id("group", org), "read").await);
    let me = s.owner.get("/api/v2/users/me").await;
    assert!(authcheck(&s.owner, &by_id("user", me.body["id"].as_str().unwrap()), "update").await);
    s.stop().await;
});

both_backends!(builds_and_versions_page_as_coder_does, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let created = create_for(&s.owner, org, "me", template, &unique("ws")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ws = uuid_of(&created.body["id"]);
    wait_status(&s.owner, ws, "running").await;
    assert_eq!(build(&s.owner, ws, "stop").await.status, StatusCode::CREATED);
    wait_status(&s.owner, ws, "stopped").await;
    assert_eq!(build(&s.owner, ws, "start").await.status, StatusCode::CREATED);
    wait_status(&s.owner, ws, "running").await;

    let list = |q: String| {
        let c = s.owner.clone();
        async move { c.get(&format!("/api/v2/workspaces/{ws}/builds{q}")).await }
    };
    let numbers = |v: &Value| -> Vec<i64> {
        v.as_array().unwrap().iter().map(|b| b["build_number"].as_i64().unwrap()).collect()
    };
    let all = list(String::new()).await;
    assert_eq!(numbers(&all.body), vec![3, 2, 1]);
    assert_eq!(numbers(&list("?limit=1".into()).await.body), vec![3]);
    assert_eq!(numbers(&list("?limit=1&offset=1".into()).await.body), vec![2]);
    let first = all.body[2]["id"].as_str().unwrap().to_owned();
    assert_eq!(numbers(&list(format!("?after_id={first}")).await.body), vec![3, 2]);
    let zero = Uuid::nil();
    assert_eq!(numbers(&list(format!("?after_id={zero}")).await.body), vec![3, 2, 1]);
    let missing = list(format!("?after_id={}", Uuid::new_v4())).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    assert!(missing.message().starts_with("Record at \"after_id\""), "{}", missing.body);
    let bad = list("?after_id=nope".into()).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["validations"][0]["field"], "after_id");

    // The template's build time stats now measure its successful builds (milliseconds).
    let t = s.owner.get(&format!("/api/v2/templates/{template}")).await;
    let stats = &t.body["build_time_stats"];
    assert!(stats["start"]["P50"].is_i64() && stats["start"]["P95"].is_i64(), "{stats}");
    assert!(stats["stop"]["P50"].is_i64(), "{stats}");
    assert!(stats["delete"]["P50"].is_null(), "{stats}");

    // Template versions: oldest first, paged the same way.
    for _ in 0..2 {
        let file = upload(&s.owner, module_tar()).await;
        let v = s
            .owner
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{org}/templateversions"),
                &json!({"storage_method": "file", "file_id": file.body["hash"],
                    "provisioner": "echo", "template_id": template}),
            )
            .await;
        assert_eq!(v.status, StatusCode::CREATED, "{}", v.body);
        wait_for_version(&s.owner, uuid_of(&v.body["id"])).await;
    }
    let versions = |q: &str| {
        let c = s.owner.clone();
        let q = q.to_owned();
        async move { c.get(&format!("/api/v2/templates/{template}/versions{q}")).await }
    };
    let all = versions("").await;
    let all_ids = ids(&all.body);
    assert_eq!(all_ids.len(), 3);
    assert_eq!(ids(&versions("?limit=2").await.body), all_ids[..2].to_vec());
    assert_eq!(ids(&versions("?offset=1&limit=1").await.body), all_ids[1..2].to_vec());
    assert_eq!(
        ids(&versions(&format!("?after_id={}", all_ids[0])).await.body),
        all_ids[1..].to_vec()
    );
    assert_eq!(
        ids(&versions(&format!("?after_id={}&limit=1", all_ids[0])).await.body),
        all_ids[1..2].to_vec()
    );
    let missing = versions(&format!("?after_id={}", Uuid::new_v4())).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    s.stop().await;
});

both_backends!(users_page_after_id, |s: TestServer| async move {
    for _ in 0..3 {
        s.user_with_roles(&[]).await;
    }
    let all = s.owner.get("/api/v2/users").await;
    let users = all.body["users"].as_array().unwrap().clone();
    assert!(users.len() >= 4);
    let first = s.owner.get("/api/v2/users?limit=2").await;
    let page: Vec<&str> =
        first.body["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(page.len(), 2);
    let next = s.owner.get(&format!("/api/v2/users?limit=2&after_id={}", page[1])).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    let expected: Vec<&Value> = users[2..users.len().min(4)].iter().collect();
    let got: Vec<&Value> = next.body["users"].as_array().unwrap().iter().collect();
    assert_eq!(
        got.iter().map(|u| &u["id"]).collect::<Vec<_>>(),
        expected.iter().map(|u| &u["id"]).collect::<Vec<_>>()
    );
    // The count is of the rows after the cursor.
    assert_eq!(next.body["count"].as_i64().unwrap(), users.len() as i64 - 2);
    let gone = s.owner.get(&format!("/api/v2/users?after_id={}", Uuid::new_v4())).await;
    assert_eq!(gone.status, StatusCode::OK);
    assert_eq!(gone.body["count"], 0);
    let bad = s.owner.get("/api/v2/users?after_id=x").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["validations"][0]["field"], "after_id");
    s.stop().await;
});

both_backends!(workspace_q_outdated_has_agent_param, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let name = unique("ws");
    let created = create_for(&s.owner, org, "me", template, &name).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ws = uuid_of(&created.body["id"]);
    let count = |q: String| {
        let c = s.owner.clone();
        async move {
            let q = q.replace(' ', "+");
            let r = c.get(&format!("/api/v2/workspaces?q={q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
            assert_eq!(
                r.body["workspaces"].as_array().unwrap().len() as i64,
                r.body["count"].as_i64().unwrap()
            );
            r.body["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count(format!("name:{name} outdated:false")).await, 1);
    assert_eq!(count(format!("name:{name} outdated:true")).await, 0);
    assert_eq!(count(format!("name:{name} has-agent:connected")).await, 0);
    assert_eq!(count(format!("name:{name} param:region")).await, 0);
    assert_eq!(count(format!("name:{name} param:region=eu")).await, 0);
    let bad = s.owner.get("/api/v2/workspaces?q=param:a=b=c").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let bad = s.owner.get("/api/v2/workspaces?q=outdated:maybe").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    // A new active version makes the workspace outdated.
    wait_status(&s.owner, ws, "running").await;
    let file = upload(&s.owner, module_tar()).await;
    let v = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "echo",
                "template_id": template}),
        )
        .await;
    let v = uuid_of(&v.body["id"]);
    wait_for_version(&s.owner, v).await;
    let r = s
        .owner
        .send(Method::PATCH, &format!("/api/v2/templates/{template}/versions"), &json!({"id": v}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(count(format!("name:{name} outdated:true")).await, 1);
    assert_eq!(count(format!("name:{name} outdated:false")).await, 0);
    let listed = s.owner.get(&format!("/api/v2/workspaces?q=name:{name}")).await;
    assert_eq!(listed.body["workspaces"][0]["outdated"], true);
    s.stop().await;
});
