//! Build info, health, OpenAPI, and errors in Coder's shape.

use reqwest::{Method, StatusCode};

use crate::both_backends;
use crate::common::*;

both_backends!(buildinfo_health_and_openapi, |s: TestServer| async move {
    let anon = s.anonymous();
    let info = anon.get("/api/v2/buildinfo").await;
    assert_eq!(info.status, StatusCode::OK);
    assert!(info.body["version"].as_str().unwrap().starts_with('v'));
    let health = reqwest::get(format!("{}/healthz", s.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "OK");

    let spec = anon.get("/api/v2/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec.body["paths"]["/api/v2/users"].is_object(), "{}", spec.body["paths"]);
    let swagger = reqwest::get(format!("{}/swagger/", s.url)).await.unwrap();
    assert_eq!(swagger.status(), StatusCode::OK);
    assert!(swagger.text().await.unwrap().contains("swagger"));
    s.stop().await;
});

both_backends!(errors_use_coder_shape, |s: TestServer| async move {
    let anon = s.anonymous();
    let wrong_method = anon.send_empty(Method::DELETE, "/api/v2/buildinfo").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.message(), "Method not allowed.");
    let missing = anon.get("/api/v2/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.message(), "Route not found.");

    let unauthenticated = anon.get("/api/v2/users/me").await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthenticated.message(),
        "You are signed out or your session has expired. Please sign in again to continue."
    );
    let bad_token = anon.with_token("garbage").get("/api/v2/users/me").await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
    assert!(bad_token.detail().starts_with("Invalid API key format"));
    let wrong_secret =
        anon.with_token("abcdefghij-abcdefghijabcdefghijab").get("/api/v2/users/me").await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);

    // Malformed JSON and wrong field types are 400s in Coder's shape, never 422 or 500.
    let not_json = s
        .owner
        .send_raw(
            s.owner
                .request(Method::POST, "/api/v2/users")
                .body("{nope")
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.message(), "Request body must be valid JSON.");
    let wrong_type =
        s.owner.send(Method::POST, "/api/v2/users", &serde_json::json!({"email": 5})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.message(), "Request body must be valid JSON.");

    // An unreadable user is reported like a missing one (Coder's user-param rule); a readable
    // but forbidden change is 403.
    let (member, _) = s.user_with_roles(&[]).await;
    let other = member.get(&format!("/api/v2/users/{}", s.owner_id)).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.body);
    assert_eq!(other.message(), "\"user\" must be an existing uuid or username.");
    let (template_admin, _) = s.user_with_roles(&["template-admin"]).await;
    let (_, victim) = s.user_with_roles(&[]).await;
    let suspend = template_admin
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", victim.id))
        .await;
    assert_eq!(suspend.status, StatusCode::FORBIDDEN, "{}", suspend.body);
    assert_eq!(suspend.message(), "Forbidden.");
    let unchanged = s.owner.get(&format!("/api/v2/users/{}", victim.id)).await;
    assert_eq!(unchanged.body["status"], "active");
    s.stop().await;
});
