//! Dormancy, reactivation, seats.

use std::time::Duration;

use atrium_api::users::User;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;

async fn seats(s: &TestServer) -> i64 {
    let e = s.owner.get("/api/v2/entitlements").await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    e.body["features"]["user_limit"]["actual"].as_i64().unwrap()
}

both_backends!(dormant_until_login_and_seats_count_active_users, |s: TestServer| async move {
    assert_eq!(seats(&s).await, 1);
    let name = unique("dora");
    let user: User = s
        .owner
        .expect_json(Method::POST, "/api/v2/users", &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}), StatusCode::CREATED)
        .await;
    assert_eq!(user.status, "dormant");
    assert!(user.last_seen_at.is_none());
    assert_eq!(seats(&s).await, 1, "dormant users take no seat");
    let session = s.anonymous().login(&user.email, PASSWORD).await;
    let me: User = session.get_json("/api/v2/users/me").await;
    assert_eq!(me.status, "active");
    assert!(me.last_seen_at.is_some(), "login sets last_seen_at at once");
    assert_eq!(seats(&s).await, 2);
    s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", user.id)).await;
    assert_eq!(seats(&s).await, 1, "suspended users take no seat");
    s.stop().await;
});

both_backends!(sweep_marks_idle_users_dormant_and_use_reactivates, |base: TestServer| async move {
    let backend = base.backend;
    base.stop().await;
    let s = TestServer::start_with(backend, |c| {
        c.user_dormancy_period = Duration::from_secs(2);
        c.user_dormancy_interval = Duration::from_millis(200);
    })
    .await;
    assert_eq!(s.config.user_dormancy_period, Duration::from_secs(2));
    let (member, me) = s.user_with_roles(&[]).await;
    // Wait (bounded) for the sweep; the owner keeps itself active by polling.
    let mut status = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let u: User = s.owner.get_json(&format!("/api/v2/users/{}", me.id)).await;
        status = u.status;
        if status == "dormant" {
            break;
        }
    }
    assert_eq!(status, "dormant");
    let owner: User = s.owner.get_json("/api/v2/users/me").await;
    assert_eq!(owner.status, "active", "activity keeps a user active");
    // Any authenticated request brings a dormant user back.
    let again: User = member.get_json("/api/v2/users/me").await;
    assert_eq!(again.status, "active");
    s.stop().await;
});
