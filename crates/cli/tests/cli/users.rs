//! Seed 004's CLI steps: create users (login instructions with the password), list them (no
//! status filter unless asked), show, suspend and activate with confirmation, edit site
//! roles, delete, and `reset-password` against the running server's database.

use reqwest::{Method, StatusCode};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_users_on_sqlite() {
    users_story(Env::sqlite_with_owner().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_users_on_postgres() {
    let Some(env) = Env::with_owner(Backend::Postgres).await else { return };
    users_story(env).await;
}

/// The password printed by `users create`.
fn printed_password(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Your password is:"))
        .unwrap_or_else(|| panic!("no password in:\n{out}"))
        .trim()
        .to_owned()
}

async fn users_story(env: Env) {
    let default_org = env.get("/api/v2/users/me").await["organization_ids"][0].clone();

    // Create with every field given.
    let out = env
        .atrium(&[
            "users",
            "create",
            "--email",
            "alice@example.com",
            "--username",
            "alice",
            "--full-name",
            "Alice Liddell",
            "--password",
            PASSWORD,
        ])
        .ok()
        .to_owned();
    assert!(out.contains("Run  atrium login"), "{out}");
    assert!(out.contains(&env.url), "{out}");
    assert!(out.contains("Your email is:  alice@example.com"), "{out}");
    assert_eq!(printed_password(&out), PASSWORD);
    let alice = env.get("/api/v2/users/alice").await;
    assert_eq!(alice["name"], "Alice Liddell");
    assert_eq!(alice["status"], "dormant", "new users are dormant until they log in");
    assert_eq!(alice["login_type"], "password");
    assert_eq!(alice["organization_ids"], serde_json::json!([default_org]));

    // Without --password one is generated, printed, and works.
    let out =
        env.atrium(&["users", "create", "-e", "bob@example.com", "-u", "bob"]).ok().to_owned();
    let generated = printed_password(&out);
    assert!(generated.len() >= 20, "{generated}");
    let bob_token = env.login("bob@example.com", &generated).await;
    // A headless user has no password line.
    let out = env
        .atrium(&["users", "create", "-e", "svc@example.com", "-u", "svc", "--login-type", "none"])
        .ok()
        .to_owned();
    assert!(!out.contains("Your password is"), "{out}");
    assert_eq!(env.get("/api/v2/users/svc").await["login_type"], "none");
    // Missing fields are asked for on a terminal; without one the flag is named.
    env.atrium(&["users", "create", "--email", "carol@example.com"]).fails_with("--username");
    assert_eq!(env.status_of("/api/v2/users/carol").await, StatusCode::BAD_REQUEST);
    // The server's refusals come through: a taken username.
    env.atrium(&["users", "create", "-e", "alice2@example.com", "-u", "alice", "-p", PASSWORD])
        .fails_with("User already exists.");

    // List: every status by default, as a table and as the JSON array.
    let out = env.atrium(&["users", "list"]).ok().to_owned();
    let header = out.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["USERNAME", "EMAIL", "CREATED", "AT", "STATUS"]
    );
    for (name, status) in
        [("admin", "active"), ("alice", "dormant"), ("bob", "active"), ("svc", "dormant")]
    {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}:\n{out}"));
        assert!(line.ends_with(status), "{line}");
    }
    let listed = env.atrium(&["users", "list", "-o", "json"]).json();
    assert_eq!(field_list(&listed, "username"), ["admin", "alice", "bob", "svc"]);
    assert_eq!(
        listed.as_array().unwrap().len(),
        env.get("/api/v2/users").await["count"].as_u64().unwrap() as usize
    );
    let dormant = env.atrium(&["users", "ls", "--search", "status:dormant", "-o", "json"]).json();
    assert_eq!(field_list(&dormant, "username"), ["alice", "svc"]);
    let out = env
        .atrium(&["users", "list", "--search", "role:owner", "-c", "username,roles"])
        .ok()
        .to_owned();
    assert_eq!(out, "USERNAME  ROLES\nadmin     owner\n");
    env.atrium(&["users", "list", "-c", "nope"]).fails_with("choose from: id, username");
    env.atrium(&["users", "list", "--search", "status:sleepy"])
        .fails_with("Invalid user search query.");

    // Show.
    let out = env.atrium(&["users", "show", "alice"]).ok().to_owned();
    assert!(
        out.contains("alice@example.com") && out.contains("dormant") && out.contains("coder"),
        "{out}"
    );
    assert_eq!(env.atrium(&["users", "show", "me", "-o", "json"]).json()["username"], "admin");

    // Suspend: asks first; `--yes` answers; the user's sessions stop working at once.
    let alice_token = env.login("alice@example.com", PASSWORD).await;
    env.atrium(&["users", "suspend", "alice"]).fails_with("pass --yes");
    assert_eq!(env.get("/api/v2/users/alice").await["status"], "active", "logging in woke her up");
    let out = env.atrium(&["users", "suspend", "alice", "--yes"]).ok().to_owned();
    assert!(out.contains("alice@example.com"), "the user is shown first: {out}");
    assert!(out.contains("User alice has been suspended!"), "{out}");
    assert_eq!(env.get("/api/v2/users/alice").await["status"], "suspended");
    let (status, _) = env.api(Some(&alice_token), Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let out = env.atrium(&["users", "suspend", "alice", "-y"]).ok().to_owned();
    assert_eq!(out.trim(), "User status is already \"suspended\"");
    // The owner cannot be suspended: the server's reason is printed.
    env.atrium(&["users", "suspend", "admin", "-y"]).fails_with("You cannot suspend yourself.");
    let out = env.atrium(&["users", "activate", "alice", "-y"]).ok().to_owned();
    assert!(out.contains("User alice has been activated!"), "{out}");
    assert_eq!(env.get("/api/v2/users/alice").await["status"], "active");
    // A dormant user is activated the same way.
    env.atrium(&["users", "activate", "svc", "-y"]).ok();
    assert_eq!(env.get("/api/v2/users/svc").await["status"], "active");

    // Site roles: replaced as a set; '' clears them; no --roles without a terminal names it.
    let out = env
        .atrium(&["users", "edit-roles", "alice", "--roles", "template-admin,auditor"])
        .ok()
        .to_owned();
    assert_eq!(out.trim(), "Successfully updated alice's roles to auditor, template-admin");
    assert_eq!(
        field_list(&env.get("/api/v2/users/alice").await["roles"], "name"),
        ["auditor", "template-admin"]
    );
    env.atrium(&["users", "edit-roles", "alice", "--roles", "user-admin"]).ok();
    assert_eq!(field_list(&env.get("/api/v2/users/alice").await["roles"], "name"), ["user-admin"]);
    env.atrium(&["users", "edit-roles", "alice", "--roles", "wizard"])
        .fails_with("\"wizard\" is not a supported role");
    env.atrium(&["users", "edit-roles", "alice"]).fails_with("--roles");
    let out = env.atrium(&["users", "edit-roles", "alice", "--roles", ""]).ok().to_owned();
    assert_eq!(out.trim(), "Successfully updated alice's roles to member");
    assert_eq!(env.get("/api/v2/users/alice").await["roles"], serde_json::json!([]));

    // Delete asks first.
    env.atrium(&["users", "delete", "svc"]).fails_with("--yes");
    assert_eq!(env.status_of("/api/v2/users/svc").await, StatusCode::OK);
    assert_eq!(env.atrium(&["users", "rm", "svc", "-y"]).ok().trim(), "Successfully deleted svc.");
    assert_eq!(env.status_of("/api/v2/users/svc").await, StatusCode::BAD_REQUEST);

    // reset-password writes the database the running server uses; the old sessions end.
    let mut args = vec!["reset-password".to_owned(), "bob".to_owned()];
    match &env.config.postgres_url {
        Some(url) => args.extend(["--postgres-url".to_owned(), url.0.clone()]),
        None => args.extend(["--data-dir".to_owned(), env.data_dir().display().to_string()]),
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.atrium_stdin(&args, "N3w-Secret!pass-word\n").ok().to_owned();
    assert_eq!(out.trim(), "Password has been reset for user bob!");
    let (status, _) = env.api(Some(&bob_token), Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bob's sessions were revoked");
    env.login("bob@example.com", "N3w-Secret!pass-word").await;
    let (status, _) = env
        .api(
            None,
            Method::POST,
            "/api/v2/users/login",
            Some(serde_json::json!({"email": "bob@example.com", "password": generated})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    env.stop().await;
}
