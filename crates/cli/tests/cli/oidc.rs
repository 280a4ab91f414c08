//! `atrium login` on an OIDC-only deployment (issue 19): it prints the `/cli-auth` page and
//! takes the session token pasted back; the first account through the provider owns the
//! deployment.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::common::*;
#[path = "../../../server/tests/api/mock_idp.rs"]
#[allow(dead_code, reason = "the server tests use all of it")]
mod mock_idp;
use mock_idp::{CLIENT_ID, CLIENT_SECRET, MockIdp};

fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|v| v.split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

/// What the browser does: Atrium → provider → Atrium; returns the session cookie.
async fn browser_session(url: &str) -> String {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = http
        .get(format!("{url}/api/v2/users/oidc/callback?redirect=/cli-auth"))
        .send()
        .await
        .unwrap();
    let state = set_cookie(&start, "oauth_state");
    let idp = http.get(start.headers()[LOCATION].to_str().unwrap()).send().await.unwrap();
    let back = http
        .get(idp.headers()[LOCATION].to_str().unwrap())
        .header(COOKIE, format!("oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.headers()[LOCATION], "/cli-auth");
    set_cookie(&back, "coder_session_token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_on_an_oidc_only_deployment() {
    let idp = MockIdp::start().await;
    let issuer = idp.issuer.clone();
    let env = Env::fresh_with(Backend::Sqlite, move |c| {
        c.oidc.oidc_issuer_url = Some(issuer);
        c.oidc.oidc_client_id = CLIENT_ID.into();
        c.oidc.oidc_client_secret = Some(atrium_server::config::Secret(CLIENT_SECRET.into()));
        c.oidc.disable_password_auth = true;
    })
    .await
    .unwrap();
    idp.sign_in_as(
        "sub-root",
        serde_json::json!({"email": "root@example.com", "preferred_username": "root"}),
    );
    let token = browser_session(&env.url).await;
    let run = env.atrium_stdin(&["login", &env.url], &format!("{token}\n"));
    let out = run.ok().to_owned();
    assert!(run.stderr.contains(&format!("{}/cli-auth", env.url)), "{run}");
    assert!(out.contains("Welcome to Atrium, root!"), "{out}");
    // The first account through the provider owns the deployment.
    let me = env.atrium(&["whoami", "-o", "json"]).json();
    assert_eq!(me["login_type"], "oidc");
    assert_eq!(me["roles"][0]["name"], "owner");
    // Nothing pasted: refused, naming what to do.
    env.atrium_stdin(&["login", &env.url], "\n").fails_with("no token given");
    // Passwords are refused with Coder's text.
    env.atrium(&["login", &env.url, "--email", "root@example.com", "--password", "x"])
        .fails_with("Incorrect email or password.");
    env.stop().await;
}
