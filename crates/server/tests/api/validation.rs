//! Field validation on create/update routes (13.11): Coder's lengths and shapes, refused with
//! 400 `Validation failed.` and a validations entry naming the field; nothing is stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

/// Asserts Coder's validation shape: 400, `Validation failed.`, one entry for `field`.
fn assert_invalid(r: &Reply, field: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
    assert_eq!(r.message(), "Validation failed.", "{}", r.body);
    let fields: Vec<&str> = r.body["validations"]
        .as_array()
        .map(|v| v.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, [field], "{}", r.body);
}

both_backends!(hostile_fields_are_refused_with_the_field_named, |s: TestServer| async move {
    let huge = "x".repeat(900_000);
    let long_display = "D".repeat(65);

    // Users: email syntax, real-name length.
    for (email, name, field) in [
        ("a@b@c<script>", "Ok", "email"),
        ("no-domain@localhost", "Ok", "email"),
        ("ok@example.com", &*"n".repeat(129), "name"),
    ] {
        let r = s
            .owner
            .send(
                Method::POST,
                "/api/v2/users",
                &json!({"email": email, "username": unique("v"), "name": name,
                        "password": "Correct-Horse-Battery-9!"}),
            )
            .await;
        assert_invalid(&r, field);
    }

    // Organizations: description bound, display-name length, icon scheme; on create and update.
    let create = |body: Value| {
        let c = s.owner.clone();
        async move { c.send(Method::POST, "/api/v2/organizations", &body).await }
    };
    assert_invalid(&create(json!({"name": unique("o"), "description": huge})).await, "description");
    assert_invalid(
        &create(json!({"name": unique("o"), "display_name": long_display})).await,
        "display_name",
    );
    assert_invalid(
        &create(json!({"name": unique("o"), "icon": "javascript:alert(1)"})).await,
        "icon",
    );
    let (org, _) = create_org(&s).await;
    for (field, value) in
        [("icon", "data:text/html,x"), ("description", &*huge), ("display_name", " padded ")]
    {
        let r = s
            .owner
            .send(Method::PATCH, &format!("/api/v2/organizations/{org}"), &json!({field: value}))
            .await;
        assert_invalid(&r, field);
    }
    let ok = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/organizations/{org}"),
            &json!({"icon": "/emojis/1f680.png"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // Groups: avatar URL scheme, display-name length; create and update.
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/groups"),
            &json!({"name": unique("g"), "avatar_url": "javascript:alert(1)"}),
        )
        .await;
    assert_invalid(&r, "avatar_url");
    let g = create_group(&s.owner, org, &unique("g")).await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let group = uuid_of(&g.body["id"]);
    assert_invalid(
        &patch_group(&s.owner, group, &json!({"display_name": long_display})).await,
        "display_name",
    );
    assert_invalid(
        &patch_group(&s.owner, group, &json!({"avatar_url": "//evil.example/x.png"})).await,
        "avatar_url",
    );
    let ok =
        patch_group(&s.owner, group, &json!({"avatar_url": "https://example.com/a.png"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // Tokens: Coder's name rule.
    let r = s
        .owner
        .send(Method::POST, "/api/v2/users/me/keys/tokens", &json!({"token_name": huge}))
        .await;
    assert_invalid(&r, "token_name");

    // Custom roles: display-name length.
    let mut body = role_body(&unique("r"), &[]);
    body["display_name"] = json!(long_display);
    assert_invalid(&send_role(&s.owner, Method::POST, org, &body).await, "display_name");
});
