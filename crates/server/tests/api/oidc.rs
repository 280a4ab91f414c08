//! OIDC sign-in (issue 19, item 1) against the in-process provider: the flow on Coder's route,
//! the first sign-in creating the account, linking by subject, Coder's refusals (unverified
//! email, wrong domain, signups off, allowed groups, login-type clashes both ways), the
//! provider's answer checked (nonce, audience, expiry), state handling, auth methods, and
//! `--disable-password-auth`.

use atrium_api::users::User;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use atrium_server::config::{Config, Secret};

use crate::common::*;
use crate::mock_idp::{CLIENT_ID, CLIENT_SECRET, Fault, MockIdp};

/// Each test on SQLite and on PostgreSQL, starting its own server (the provider comes first).
macro_rules! with_backends {
    ($name:ident, $body:expr) => {
        pub mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if postgres_base_url().is_none() {
                    return;
                }
                ($body)(Backend::Postgres).await;
            }
        }
    };
}

/// A server whose OIDC provider is `idp`.
pub(crate) async fn server_with(
    backend: Backend,
    idp: &MockIdp,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    let issuer = idp.issuer.clone();
    TestServer::start_with(backend, move |c| {
        c.oidc.oidc_issuer_url = Some(issuer);
        c.oidc.oidc_client_id = CLIENT_ID.into();
        c.oidc.oidc_client_secret = Some(Secret(CLIENT_SECRET.into()));
        c.oidc.oidc_sign_in_text = "Example SSO".into();
        tweak(c);
    })
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let (k, rest) = c.split_once('=')?;
        (k == name).then(|| rest.split(';').next().unwrap_or("").to_owned())
    })
}

/// The outcome of a browser sign-in: the final response's status, its body (JSON when an
/// error), where it redirects, and the session cookie it set.
pub(crate) struct Outcome {
    pub status: StatusCode,
    pub body: Value,
    pub location: String,
    pub session: Option<String>,
}

/// Walks the browser's three hops: Atrium → provider → Atrium's callback.
pub(crate) async fn browser_sign_in(s: &TestServer, redirect: &str) -> Outcome {
    let http = no_redirects();
    let start = http
        .get(format!("{}/api/v2/users/oidc/callback?redirect={redirect}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::TEMPORARY_REDIRECT);
    let state_cookie = cookie_of(&start, "oauth_state").expect("state cookie");
    let to_idp = start.headers()[LOCATION].to_str().unwrap().to_owned();
    let back = http.get(&to_idp).send().await.unwrap();
    let callback = back.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&s.url), "{callback}");
    let r = http
        .get(&callback)
        .header(COOKIE, format!("oauth_state={state_cookie}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location =
        r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let session = cookie_of(&r, "coder_session_token").filter(|t| !t.is_empty());
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Outcome { status, body, location, session }
}

with_backends!(oidc_first_sign_in_creates_the_account_then_links_it, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    // Auth methods say so, for the sign-in page's button.
    let m = s.anonymous().get("/api/v2/users/authmethods").await;
    assert_eq!(
        m.body["oidc"],
        json!({"enabled": true, "signInText": "Example SSO", "iconUrl": ""})
    );
    assert_eq!(m.body["password"]["enabled"], true);

    idp.sign_in_as(
        "sub-ada",
        json!({"email": "Ada.Lovelace@example.com", "email_verified": true,
        "preferred_username": "ada.lovelace", "name": "Ada Lovelace"}),
    );
    let o = browser_sign_in(&s, "/workspaces").await;
    assert_eq!(o.status, StatusCode::TEMPORARY_REDIRECT, "{}", o.body);
    assert_eq!(o.location, "/workspaces");
    let token = o.session.expect("session cookie");
    let me: User = s.anonymous().with_token(&token).get_json("/api/v2/users/me").await;
    // The username claim made valid; login type oidc; active; in the default org.
    assert_eq!((me.username.as_str(), me.login_type.as_str()), ("ada-lovelace", "oidc"));
    assert_eq!(
        (me.email.as_str(), me.name.as_str(), me.status.as_str()),
        ("Ada.Lovelace@example.com", "Ada Lovelace", "active")
    );
    assert_eq!(me.organization_ids, [s.default_org]);
    assert!(me.roles.is_empty());

    // Signing in again with a changed email finds the same account by subject.
    idp.sign_in_as(
        "sub-ada",
        json!({"email": "ada@example.org", "preferred_username": "ada.lovelace"}),
    );
    let again = browser_sign_in(&s, "").await;
    assert_eq!(again.location, "/");
    let me2: User =
        s.anonymous().with_token(&again.session.unwrap()).get_json("/api/v2/users/me").await;
    assert_eq!(me2.id, me.id);

    // Another person whose username is taken gets a free variant.
    idp.sign_in_as(
        "sub-other",
        json!({"email": "other@example.com", "preferred_username": "ada-lovelace"}),
    );
    let other = browser_sign_in(&s, "").await;
    let u: User =
        s.anonymous().with_token(&other.session.unwrap()).get_json("/api/v2/users/me").await;
    assert!(u.username.starts_with("ada-lovelace-") && u.id != me.id, "{}", u.username);
    // The email is the username when there is no username claim.
    idp.sign_in_as("sub-grace", json!({"email": "grace.hopper@example.com"}));
    let g = browser_sign_in(&s, "").await;
    let u: User = s.anonymous().with_token(&g.session.unwrap()).get_json("/api/v2/users/me").await;
    assert_eq!(u.username, "grace-hopper");

    // Registration and login are audited.
    let audit = s.owner.get("/api/v2/audit?q=resource_type:api_key").await;
    let actions: Vec<&str> = audit.body["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["user"]["id"] == json!(me.id))
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"register") && actions.contains(&"login"), "{actions:?}");
    s.stop().await;
});

