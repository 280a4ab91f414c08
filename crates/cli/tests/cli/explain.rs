//! Seed 000 from the CLI alone: a user who may start and stop but not create or delete
//! workspaces (the organization-workspace-creation-ban role), and `authz explain` showing
//! why.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_creation_ban_explained() {
    let env = Env::sqlite_with_owner().await;
    env.atrium(&["users", "create", "-e", "bob@example.com", "-u", "bob", "-p", PASSWORD]).ok();
    env.atrium(&["org", "members", "edit-roles", "bob", "organization-workspace-creation-ban"])
        .ok();

    let out = env
        .atrium(&[
            "authz",
            "explain",
            "--user",
            "bob",
            "--action",
            "create",
            "--resource",
            "workspace",
        ])
        .ok()
        .to_owned();
    assert!(
        out.starts_with("DENIED: bob may not do `create` on `workspace` in organization coder"),
        "{out}"
    );
    assert!(out.contains("organization-workspace-creation-ban"), "the role is named: {out}");
    let out = env
        .atrium(&[
            "authz",
            "explain",
            "--user",
            "bob",
            "--action",
            "start",
            "--resource",
            "workspace",
        ])
        .ok()
        .to_owned();
    assert!(out.starts_with("ALLOWED: bob may do `start`"), "{out}");
    let decision = env
        .atrium(&[
            "authz",
            "explain",
            "--user",
            "bob",
            "--action",
            "delete",
            "--resource",
            "workspace",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(decision["allowed"], false);
    assert!(
        decision["reasons"].to_string().contains("organization-workspace-creation-ban"),
        "{decision}"
    );
    // The owner may create a workspace for bob (on his behalf).
    let out = env
        .atrium(&[
            "authz",
            "explain",
            "--action",
            "create",
            "--resource",
            "workspace",
            "--owner",
            "bob",
        ])
        .ok()
        .to_owned();
    assert!(out.starts_with("ALLOWED: admin may do `create`"), "{out}");
    // Bob asks about himself; about someone else he may not.
    let bob = env.login("bob@example.com", PASSWORD).await;
    let out = env
        .atrium_as(&bob, &["authz", "explain", "--action", "create", "--resource", "workspace"])
        .ok()
        .to_owned();
    assert!(out.starts_with("DENIED: bob"), "{out}");
    env.atrium_as(
        &bob,
        &["authz", "explain", "--user", "admin", "--action", "read", "--resource", "user"],
    )
    .fails_with("must be an existing uuid or username");
    // Named resources are looked up; bad input is the server's.
    let out = env
        .atrium(&[
            "authz",
            "explain",
            "--user",
            "bob",
            "--action",
            "update",
            "--resource",
            "user:admin",
        ])
        .ok()
        .to_owned();
    assert!(out.starts_with("DENIED"), "{out}");
    env.atrium(&["authz", "explain", "--action", "fly", "--resource", "workspace"])
        .fails_with("fly");
    env.stop().await;
}
