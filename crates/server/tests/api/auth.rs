//! First user, login, logout, token transport and rate limiting.

use atrium_api::users::User;
use reqwest::{Method, StatusCode};

use crate::both_backends;
use crate::common::*;

both_backends!(first_user_is_created_once, |s: TestServer| async move {
    let anon = s.anonymous();
    let again = anon
        .send(
            Method::POST,
            "/api/v2/users/first",
            &serde_json::json!({"email": "x@example.com", "username": "x", "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.message(), "The initial user has already been created.");
    let check = anon.get("/api/v2/users/first").await;
    assert_eq!(check.status, StatusCode::OK);

    let me: User = s.owner.get_json("/api/v2/users/me").await;
    assert_eq!(me.username, "owner");
    assert_eq!(me.status, "active");
    assert_eq!(me.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["owner"]);
    assert_eq!(me.organization_ids, [s.default_org]);
    let org = s.owner.get(&format!("/api/v2/organizations/{}", s.default_org)).await;
    if org.status == StatusCode::OK {
        assert_eq!(org.body["is_default"], true);
    }
    s.stop().await;
});

both_backends!(first_user_setup_validates_before_anything_exists, |_s: TestServer| async move {
    let dir = tempfile::tempdir().unwrap();
    let config = atrium_server::config::Config::for_data_dir(dir.path().to_path_buf());
    let server = atrium_server::start(config).await.unwrap();
    let anon = Client::new(&format!("http://{}", server.addr), None);
    let none = anon.get("/api/v2/users/first").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.message(), "The initial user has not been created!");
    let weak = anon
        .send(
            Method::POST,
            "/api/v2/users/first",
            &serde_json::json!({"email": "a@example.com", "username": "a", "password": "password"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.message(), "Password not strong enough!");
    assert_eq!(weak.body["validations"][0]["field"], "password");
    let bad_name = anon
        .send(
            Method::POST,
            "/api/v2/users/first",
            &serde_json::json!({"email": "a@example.com", "username": "a b", "password": PASSWORD}),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_name.body["validations"][0]["field"], "username");
    // Nothing was created by the refused requests.
    assert_eq!(anon.get("/api/v2/users/first").await.status, StatusCode::NOT_FOUND);
    server.stop().await;
});

both_backends!(login_logout_and_token_transports, |s: TestServer| async move {
    let anon = s.anonymous();
    for (email, password) in
        [("owner@example.com", "WrongPassword!1"), ("nobody@example.com", PASSWORD)]
    {
        let r = anon
            .send(
                Method::POST,
                "/api/v2/users/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.message(), "Incorrect email or password.");
    }
    let login = anon
        .send(
            Method::POST,
            "/api/v2/users/login",
            &serde_json::json!({"email": "owner@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::CREATED);
    let token = login.body["session_token"].as_str().unwrap().to_owned();
    let cookie = login.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with(&format!("coder_session_token={token}")), "{cookie}");
    assert!(cookie.contains("HttpOnly"));

    // Header, cookie and query parameter all carry a session.
    let by_cookie = anon
        .send_raw(
            anon.request(Method::GET, "/api/v2/users/me")
                .header("cookie", format!("coder_session_token={token}")),
        )
        .await;
    assert_eq!(by_cookie.status, StatusCode::OK);
    let by_query = anon.get(&format!("/api/v2/users/me?coder_session_token={token}")).await;
    assert_eq!(by_query.status, StatusCode::OK);

    let session = anon.with_token(&token);
    let out = session.send_empty(Method::POST, "/api/v2/users/logout").await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.message(), "Logged out!");
    assert_eq!(session.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    // Other sessions stay.
    assert_eq!(s.owner.get("/api/v2/users/me").await.status, StatusCode::OK);
    s.stop().await;
});

both_backends!(login_is_rate_limited, |_s: TestServer| async move {
    let s = TestServer::start_with(_s.backend, |c| c.login_rate_limit = 10).await;
    let anon = s.anonymous();
    // The fixture's own login counted once.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = anon
            .send(
                Method::POST,
                "/api/v2/users/login",
                &serde_json::json!({"email": "owner@example.com", "password": "nope"}),
            )
            .await;
        statuses.push(r.status);
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.message().starts_with("You've been rate limited"), "{}", r.body);
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 9);
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS);
    s.stop().await;
    _s.stop().await;
});

both_backends!(api_tokens_are_listed_and_revoked, |s: TestServer| async move {
    let created = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users/me/keys/tokens",
            &serde_json::json!({"token_name": "ci", "lifetime": 3_600_000_000_000i64}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.body["key"].as_str().unwrap().to_owned();
    let client = s.anonymous().with_token(&key);
    assert_eq!(client.get("/api/v2/users/me").await.status, StatusCode::OK);
    let list = s.owner.get("/api/v2/users/me/keys/tokens").await;
    assert_eq!(list.status, StatusCode::OK);
    let tokens = list.body.as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["token_name"], "ci");
    let id = key.split('-').next().unwrap();
    assert_eq!(tokens[0]["id"], id);
    let by_name = s.owner.get("/api/v2/users/me/keys/tokens/ci").await;
    assert_eq!(by_name.status, StatusCode::OK);
    let del = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/me/keys/{id}")).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(client.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    // A member cannot mint tokens for someone else.
    let (member, _) = s.user_with_roles(&[]).await;
    let r = member
        .send(
            Method::POST,
            &format!("/api/v2/users/{}/keys/tokens", s.owner_id),
            &serde_json::json!({}),
        )
        .await;
    // The owner is not even readable to a member, so `{user}` does not resolve.
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    s.stop().await;
});

both_backends!(scoped_tokens_only_connect_to_apps, |s: TestServer| async move {
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users/me/keys/tokens",
            &serde_json::json!({"token_name": "apps", "scope": "application_connect"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let scoped = s.anonymous().with_token(r.body["key"].as_str().unwrap());
    // Even an owner's token, scoped to application_connect, reads nothing else.
    assert_eq!(scoped.get("/api/v2/users/me").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(scoped.get("/api/v2/organizations").await.body, serde_json::json!([]));
    let r = scoped
        .send(
            Method::POST,
            "/api/v2/users",
            &serde_json::json!({"email": "x@example.com", "username": "x", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    s.stop().await;
});
