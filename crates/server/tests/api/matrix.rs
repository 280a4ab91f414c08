//! Per-route tables of (actor → expected status) against a real server, for every built-in
//! role, a custom role and a member of another organization. Refusals are checked to change
//! nothing by the routes' own tests; here the point is who gets in.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

/// The actors, in table order.
const ACTORS: [&str; 11] = [
    "owner",
    "user-admin",
    "template-admin",
    "auditor",
    "member",
    "org-admin",
    "org-user-admin",
    "org-template-admin",
    "org-auditor",
    "custom",
    "other-org",
];

struct World {
    clients: Vec<Client>,
    org: Uuid,
    template: Uuid,
    victim: Uuid,
}

async fn world(s: &TestServer) -> World {
    let org = s.default_org;
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &role_body("template-editor", &[perm("template", "read"), perm("template", "update")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (other_org, _) = create_org(s).await;
    let mut clients = Vec::new();
    for actor in ACTORS {
        let client = match actor {
            "owner" => s.owner.clone(),
            "user-admin" | "template-admin" | "auditor" => s.user_with_roles(&[actor]).await.0,
            "member" => s.user_with_roles(&[]).await.0,
            "custom" => member(s, org, &[], &["template-editor"]).await.0,
            "other-org" => {
                let name = unique("outsider");
                let r = s
                    .owner
                    .send(
                        Method::POST,
                        "/api/v2/users",
                        &json!({"email": format!("{name}@example.com"), "username": name,
                                "password": PASSWORD, "organization_ids": [other_org]}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                s.anonymous().login(&format!("{name}@example.com"), PASSWORD).await
            }
            org_role => {
                let role = org_role.replacen("org-", "organization-", 1);
                member(s, org, &[], &[role.as_str()]).await.0
            }
        };
        clients.push(client);
    }
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (_, victim) = s.user_with_roles(&[]).await;
    World { clients, org, template, victim: victim.id }
}

/// Runs one request as every actor and compares the statuses with the table.
async fn check(
    w: &World,
    what: &str,
    expected: [u16; 11],
    request: impl Fn(&Client) -> reqwest::RequestBuilder,
) {
    let mut got = Vec::new();
    for client in &w.clients {
        let reply = client.send_raw(request(client)).await;
        got.push(reply.status.as_u16());
    }
    let rows: Vec<String> = ACTORS
        .iter()
        .zip(expected.iter().zip(&got))
        .filter(|(_, (e, g))| e != g)
        .map(|(a, (e, g))| format!("{a}: expected {e}, got {g}"))
        .collect();
    assert!(rows.is_empty(), "{what}:\n{}", rows.join("\n"));
}

fn body(v: Value) -> impl Fn(&Client, Method, &str) -> reqwest::RequestBuilder {
    move |c: &Client, m: Method, path: &str| c.request(m, path).json(&v)
}

both_backends!(who_may_do_what, |s: TestServer| async move {
    let w = world(&s).await;
    let (org, template, victim) = (w.org, w.template, w.victim);
    //                                     own  ua   ta   aud  mem  oadm ouad otad oaud cust other
    check(&w, "GET organization", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404], |c| {
        c.request(Method::GET, &format!("/api/v2/organizations/{org}"))
    })
    .await;
    check(&w, "GET members", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404], |c| {
        c.request(Method::GET, &format!("/api/v2/organizations/{org}/members"))
    })
    .await;
    check(&w, "GET /users", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200], |c| {
        c.request(Method::GET, "/api/v2/users")
    })
    .await;
    check(&w, "GET template", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404], |c| {
        c.request(Method::GET, &format!("/api/v2/templates/{template}"))
    })
    .await;
    let patch = body(json!({"display_name": "Renamed"}));
    check(&w, "PATCH template", [200, 403, 200, 403, 403, 200, 403, 200, 403, 200, 404], |c| {
        patch(c, Method::PATCH, &format!("/api/v2/templates/{template}"))
    })
    .await;
    check(&w, "GET audit", [200, 403, 403, 200, 403, 200, 403, 403, 200, 403, 403], |c| {
        c.request(Method::GET, "/api/v2/audit")
    })
    .await;
    check(&w, "GET org roles", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404], |c| {
        c.request(Method::GET, &format!("/api/v2/organizations/{org}/members/roles"))
    })
    .await;
    // Only a change is checked, so the owner resets the victim's roles before each attempt.
    let assign = [200, 400, 403, 403, 404, 200, 400, 403, 403, 404, 404];
    for (i, client) in w.clients.iter().enumerate() {
        let reset = set_org_roles(&s.owner, org, victim, &[]).await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
        let r = set_org_roles(client, org, victim, &["organization-auditor"]).await;
        assert_eq!(r.status.as_u16(), assign[i], "PUT member roles as {}: {}", ACTORS[i], r.body);
    }
    // Site-wide roles (issue 20): every member reads them, only owners define them.
    check(&w, "GET site roles", [200; 11], |c| c.request(Method::GET, "/api/v2/roles")).await;
    for (i, client) in w.clients.iter().enumerate() {
        let expected = [200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403][i];
        let body =
            json!({"name": unique("site-reader"), "site_permissions": [perm("template", "read")]});
        let r = client.send(Method::POST, "/api/v2/roles", &body).await;
        assert_eq!(r.status.as_u16(), expected, "POST /roles as {}: {}", ACTORS[i], r.body);
    }
    // Group and user creation write rows; names are unique per call.
    for (i, client) in w.clients.iter().enumerate() {
        let expected_group = [201, 201, 403, 403, 403, 201, 201, 403, 403, 403, 404][i];
        let r = create_group(client, org, &unique("g")).await;
        assert_eq!(r.status.as_u16(), expected_group, "create group as {}: {}", ACTORS[i], r.body);
        let expected_user = [201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403][i];
        let name = unique("n");
        let r = client
            .send(Method::POST, "/api/v2/users", &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}))
            .await;
        assert_eq!(r.status.as_u16(), expected_user, "create user as {}: {}", ACTORS[i], r.body);
    }
    s.stop().await;
});

