//! Who may act on whose account: only owners act on owners, an owner always remains, users
//! show only the orgs the reader may see, and status changes never overwrite each other.

use atrium_api::users::{AuditLogResponse, User};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures;

/// `by` creates a password user holding `roles` and logs them in.
async fn user_by(s: &TestServer, by: &Client, roles: &[&str]) -> (Client, User) {
    let name = unique("acct");
    let email = format!("{name}@example.com");
    let user: User = by
        .expect_json(
            Method::POST,
            "/api/v2/users",
            &json!({"email": email, "username": name, "password": PASSWORD}),
            StatusCode::CREATED,
        )
        .await;
    if !roles.is_empty() {
        let r = by
            .send(
                Method::PUT,
                &format!("/api/v2/users/{}/roles", user.id),
                &json!({"roles": roles}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    (s.anonymous().login(&email, PASSWORD).await, user)
}

async fn owner_count(by: &Client) -> i64 {
    let r = by.get("/api/v2/users?q=role:owner").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["count"].as_i64().unwrap()
}

both_backends!(user_admins_cannot_act_on_owners, |s: TestServer| async move {
    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let owner = s.owner_id;
    // The takeover: set the owner's password, then sign in as the owner. Refused.
    let r = user_admin
        .send(
            Method::PUT,
            &format!("/api/v2/users/{owner}/password"),
            &json!({"password": "Taken-Over-Secret-9!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Only owners can change the password of an owner.");
    let login = s
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "owner@example.com", "password": "Taken-Over-Secret-9!"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    s.anonymous().login("owner@example.com", PASSWORD).await;

    let r = user_admin
        .send(
            Method::PUT,
            &format!("/api/v2/users/{owner}/profile"),
            &json!({"username": unique("hijacked")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Only owners can change the profile of an owner.");
    let r =
        user_admin.send_empty(Method::PUT, &format!("/api/v2/users/{owner}/status/suspend")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Only owners can suspend an owner.");
    let r = user_admin
        .send(Method::PUT, &format!("/api/v2/users/{owner}/roles"), &json!({"roles": []}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Only owners can change the roles of an owner.");
    // Deleting the only owner (14.5) is refused: someone must still assign `owner`.
    let r = user_admin.send_empty(Method::DELETE, &format!("/api/v2/users/{owner}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Only owners can delete an owner.");
    assert_eq!(owner_count(&s.owner).await, 1);
    let me: User = s.owner.get_json("/api/v2/users/me").await;
    assert_eq!(me.username, "owner");
    // Each refusal is audited with its status.
    let log: AuditLogResponse = s
        .owner
        .get_json(&format!("/api/v2/audit?q=resource_type:user%20resource_id:{owner}"))
        .await;
    assert!(log.audit_logs.iter().filter(|a| a.status_code == 403).count() >= 4, "{log:?}");

    // User admins keep managing everyone else.
    let (_, member) = s.user_with_roles(&[]).await;
    let r = user_admin
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/password", member.id),
            &json!({"password": "Reset-By-Admin-42!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = user_admin
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", member.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = user_admin.send_empty(Method::DELETE, &format!("/api/v2/users/{}", member.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Owners act on owners.
    let (_, second) = s.user_with_roles(&["owner"]).await;
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/password", second.id),
            &json!({"password": "Owner-Reset-Secret-7!"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    s.anonymous().login(&second.email, "Owner-Reset-Secret-7!").await;
    let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{}", second.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.stop().await;
});

// Two owners demoting (or deleting) each other at once: exactly one wins, one owner remains.
both_backends!(owners_removing_each_other_leave_one, |s: TestServer| async move {
    let mut survivor = s.owner.clone();
    let mut survivor_id = s.owner_id;
    for round in 0..6 {
        let (a, a_user) = user_by(&s, &survivor, &["owner"]).await;
        let (b, b_user) = user_by(&s, &survivor, &["owner"]).await;
        // The previous survivor steps down, leaving `a` and `b` the only owners.
        let r = a
            .send(Method::PUT, &format!("/api/v2/users/{survivor_id}/roles"), &json!({"roles": []}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(owner_count(&a).await, 2);
        let remove = move |by: Client, target: Uuid| async move {
            if round % 2 == 0 {
                by.send(
                    Method::PUT,
                    &format!("/api/v2/users/{target}/roles"),
                    &json!({"roles": []}),
                )
                .await
            } else {
                by.send_empty(Method::DELETE, &format!("/api/v2/users/{target}")).await
            }
        };
        let (ra, rb) = tokio::join!(
            tokio::spawn(remove(a.clone(), b_user.id)),
            tokio::spawn(remove(b.clone(), a_user.id)),
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let won: Vec<bool> = [&ra, &rb].iter().map(|r| r.status == StatusCode::OK).collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{ra:?} {rb:?}");
        let lost = if won[0] { &rb } else { &ra };
        assert!(
            lost.status == StatusCode::FORBIDDEN
                || (lost.status == StatusCode::BAD_REQUEST && round % 2 == 0)
                || lost.status == StatusCode::UNAUTHORIZED,
            "{lost:?}"
        );
        (survivor, survivor_id) = if won[0] { (a, a_user.id) } else { (b, b_user.id) };
        assert_eq!(owner_count(&survivor).await, 1, "round {round}");
    }
    s.stop().await;
});

both_backends!(users_show_only_orgs_the_reader_may_see, |s: TestServer| async move {
    let (org_a, _) = fixtures::create_org(&s).await;
    let (org_b, _) = fixtures::create_org(&s).await;
    let (_, target) = fixtures::member(&s, org_b, &[], &["organization-auditor"]).await;
    fixtures::add_member(&s, org_a, target.id).await;
    let (admin_a, _) = fixtures::member(&s, org_a, &[], &["organization-admin"]).await;

    let roles = admin_a.get(&format!("/api/v2/users/{}/roles", target.id)).await;
    assert_eq!(roles.status, StatusCode::OK, "{}", roles.body);
    let orgs = roles.body["organization_roles"].as_object().unwrap();
    assert!(orgs.contains_key(&org_a.to_string()), "{}", roles.body);
    assert!(!orgs.contains_key(&org_b.to_string()), "org B leaks: {}", roles.body);
    let user: User = admin_a.get_json(&format!("/api/v2/users/{}", target.id)).await;
    assert!(user.organization_ids.contains(&org_a));
    assert!(!user.organization_ids.contains(&org_b), "{:?}", user.organization_ids);
    let listed = admin_a.get("/api/v2/users?limit=0").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let row = listed.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(target.id))
        .unwrap_or_else(|| panic!("{}", listed.body))
        .clone();
    let ids = row["organization_ids"].as_array().unwrap();
    assert!(ids.contains(&json!(org_a)) && !ids.contains(&json!(org_b)), "{row}");

    // The owner sees everything.
    let roles = s.owner.get(&format!("/api/v2/users/{}/roles", target.id)).await;
    let orgs = roles.body["organization_roles"].as_object().unwrap();
    assert_eq!(orgs[&org_b.to_string()], json!(["organization-auditor"]));
    let user: User = s.owner.get_json(&format!("/api/v2/users/{}", target.id)).await;
    for org in [s.default_org, org_a, org_b] {
        assert!(user.organization_ids.contains(&org));
    }
    s.stop().await;
});

/// A dormant user and an owner-made token for them (the user has never logged in).
async fn dormant_with_token(s: &TestServer) -> (User, Client) {
    let name = unique("sleepy");
    let user: User = s
        .owner
        .expect_json(
            Method::POST,
            "/api/v2/users",
            &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(user.status, "dormant");
    let r = s
        .owner
        .send(Method::POST, &format!("/api/v2/users/{}/keys/tokens", user.id), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let client = s.anonymous().with_token(r.body["key"].as_str().unwrap());
    (user, client)
}

both_backends!(concurrent_requests_reactivate_a_dormant_user_once, |s: TestServer| async move {
    let (user, client) = dormant_with_token(&s).await;
    // On PostgreSQL a second replica serves half of the requests.
    let replica = match s.backend {
        Backend::Postgres => Some(atrium_server::start(s.config.clone()).await.unwrap()),
        Backend::Sqlite => None,
    };
    let other =
        replica.as_ref().map(|r| Client::new(&format!("http://{}", r.addr), client.token.clone()));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = if i % 2 == 1 { other.clone().unwrap_or(client.clone()) } else { client.clone() };
        tasks.push(tokio::spawn(async move { c.get("/api/v2/users/me").await.status }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let log: AuditLogResponse = s
        .owner
        .get_json(&format!("/api/v2/audit?q=resource_type:user%20resource_id:{}", user.id))
        .await;
    let flips = log
        .audit_logs
        .iter()
        .filter(|a| a.diff.get("status").is_some_and(|d| d.new == json!("active")))
        .count();
    assert_eq!(flips, 1, "{:?}", log.audit_logs);
    if let Some(r) = replica {
        r.stop().await;
    }
    s.stop().await;
});

both_backends!(a_suspension_is_never_undone_by_a_reactivation, |s: TestServer| async move {
    for _ in 0..3 {
        let (user, client) = dormant_with_token(&s).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let c = client.clone();
            tasks.push(tokio::spawn(async move { c.get("/api/v2/users/me").await.status }));
        }
        let r = s
            .owner
            .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", user.id))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for t in tasks {
            let status = t.await.unwrap();
            assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{status}");
        }
        let after: User = s.owner.get_json(&format!("/api/v2/users/{}", user.id)).await;
        assert_eq!(after.status, "suspended");
        assert_eq!(client.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    }
    s.stop().await;
});
