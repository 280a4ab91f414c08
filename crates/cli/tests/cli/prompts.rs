//! The interactive side, on a real pseudo-terminal: first-user setup asked question by
//! question (the password read without echo), and confirmations answered yes and no.

use std::process::Command;

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs util-linux `script`");
        eprintln!("skipping: no `script` (util-linux) for a pseudo-terminal");
        return;
    }
    let env = Env::fresh(Backend::Sqlite).await.unwrap();
    let typed = format!("yes\nadmin\n{OWNER_EMAIL}\nAda Admin\n{PASSWORD}\n{PASSWORD}\n");
    let r = env.atrium_tty(&["login", &env.url], &typed);
    assert_eq!(r.code, 0, "{r}");
    for question in [
        "Would you like to create the first user? (yes/no)",
        "What username would you like?",
        "What's your email?",
        "What's your full name?",
        "Enter a password:",
        "Confirm password:",
        "Welcome to Atrium, admin!",
        "atrium templates push NAME -d DIR",
    ] {
        assert!(r.stdout.contains(question), "{question:?} not shown:\n{r}");
    }
    let me = env.get("/api/v2/users/me").await;
    assert_eq!(me["name"], "Ada Admin");

    // A confirmation: "no" cancels and changes nothing; "yes" goes ahead.
    let (_, alice) = env.user(&[]).await;
    let r = env.atrium_tty(&["users", "suspend", &alice], "no\n");
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("Are you sure you want to suspend this user? (yes/no)"), "{r}");
    assert!(r.stdout.contains("error: canceled"), "{r}");
    assert_eq!(env.get(&format!("/api/v2/users/{alice}")).await["status"], "active");
    let r = env.atrium_tty(&["users", "suspend", &alice], "yes\n");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains(&format!("User {alice} has been suspended!")), "{r}");
    assert_eq!(env.get(&format!("/api/v2/users/{alice}")).await["status"], "suspended");

    // Missing values are asked for, and so is the password on login.
    let r =
        env.atrium_tty(&["users", "create", "--password", PASSWORD], "carol\ncarol@example.com\n");
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Username:") && r.stdout.contains("Email:"), "{r}");
    assert_eq!(env.status_of("/api/v2/users/carol").await, StatusCode::OK);
    let r = env.atrium_tty(&["login", &env.url], &format!("{OWNER_EMAIL}\n{PASSWORD}\n"));
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Welcome to Atrium, admin!"), "{r}");
    env.stop().await;
}
