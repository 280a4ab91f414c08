//! Headless accounts (issue 19, item 3): `login_type: "none"` users and service accounts hold
//! API tokens and custom roles, cannot log in interactively, and count as seats once active.

use atrium_api::users::User;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;
use crate::fixtures::{perm, role_body, send_role, set_org_roles};

async fn create(by: &Client, body: Value) -> Reply {
    by.send(Method::POST, "/api/v2/users", &body).await
}

/// A token for `user`, minted by `by`.
async fn token_for(by: &Client, user: &str, name: &str) -> Reply {
    by.send(
        Method::POST,
        &format!("/api/v2/users/{user}/keys/tokens"),
        &json!({"token_name": name, "lifetime": 3_600_000_000_000_i64}),
    )
    .await
}

async fn seats(s: &TestServer) -> i64 {
    let e = s.owner.get("/api/v2/entitlements").await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    e.body["features"]["user_limit"]["actual"].as_i64().unwrap()
}

both_backends!(service_accounts_have_no_email_nor_password, |s: TestServer| async move {
    let bot = unique("svc");
    let r = create(&s.owner, json!({"username": bot, "service_account": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user: User = r.json();
    assert!(user.is_service_account);
    assert_eq!((user.login_type.as_str(), user.email.as_str()), ("none", ""));
    assert_eq!(user.status, "dormant");
    // Many service accounts share the empty email.
    let bot2 = unique("svc");
    let r =
        create(&s.owner, json!({"username": bot2, "service_account": true, "login_type": "none"}))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Shown as such on reads and lists; ordinary users are not.
    let got: User = s.owner.get_json(&format!("/api/v2/users/{bot}")).await;
    assert!(got.is_service_account);
    let me: User = s.owner.get_json("/api/v2/users/me").await;
    assert!(!me.is_service_account);
    let listed = s.owner.get(&format!("/api/v2/users?q={bot}")).await;
    assert_eq!(listed.body["users"][0]["is_service_account"], true, "{}", listed.body);

    // Refusals, with nothing created.
    for (body, message) in [
        (
            json!({"username": unique("a"), "service_account": true, "email": "a@example.com"}),
            "Email cannot be set for service accounts.",
        ),
        (
            json!({"username": unique("b"), "service_account": true, "password": PASSWORD}),
            "Password cannot be set for service accounts.",
        ),
        (
            json!({"username": unique("c"), "service_account": true, "login_type": "password"}),
            "Service accounts must use login type \"none\".",
        ),
    ] {
        let r = create(&s.owner, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.message(), message);
        let name = body["username"].as_str().unwrap();
        assert_eq!(
            s.owner.get(&format!("/api/v2/users/{name}")).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    // An ordinary user still needs an email.
    let r = create(&s.owner, json!({"username": unique("d"), "login_type": "none"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Only those who may create users create service accounts.
    let (member, _) = s.user_with_roles(&[]).await;
    let r = create(&member, json!({"username": unique("e"), "service_account": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Audited as any user creation.
    let audit = s.owner.get("/api/v2/audit?q=resource_type:user%20action:create").await;
    assert!(audit.body.to_string().contains(&bot), "{}", audit.body);
    s.stop().await;
});

both_backends!(
    headless_accounts_cannot_log_in_but_hold_tokens_and_roles,
    |s: TestServer| async move {
        let org = s.default_org;
        // A `none` user with an email, and a service account.
        let none = unique("none");
        let email = format!("{none}@example.com");
        let r =
            create(&s.owner, json!({"username": none, "email": email, "login_type": "none"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let none_user: User = r.json();
        let svc = unique("svc");
        let r = create(&s.owner, json!({"username": svc, "service_account": true})).await;
        let svc_user: User = r.json();

        // No interactive login: no password works (Coder answers as for a wrong password).
        let r = s
            .anonymous()
            .send(
                Method::POST,
                "/api/v2/users/login",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert_eq!(r.message(), "Incorrect email or password.");
        let r = s
            .anonymous()
            .send(Method::POST, "/api/v2/users/login", &json!({"email": "", "password": ""}))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        // Nor can a password be set on them.
        let r = s
            .owner
            .send(
                Method::PUT,
                &format!("/api/v2/users/{svc}/password"),
                &json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "Users without password login type cannot change their password.");

        // The owner mints tokens for both; a plain member cannot mint for them.
        let (member, _) = s.user_with_roles(&[]).await;
        // Seats are active users (Coder's count): dormant headless accounts take none.
        let before = seats(&s).await;
        let refused = token_for(&member, &svc, "x").await;
        assert!(
            refused.status.is_client_error() && refused.status != StatusCode::CREATED,
            "{}",
            refused.body
        );
        let mut clients = Vec::new();
        for (name, user) in [(&none, &none_user), (&svc, &svc_user)] {
            let r = token_for(&s.owner, name, "ci").await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let client = s.anonymous().with_token(r.body["key"].as_str().unwrap());
            let me: User = client.get_json("/api/v2/users/me").await;
            assert_eq!(me.id, user.id);
            // The first use activates the account, as any authentication does.
            assert_eq!(me.status, "active");
            clients.push(client);
        }
        assert_eq!(seats(&s).await, before + 2);
        let listed = s.owner.get(&format!("/api/v2/users/{svc}/keys/tokens")).await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
        assert_eq!(listed.body[0]["token_name"], "ci");

        // A custom org role gives the service account exactly what it grants.
        let role = unique("cr-ci").chars().take(30).collect::<String>();
        let body = role_body(&role, &[perm("template", "create"), perm("template", "read")]);
        let r = send_role(&s.owner, Method::POST, org, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let svc_client = &clients[1];
        let check = json!({"checks": {"t": {"object": {"resource_type": "template", "organization_id": org},
        "action": "create"}}});
        let r = svc_client.send(Method::POST, "/api/v2/authcheck", &check).await;
        assert_eq!(r.body["t"], false, "{}", r.body);
        let r = set_org_roles(&s.owner, org, svc_user.id, &[&role]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = svc_client.send(Method::POST, "/api/v2/authcheck", &check).await;
        assert_eq!(r.body["t"], true, "{}", r.body);

        // Suspending the account stops its token at once; deleting the token too.
        let r =
            s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{none}/status/suspend")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(clients[0].get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
        let id = listed.body[0]["id"].as_str().unwrap();
        let r = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{svc}/keys/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(svc_client.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
        s.stop().await;
    }
);
