//! Headless accounts from the CLI (issue 19, item 3): `users create --service-account` and
//! `--login-type none`, then `tokens create|list|remove --user`, and the token working.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_accounts_and_tokens_on_sqlite() {
    story(Env::sqlite_with_owner().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_accounts_and_tokens_on_postgres() {
    let Some(env) = Env::with_owner(Backend::Postgres).await else { return };
    story(env).await;
}

async fn story(env: Env) {
    // A service account: no email asked for, none stored.
    let out = env.atrium(&["users", "create", "-u", "ci-bot", "--service-account"]).ok().to_owned();
    assert!(out.contains("atrium tokens create --user ci-bot"), "{out}");
    assert!(!out.contains("password"), "{out}");
    let bot = env.get("/api/v2/users/ci-bot").await;
    assert_eq!((bot["is_service_account"].clone(), bot["email"].clone()), (true.into(), "".into()));
    assert_eq!(bot["login_type"], "none");
    // It takes no email nor password.
    let r = env.atrium(&["users", "create", "-u", "x", "--service-account", "-e", "x@example.com"]);
    assert!(r.code == 2 && r.stderr.contains("--email"), "{r}");
    // A `none` user keeps an email.
    env.atrium(&[
        "users",
        "create",
        "-u",
        "probe",
        "-e",
        "probe@example.com",
        "--login-type",
        "none",
    ])
    .ok();
    assert_eq!(env.get("/api/v2/users/probe").await["email"], "probe@example.com");

    // Tokens for it, by the owner: printed once, then usable.
    let token = env
        .atrium(&["tokens", "create", "--user", "ci-bot", "--name", "deploy", "--lifetime", "30d"])
        .ok()
        .trim()
        .to_owned();
    assert_eq!(token.len(), 33, "{token}");
    let me = env.atrium_as(&token, &["whoami"]).ok().to_owned();
    assert!(me.contains("ci-bot"), "{me}");
    // A lifetime past the maximum is the server's refusal.
    env.atrium(&["tokens", "create", "--user", "ci-bot", "--lifetime", "9999d"])
        .fails_with("lifetime must be less than");
    env.atrium(&["tokens", "create", "--user", "ci-bot", "--lifetime", "soon"])
        .fails_with("--lifetime");

    // Listed by name, as a table and as JSON; nobody else's.
    let table = env.atrium(&["tokens", "list", "--user", "ci-bot"]).ok().to_owned();
    let header = table.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["ID", "NAME", "LAST", "USED", "EXPIRES", "AT", "CREATED", "AT"]
    );
    assert!(table.contains("deploy"), "{table}");
    let listed = env.atrium(&["tokens", "list", "--user", "ci-bot", "-o", "json"]).json();
    assert_eq!(field_list(&listed, "token_name"), ["deploy"]);
    let mine = env.atrium(&["tokens", "list", "-o", "json"]).json();
    assert!(!field_list(&mine, "token_name").contains(&"deploy".to_owned()), "{mine}");

    // Its own token lets the account list its tokens, and only the owner mints for others.
    let as_bot = env.atrium_as(&token, &["tokens", "list", "-o", "json"]).json();
    assert_eq!(field_list(&as_bot, "token_name"), ["deploy"]);
    env.atrium_as(&token, &["tokens", "create", "--user", "probe"])
        .fails_with("must be an existing");

    // Removed by name: the token stops working at once.
    let out = env.atrium(&["tokens", "remove", "deploy", "--user", "ci-bot"]).ok().to_owned();
    assert!(out.contains("Token has been deleted."), "{out}");
    let (status, _) = env.api(Some(&token), reqwest::Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    env.atrium(&["tokens", "remove", "deploy", "--user", "ci-bot"]).fails_with("no token named");

    // Your own tokens, removed by the whole token string.
    let own = env.atrium(&["tokens", "create", "-n", "mine"]).ok().trim().to_owned();
    env.atrium(&["tokens", "remove", &own]).ok();
    let (status, _) = env.api(Some(&own), reqwest::Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    env.stop().await;
}
