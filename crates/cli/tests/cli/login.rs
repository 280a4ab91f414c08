//! `atrium login` (first-user setup, password, token), `whoami`, `logout`, and the saved
//! session in ATRIUM_CONFIG_DIR.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_user_setup_login_whoami_and_logout() {
    let env = Env::fresh(Backend::Sqlite).await.unwrap();
    let first = "/api/v2/users/first";

    // A fresh deployment without a terminal: the flags are named, nothing is created.
    env.atrium(&["login", &env.url]).fails_with("--first-user-email");
    assert_eq!(env.api(None, Method::GET, first, None).await.0, StatusCode::NOT_FOUND);
    // A weak password is refused with the server's words.
    env.atrium(&[
        "login",
        &env.url,
        "--first-user-email",
        OWNER_EMAIL,
        "--first-user-username",
        "admin",
        "--first-user-password",
        "short",
    ])
    .fails_with("Password not strong enough!");
    assert_eq!(env.api(None, Method::GET, first, None).await.0, StatusCode::NOT_FOUND);

    let out = env
        .atrium(&[
            "login",
            &env.url,
            "--first-user-email",
            OWNER_EMAIL,
            "--first-user-username",
            "admin",
            "--first-user-password",
            PASSWORD,
            "--first-user-full-name",
            "Ada Admin",
        ])
        .ok()
        .to_owned();
    assert!(out.contains("Welcome to Atrium, admin! You're authenticated."), "{out}");
    assert!(out.contains("atrium templates push"), "{out}");
    assert_eq!(env.api(None, Method::GET, first, None).await.0, StatusCode::OK);
    // The login is kept in the config dir, the session readable by its owner only.
    let saved_url = std::fs::read_to_string(env.config_dir().join("url")).unwrap();
    assert_eq!(saved_url.trim(), env.url);
    let token = env.owner_token();
    assert!(!token.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(env.config_dir().join("session")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "session file mode {mode:o}");
    }
    let me = env.get("/api/v2/users/me").await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["name"], "Ada Admin");
    assert_eq!(me["roles"][0]["name"], "owner");

    let out = env.atrium(&["whoami"]).ok().to_owned();
    assert_eq!(
        out.trim(),
        format!("Atrium is running at {}, you're authenticated as admin.", env.url)
    );
    assert_eq!(env.atrium(&["whoami", "-o", "json"]).json()["email"], OWNER_EMAIL);

    // Logging in again on a set-up deployment asks for email and password: flags for scripts.
    env.atrium(&["login", &env.url]).fails_with("--email");
    env.atrium(&["login", &env.url, "--email", OWNER_EMAIL, "--password", "Wrong-password-123"])
        .fails_with("Incorrect email or password.");
    let out =
        env.atrium(&["login", "--email", OWNER_EMAIL, "--password", PASSWORD]).ok().to_owned();
    assert!(out.contains("Welcome to Atrium, admin!"), "the saved URL is used: {out}");
    let second = env.owner_token();
    assert_ne!(second, token, "a new session");

    // Logout asks first; without a terminal it names the flag and changes nothing.
    env.atrium(&["logout"]).fails_with("--yes");
    assert_eq!(env.status_of("/api/v2/users/me").await, StatusCode::OK);
    let out = env.atrium(&["logout", "-y"]).ok().to_owned();
    assert!(out.contains("You are no longer logged in"), "{out}");
    assert!(!env.config_dir().join("session").exists());
    let (status, _) = env.api(Some(&second), Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended on the server too");
    env.atrium(&["whoami"]).fails_with("you are not logged in");

    // An API token works as a session: `login --token` checks and keeps it.
    let (status, key) = env
        .api(
            Some(&token),
            Method::POST,
            "/api/v2/users/me/keys/tokens",
            Some(json!({"token_name": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let api_token = key["key"].as_str().unwrap();
    env.atrium(&["login", &env.url, "--token", "garbage-token"])
        .fails_with("You are signed out or your session has expired");
    let out = env.atrium(&["login", &env.url, "--token", api_token]).ok().to_owned();
    assert!(out.contains("Welcome to Atrium, admin!"), "{out}");
    assert_eq!(env.owner_token(), api_token);
    assert!(env.atrium(&["whoami"]).ok().contains("as admin"));
    env.stop().await;
}
