//! Error paths: unknown user, a forbidden action, the server down, a bad token, no login,
//! validation errors and usage errors — each a clear message on standard error and a
//! non-zero exit, never a panic or debug text.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_clear_and_exit_non_zero() {
    let env = Env::sqlite_with_owner().await;
    let (_, target) = env.user(&[]).await;

    // Unknown user: the server's text.
    let err = env
        .atrium(&["users", "show", "nobody"])
        .fails_with("\"user\" must be an existing uuid or username.")
        .to_owned();
    assert!(err.contains("GET /api/v2/users/nobody answered 400"), "{err}");
    env.atrium(&["users", "suspend", "nobody", "-y"])
        .fails_with("must be an existing uuid or username");

    // Forbidden: a plain member cannot even see another user; an auditor sees but may not
    // suspend. Nothing changes.
    let (member, _) = env.user(&[]).await;
    env.atrium_as(&member, &["users", "suspend", &target, "-y"])
        .fails_with("must be an existing uuid or username");
    let (auditor, _) = env.user(&["auditor"]).await;
    let err = env
        .atrium_as(&auditor, &["users", "suspend", &target, "-y"])
        .fails_with("Forbidden.")
        .to_owned();
    assert!(err.contains("You don't have permission"), "the detail is printed: {err}");
    assert!(err.contains("answered 403"), "{err}");
    assert_ne!(env.get(&format!("/api/v2/users/{target}")).await["status"], "suspended");
    env.atrium_as(&member, &["users", "edit-roles", &target, "--roles", "owner"])
        .fails_with("must be an existing uuid or username");
    env.atrium_as(
        &auditor,
        &["users", "create", "-e", "x@example.com", "-u", "xx", "-p", PASSWORD],
    )
    .fails_with("You are not authorized to create users.");
    assert_eq!(env.status_of("/api/v2/users/xx").await, StatusCode::BAD_REQUEST);

    // Validation errors list their fields.
    let err = env
        .atrium(&["users", "create", "-e", "not-an-email", "-u", "valid", "-p", PASSWORD])
        .fails_with("Validation failed.")
        .to_owned();
    assert!(err.contains("- email: Validation failed for tag \"email\""), "{err}");
    let err = env
        .atrium(&["users", "create", "-e", "w@example.com", "-u", "weak", "-p", "password"])
        .fails_with("Password not strong enough!")
        .to_owned();
    assert!(err.contains("- password:"), "{err}");

    // A bad token: the 401 message and how to fix it.
    let err = env
        .atrium_as("garbage", &["users", "list"])
        .fails_with("You are signed out or your session has expired")
        .to_owned();
    assert!(err.contains("atrium login"), "{err}");
    env.atrium_as("abcdefghij-abcdefghijklmnopqrstuv", &["whoami"])
        .fails_with("API key is invalid.");

    // The server down: connection refused, named plainly.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cmd = env.command(&["users", "list"]);
    cmd.env("ATRIUM_URL", format!("http://{closed}"))
        .env("ATRIUM_SESSION_TOKEN", env.owner_token());
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the Atrium server at http://{closed}")),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("reqwest"), "{stderr}");
    // --url wins over the saved one.
    env.atrium(&["whoami", "--url", &format!("http://{closed}")])
        .fails_with("cannot reach the Atrium server");

    // No login at all.
    let mut cmd = env.command(&["users", "list"]);
    cmd.env("ATRIUM_CONFIG_DIR", env.config_dir().join("empty"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("you are not logged in"));

    // Usage errors are clap's (exit 2); help has examples.
    let r = env.atrium(&["users", "frobnicate"]);
    assert_eq!(r.code, 2, "{r}");
    let help = env.atrium(&["users", "suspend", "--help"]).ok().to_owned();
    assert!(help.contains("Example") && help.contains("--yes"), "{help}");
    env.stop().await;
}