with_backends!(oidc_refusals_use_coders_texts, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |c| c.oidc.oidc_email_domain = vec!["@example.com".into()]).await;
    let cases = [
        (
            json!({"email": "eve@example.com", "email_verified": false}),
            StatusCode::FORBIDDEN,
            "Verify the \"eve@example.com\" email address on your OIDC provider to authenticate!",
        ),
        (
            json!({"email": "mallory@evil.example"}),
            StatusCode::FORBIDDEN,
            "Your email \"mallory@evil.example\" is not from an authorized domain! Please contact your administrator.",
        ),
        (
            json!({"preferred_username": "nomail"}),
            StatusCode::BAD_REQUEST,
            "No email found in OIDC payload!",
        ),
    ];
    for (claims, status, message) in cases {
        idp.sign_in_as(&unique("sub"), claims.clone());
        let o = browser_sign_in(&s, "").await;
        assert_eq!(o.status, status, "{claims}: {}", o.body);
        assert_eq!(o.body["message"], message);
        assert!(o.session.is_none());
    }
    // A password user cannot sign in through the provider, and an OIDC user not with a password.
    idp.sign_in_as("sub-owner", json!({"email": "owner@example.com"}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(
        (o.status, o.body["message"].as_str()),
        (StatusCode::FORBIDDEN, Some("Incorrect login type"))
    );
    assert_eq!(
        o.body["detail"],
        "Attempting to use login type \"oidc\", but the user has the login type \"password\"."
    );
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": "oidc-user@example.com",
        "username": "oidc-user", "login_type": "oidc"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = s
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "oidc-user@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // The pre-created OIDC account is found by email and linked at its first sign-in.
    idp.sign_in_as("sub-pre", json!({"email": "oidc-user@example.com"}));
    let o = browser_sign_in(&s, "").await;
    let me: User = s.anonymous().with_token(&o.session.unwrap()).get_json("/api/v2/users/me").await;
    assert_eq!((me.username.as_str(), me.status.as_str()), ("oidc-user", "active"));
    s.stop().await;
});

