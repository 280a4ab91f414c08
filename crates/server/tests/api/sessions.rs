//! Sessions ending: logout takes the app-connect keys along, and an expired session stays
//! expired however many requests were refreshing it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;

both_backends!(logout_revokes_app_connect_keys, |s: TestServer| async move {
    let (member, _) = s.user_with_roles(&[]).await;
    let mint = |scope: &'static str| {
        let member = member.clone();
        async move {
            let r = member
                .send(
                    Method::POST,
                    "/api/v2/users/me/keys/tokens",
                    &json!({"token_name": unique("t"), "scope": scope}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["key"].as_str().unwrap().to_owned()
        }
    };
    let app = s.anonymous().with_token(&mint("application_connect").await);
    let all = s.anonymous().with_token(&mint("all").await);
    // The app key authenticates (its scope then hides the user: 400, not 401).
    assert_eq!(app.get("/api/v2/users/me").await.status, StatusCode::BAD_REQUEST);
    let r = member.send_empty(Method::POST, "/api/v2/users/logout").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    // Other tokens survive, as in Coder.
    assert_eq!(all.get("/api/v2/users/me").await.status, StatusCode::OK);
    s.stop().await;
});

both_backends!(an_expired_session_is_not_revived_by_its_refresh, |s0: TestServer| async move {
    let backend = s0.backend;
    s0.stop().await;
    // Activity (and the session's sliding expiry) is written on nearly every request; the
    // sweep runs once at start, before any user exists.
    let s = TestServer::start_with(backend, |c| {
        c.user_dormancy_period = Duration::from_millis(10);
        c.user_dormancy_interval = Duration::from_secs(86_400);
    })
    .await;
    for _ in 0..4 {
        let (member, _) = s.user_with_roles(&[]).await;
        let token = member.token.clone().unwrap();
        let id = token.split('-').next().unwrap().to_owned();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let c = member.clone();
            tasks.push(tokio::spawn(async move { c.get("/api/v2/users/me").await.status }));
        }
        let r = member.send_empty(Method::PUT, &format!("/api/v2/users/me/keys/{id}/expire")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        for t in tasks {
            let status = t.await.unwrap();
            assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{status}");
        }
        let after = member.get("/api/v2/users/me").await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
        assert!(after.detail().starts_with("API key expired at"), "{}", after.body);
    }
    s.stop().await;
});
