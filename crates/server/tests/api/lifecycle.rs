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

both_backends!(sweep_marks_idle_users_dormant_and_use_reactivates, |s: TestServer| async move {
    use atrium_server::domain::{DbTime, dormancy};
    // The sweep is driven at chosen times (no sleeping): the default 90-day period.
    let period = s.config.user_dormancy_period;
    assert_eq!(period, Duration::from_secs(90 * 24 * 3600));
    let (member, me) = s.user_with_roles(&[]).await;
    let seen = DbTime::now();
    let minute = Duration::from_secs(60);
    // Just before the period has passed since anyone was seen: nobody flips.
    let flipped = dormancy::sweep_at(s.domain(), seen + period - minute).await.unwrap();
    assert_eq!(flipped, 0);
    let u: User = s.owner.get_json(&format!("/api/v2/users/{}", me.id)).await;
    assert_eq!(u.status, "active");
    // Just after: the member (and the owner, idle as well at that time) become dormant, once.
    let later = DbTime::now() + period + minute;
    let flipped = dormancy::sweep_at(s.domain(), later).await.unwrap();
    assert!(flipped >= 1, "{flipped}");
    assert_eq!(
        dormancy::sweep_at(s.domain(), later).await.unwrap(),
        0,
        "a second pass writes nothing"
    );
    let u: User = s.owner.get_json(&format!("/api/v2/users/{}", me.id)).await;
    assert_eq!(u.status, "dormant");
    let audited = s.owner.get(&format!("/api/v2/audit?q=resource_target:{}", me.username)).await;
    assert!(audited.body.to_string().contains("dormancy"), "{}", audited.body);
    // Any authenticated request brings a dormant user back.
    let again: User = member.get_json("/api/v2/users/me").await;
    assert_eq!(again.status, "active");
    s.stop().await;
});

both_backends!(
    dormant_suspend_policy_suspends_long_idle_accounts_and_stops_their_workspaces,
    |base: TestServer| async move {
        use crate::fixtures::{create_template, uuid_of};
        use crate::workspaces::{create_for, wait_status};
        use atrium_server::domain::{DbTime, dormancy};
        let backend = base.backend;
        base.stop().await;
        let s = TestServer::start_with(backend, |c| {
            c.dormant_suspend_after = Some(Duration::from_secs(180 * 86_400));
        })
        .await;
        let org = s.default_org;
        let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
        let (_, idle) = s.user_with_roles(&[]).await;
        let r = create_for(&s.owner, org, &idle.username, template, "dev").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let ws = uuid_of(&r.body["id"]);
        wait_status(&s.owner, ws, "running").await;
        let headless = unique("bot");
        let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": format!("{headless}@example.com"), "username": headless, "login_type": "none"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let status_of = |name: String| {
            let owner = s.owner.clone();
            async move { owner.get_json::<User>(&format!("/api/v2/users/{name}")).await.status }
        };
        let day = Duration::from_secs(86_400);
        // 100 days on: dormant only (the policy waits for 180).
        dormancy::sweep_at(s.domain(), DbTime::now() + 100 * day).await.unwrap();
        assert_eq!(status_of(idle.username.clone()).await, "dormant");
        // 181 days on: suspended, workspace stopped; never the owner, never a headless account.
        dormancy::sweep_at(s.domain(), DbTime::now() + 181 * day).await.unwrap();
        assert_eq!(status_of(idle.username.clone()).await, "suspended");
        assert_eq!(status_of(headless.clone()).await, "dormant");
        assert_eq!(status_of("me".into()).await, "active", "the owner's request reactivated it");
        let stopped = wait_status(&s.owner, ws, "stopped").await;
        assert_eq!(stopped["latest_build"]["reason"], "suspended");
        let audited =
            s.owner.get(&format!("/api/v2/audit?q=resource_target:{}", idle.username)).await;
        assert!(
            audited.body.to_string().contains("dormant-suspend-after=180d"),
            "{}",
            audited.body
        );
        s.stop().await;
    }
);