/// Polls until the workspace's latest build is no longer in progress.
async fn settle(owner: &Client, ws: Uuid) {
    for _ in 0..100 {
        let r = owner.get(&format!("/api/v2/workspaces/{ws}")).await;
        let status =
            r.body["latest_build"]["job"]["status"].as_str().unwrap_or_default().to_owned();
        if !matches!(status.as_str(), "pending" | "running" | "canceling") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the build never settled");
}

both_backends!(who_may_see_and_build_a_workspace, |s: TestServer| async move {
    let w = world(&s).await;
    let (org, template) = (w.org, w.template);
    let (_, owner_of_ws) = s.user_with_roles(&[]).await;
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/members/{}/workspaces", owner_of_ws.id),
            &json!({"template_id": template, "name": "target"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    settle(&s.owner, ws).await;
    //                                      own  ua   ta   aud  mem  oadm ouad otad oaud cust other
    check(&w, "GET workspace", [200, 404, 200, 404, 404, 200, 404, 200, 404, 404, 404], |c| {
        c.request(Method::GET, &format!("/api/v2/workspaces/{ws}"))
    })
    .await;
    for (transition, expected) in [
        ("stop", [201, 404, 403, 404, 404, 201, 404, 403, 404, 404, 404]),
        ("start", [201, 404, 403, 404, 404, 201, 404, 403, 404, 404, 404]),
    ] {
        for (i, client) in w.clients.iter().enumerate() {
            settle(&s.owner, ws).await;
            let r = client
                .send(
                    Method::POST,
                    &format!("/api/v2/workspaces/{ws}/builds"),
                    &json!({"transition": transition}),
                )
                .await;
            assert_eq!(r.status.as_u16(), expected[i], "{transition} as {}: {}", ACTORS[i], r.body);
        }
    }
    // Creating on the workspace owner's behalf: only those who may create workspaces in the org
    // for another user (owner, org admin). Readers of the user who may not create get 404; those
    // who cannot even read the user get Coder's 400 for `{user}`; outsiders of the org 404.
    let expected = [201, 404, 404, 404, 400, 201, 404, 400, 400, 400, 404];
    for (i, client) in w.clients.iter().enumerate() {
        let r = client
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{org}/members/{}/workspaces", owner_of_ws.id),
                &json!({"template_id": template, "name": unique("ws")}),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            expected[i],
            "create for another as {}: {}",
            ACTORS[i],
            r.body
        );
    }
    s.stop().await;
});