with_backends!(oidc_checks_the_providers_answer, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    for fault in [Fault::WrongNonce, Fault::WrongAudience, Fault::Expired] {
        idp.fault(fault);
        idp.sign_in_as(&unique("sub"), json!({"email": format!("{}@example.com", unique("f"))}));
        let o = browser_sign_in(&s, "").await;
        assert_eq!(o.status, StatusCode::BAD_REQUEST, "{fault:?}: {}", o.body);
        assert_eq!(o.body["message"], "Failed to verify OIDC token.", "{fault:?}");
        assert!(o.session.is_none());
    }
    idp.fault(Fault::None);
    // The state must come back, match the browser's cookie, and is good once.
    let http = no_redirects();
    let cb = format!("{}/api/v2/users/oidc/callback", s.url);
    let r = http.get(format!("{cb}?code=x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http.get(format!("{cb}?code=x&state=y")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Cookie \"oauth_state\" must be provided."
    );
    let r = http
        .get(format!("{cb}?code=x&state=y"))
        .header(COOKIE, "oauth_state=z")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "State mismatched.");
    let r = http
        .get(format!("{cb}?code=x&state=y"))
        .header(COOKIE, "oauth_state=y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The provider's own error is shown.
    let r =
        http.get(format!("{cb}?error=access_denied&error_description=no")).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["message"].as_str(), body["detail"].as_str()),
        (Some("Encountered error in oidc process: access_denied"), Some("no"))
    );
    // Off-site redirects are dropped.
    idp.sign_in_as("sub-r", json!({"email": "r@example.com"}));
    let o = browser_sign_in(&s, "https://evil.example/").await;
    assert_eq!(o.location, "/");
    s.stop().await;
});

