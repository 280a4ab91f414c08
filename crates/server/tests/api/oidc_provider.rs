//! OIDC sign-in against a real OpenID provider process (PyPI `oidc-provider-mock`, started by
//! `scripts/test` through `scripts/oidc-provider`, which exports ATRIUM_TEST_OIDC_PROVIDER):
//! the happy path through its sign-in form, claims set with its `PUT /users/<sub>`, and the
//! same account found again when the claims change between two sign-ins.

use atrium_api::users::User;
use atrium_server::config::Secret;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// The provider's issuer, or `None` (with a note) when no provider was started.
pub(crate) fn provider() -> Option<String> {
    match std::env::var("ATRIUM_TEST_OIDC_PROVIDER") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: ATRIUM_TEST_OIDC_PROVIDER unset (scripts/test starts one); skipped");
            None
        }
    }
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap_or("").to_owned())
    })
}

/// Signs `sub` in through the provider's form; the session token.
pub(crate) async fn sign_in(s: &TestServer, sub: &str) -> String {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = http.get(format!("{}/api/v2/users/oidc/callback", s.url)).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::TEMPORARY_REDIRECT);
    let state = set_cookie(&start, "oauth_state").unwrap();
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
    // The provider's sign-in form, filled in with the subject.
    // `sub` is letters and digits (`unique`), so it needs no form encoding.
    let form = http
        .post(&authorize)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("sub={sub}"))
        .send()
        .await
        .unwrap();
    assert!(form.status().is_redirection(), "{}", form.text().await.unwrap());
    let callback = form.headers()[LOCATION].to_str().unwrap().to_owned();
    let done =
        http.get(&callback).header(COOKIE, format!("oauth_state={state}")).send().await.unwrap();
    let session = set_cookie(&done, "coder_session_token").filter(|t| !t.is_empty());
    let status = done.status();
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{}", done.text().await.unwrap());
    session.unwrap()
}

pub(crate) async fn set_claims(issuer: &str, sub: &str, claims: Value) {
    let r = reqwest::Client::new()
        .put(format!("{issuer}/users/{sub}"))
        .json(&claims)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_through_a_real_openid_provider() {
    let Some(issuer) = provider() else { return };
    let for_server = issuer.clone();
    let s = TestServer::start_with(Backend::Sqlite, move |c| {
        c.oidc.oidc_issuer_url = Some(for_server);
        c.oidc.oidc_client_id = "atrium".into();
        c.oidc.oidc_client_secret = Some(Secret("atrium-secret".into()));
    })
    .await;
    let sub = unique("sub");
    let email = format!("{}@example.com", unique("kay"));
    set_claims(
        &issuer,
        &sub,
        json!({"email": email, "email_verified": true,
        "preferred_username": "kay.real", "name": "Kay Real", "groups": ["devs", "ops"]}),
    )
    .await;
    let token = sign_in(&s, &sub).await;
    let me: User = s.anonymous().with_token(&token).get_json("/api/v2/users/me").await;
    assert_eq!((me.login_type.as_str(), me.email.as_str()), ("oidc", email.as_str()));
    assert!(me.username.starts_with("kay-real"), "{}", me.username);
    assert_eq!(me.name, "Kay Real");
    // A claim removed between two sign-ins: the same account, by subject.
    set_claims(&issuer, &sub, json!({"email": email, "preferred_username": "kay.real"})).await;
    let again = sign_in(&s, &sub).await;
    let me2: User = s.anonymous().with_token(&again).get_json("/api/v2/users/me").await;
    assert_eq!(me2.id, me.id);
    // Both sessions are real sessions: logging one out leaves the other.
    let r = s.anonymous().with_token(&token).send_empty(Method::POST, "/api/v2/users/logout").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        s.anonymous().with_token(&again).get("/api/v2/users/me").await.status,
        StatusCode::OK
    );
    s.stop().await;
}