with_backends!(oidc_signups_and_allowed_groups, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |c| {
        c.oidc.oidc_allow_signups = false;
        c.oidc.oidc_group_field = "groups".into();
        c.oidc.oidc_allowed_groups = vec!["staff".into()];
    })
    .await;
    idp.sign_in_as("sub-n", json!({"email": "new@example.com", "groups": ["staff"]}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(
        (o.status, o.body["message"].as_str()),
        (StatusCode::FORBIDDEN, Some("Signups are disabled"))
    );
    idp.sign_in_as("sub-n", json!({"email": "new@example.com", "groups": ["guests"]}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(o.body["message"], "Not a member of an allowed group");
    assert_eq!(
        o.body["detail"],
        "Ask an administrator to add one of your groups to the allow list."
    );
    idp.sign_in_as("sub-n", json!({"email": "new@example.com"}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(o.body["detail"], "You have no groups in your claims!");
    // An account made beforehand signs in although signups are off.
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": "new@example.com",
        "username": "newbie", "login_type": "oidc"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    idp.sign_in_as("sub-n", json!({"email": "new@example.com", "groups": "staff"}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(o.status, StatusCode::TEMPORARY_REDIRECT, "{}", o.body);
    s.stop().await;
});

with_backends!(disabling_password_auth_keeps_an_owner_able_to_sign_in, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let mut s = server_with(b, &idp, |_| {}).await;
    // The only owner signs in with a password: the server refuses to start that way.
    let refused = s.try_restart(|c| c.oidc.disable_password_auth = true).await;
    let message = refused.expect_err("refused while no owner signs in through the provider");
    assert!(message.contains("would lock every owner out"), "{message}");
    // Without a provider it is refused too.
    let refused = s
        .try_restart(|c| {
            c.oidc.disable_password_auth = true;
            c.oidc.oidc_issuer_url = None;
        })
        .await;
    assert!(refused.expect_err("no provider").contains("needs --oidc-issuer-url"));
    // Make an OIDC owner, then restart with passwords off.
    idp.sign_in_as("sub-boss", json!({"email": "boss@example.com"}));
    let o = browser_sign_in(&s, "").await;
    let boss: User =
        s.anonymous().with_token(&o.session.clone().unwrap()).get_json("/api/v2/users/me").await;
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/roles", boss.id),
            &json!({"roles": ["owner"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.restart(|c| c.oidc.disable_password_auth = true).await;
    let m = s.anonymous().get("/api/v2/users/authmethods").await;
    assert_eq!(m.body["password"]["enabled"], false);
    let r = s
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "owner@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.message()),
        (StatusCode::FORBIDDEN, "Password authentication is disabled.")
    );
    // A wrong password still gets the same answer as before (no oracle).
    let r = s
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": "owner@example.com", "password": "nope"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": "p@example.com", "username": unique("p"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        r.message(),
        "Password based authentication is disabled! Unable to provision new users with password authentication."
    );
    idp.sign_in_as("sub-boss", json!({"email": "boss@example.com"}));
    assert_eq!(browser_sign_in(&s, "").await.status, StatusCode::TEMPORARY_REDIRECT);
    s.stop().await;
});

with_backends!(site_roles_follow_the_role_claim, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |c| {
        c.oidc.oidc_user_role_field = "roles".into();
        c.oidc.oidc_user_role_mapping = [(
            "TemplateAuthor".to_owned(),
            vec!["template-admin".to_owned(), "user-admin".to_owned()],
        )]
        .into_iter()
        .collect();
        c.oidc.oidc_user_role_default = vec!["auditor".into()];
    })
    .await;
    let roles_of = |u: &User| {
        let mut r: Vec<String> = u.roles.iter().map(|r| r.name.clone()).collect();
        r.sort();
        r
    };
    idp.sign_in_as(
        "sub-rs",
        json!({"email": "rs@example.com", "roles": ["TemplateAuthor", "nonsense"]}),
    );
    let o = browser_sign_in(&s, "").await;
    let me: User = s.anonymous().with_token(&o.session.unwrap()).get_json("/api/v2/users/me").await;
    assert_eq!(roles_of(&me), ["auditor", "template-admin", "user-admin"]);
    // The claim loses a value: the roles follow at the next sign-in, audited naming the claim.
    idp.sign_in_as("sub-rs", json!({"email": "rs@example.com", "roles": "template-admin"}));
    let o = browser_sign_in(&s, "").await;
    let me: User = s.anonymous().with_token(&o.session.unwrap()).get_json("/api/v2/users/me").await;
    assert_eq!(roles_of(&me), ["auditor", "template-admin"]);
    let audit =
        s.owner.get(&format!("/api/v2/audit?q=resource_type:user%20resource_id:{}", me.id)).await;
    assert!(audit.body.to_string().contains("\"claim\":\"roles\""), "{}", audit.body);
    // Manual edits are refused with Coder's 400 while role sync owns them.
    let r = s
        .owner
        .send(Method::PUT, &format!("/api/v2/users/{}/roles", me.id), &json!({"roles": []}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Cannot modify roles for OIDC users when role sync is enabled.");
    // Password users' roles stay editable.
    let (_, member) = s.user_with_roles(&[]).await;
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/roles", member.id),
            &json!({"roles": ["auditor"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.stop().await;
});

with_backends!(the_sign_in_page_offers_the_identity_provider, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    let r = no_redirects().get(format!("{}/login?next=/workspaces", s.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(">Sign in with Example SSO</a>"), "{html}");
    assert!(
        html.contains("href=\"/api/v2/users/oidc/callback?redirect=/workspaces\""),
        "the button starts Coder's flow and comes back to the page asked for: {html}"
    );
    assert!(html.contains("name=\"password\""), "passwords are still on: {html}");
    // Following it starts the flow at the provider.
    let r = no_redirects()
        .get(format!("{}/api/v2/users/oidc/callback?redirect=%2Fworkspaces", s.url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(to.starts_with(&idp.issuer), "{to}");
    s.stop().await;
});
