//! `atrium templates push` (tar, upload, import log, create then update), `list`, `delete`,
//! and `templates permissions list|set|remove` over the template ACL.

use reqwest::StatusCode;

use crate::common::*;

fn module() -> tempfile::TempDir {
    module_dir(&[
        ("main.tf", &format!("resource \"terraform_data\" \"x\" {{}}\n# {}\n", unique("m"))),
        ("modules/net/main.tf", "# a nested file\n"),
        (".terraform/cache", "left out"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_list_permissions_and_delete() {
    let env = Env::sqlite_with_owner().await;
    let dir = module();
    let d = dir.path().to_str().unwrap();
    let template_path = "/api/v2/organizations/coder/templates/docker";

    // Push asks before uploading.
    env.atrium(&["templates", "push", "docker", "-d", d, "--provisioner", "echo"])
        .fails_with("--yes");
    assert_eq!(env.status_of(template_path).await, StatusCode::NOT_FOUND);
    let out = env
        .atrium(&["templates", "push", "docker", "-d", d, "--provisioner", "echo", "-y"])
        .ok()
        .to_owned();
    assert!(out.contains("The docker template has been created at"), "{out}");
    assert!(out.contains("==> "), "the import log is printed: {out}");
    let created = env.get(template_path).await;
    let first_version = created["active_version_id"].as_str().unwrap().to_owned();
    let version = env.get(&format!("/api/v2/templateversions/{first_version}")).await;
    assert_eq!(version["job"]["status"], "succeeded");

    // Pushing again imports a new version of the same template; `--activate=false` leaves
    // the active one alone.
    std::fs::write(dir.path().join("extra.tf"), "# v2\n").unwrap();
    let out = env
        .atrium(&[
            "templates",
            "push",
            "docker",
            "-d",
            d,
            "--provisioner",
            "echo",
            "--activate=false",
            "-y",
        ])
        .ok()
        .to_owned();
    assert!(out.contains("(not made active)"), "{out}");
    assert_eq!(env.get(template_path).await["active_version_id"], first_version.as_str());
    let again =
        env.atrium(&["templates", "push", "docker", "-d", d, "--provisioner", "echo", "-y"]);
    if again.code == 0 {
        assert!(again.stdout.contains("Updated version at"), "{again}");
    } else {
        again.fails_with("cannot make it the active version");
    }
    // A directory with nothing in it is refused before any upload.
    let empty = tempfile::tempdir().unwrap();
    env.atrium(&["templates", "push", "empty", "-d", empty.path().to_str().unwrap(), "-y"])
        .fails_with("has no files");

    // List.
    let out = env.atrium(&["templates", "list"]).ok().to_owned();
    assert!(out.starts_with("NAME"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("docker ") && l.contains("coder")), "{out}");
    let listed = env.atrium(&["templates", "list", "--org", "coder", "-o", "json"]).json();
    assert_eq!(field_list(&listed, "name"), ["docker"]);

    // Permissions: Everyone has `use`; restrict to a group, add an admin user.
    let (member, _) = env.user(&[]).await;
    let (dev, dev_name) = env.user(&[]).await;
    env.atrium(&["groups", "create", "devs"]).ok();
    env.atrium(&["groups", "edit", "devs", "-a", &dev_name]).ok();
    let out = env.atrium(&["templates", "permissions", "list", "docker"]).ok().to_owned();
    assert!(
        out.lines().any(|l| l.starts_with("group") && l.contains("Everyone") && l.ends_with("use")),
        "{out}"
    );
    env.atrium(&["templates", "permissions", "set", "docker", "--group", "devs", "--role", "use"])
        .ok();
    env.atrium(&[
        "templates",
        "permissions",
        "set",
        "docker",
        "--user",
        "admin",
        "--role",
        "admin",
    ])
    .ok();
    env.atrium(&["templates", "permissions", "remove", "docker", "--group", "Everyone"]).ok();
    let acl = env.atrium(&["templates", "acl", "list", "docker", "-o", "json"]).json();
    assert_eq!(field_list(&acl["group"], "name"), ["devs"]);
    assert_eq!(acl["group"][0]["role"], "use");
    assert_eq!(field_list(&acl["users"], "username"), ["admin"]);
    let id = created["id"].as_str().unwrap();
    let server_acl = env.get(&format!("/api/v2/templates/{id}/acl")).await;
    assert_eq!(server_acl["group"].as_array().unwrap().len(), 1, "{server_acl}");
    // The ACL decides who sees it.
    let path = format!("/api/v2/templates/{id}");
    assert_eq!(
        env.api(Some(&member), reqwest::Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(env.api(Some(&dev), reqwest::Method::GET, &path, None).await.0, StatusCode::OK);
    env.atrium(&["templates", "permissions", "set", "docker", "--group", "nope", "--role", "use"])
        .fails_with("has no group `nope`");
    env.atrium_as(
        &dev,
        &["templates", "permissions", "set", "docker", "--group", "Everyone", "--role", "use"],
    )
    .fails_with("Forbidden.");
    env.atrium(&[
        "templates",
        "permissions",
        "set",
        "docker",
        "--group",
        "Everyone",
        "--role",
        "use",
    ])
    .ok();
    assert_eq!(env.api(Some(&member), reqwest::Method::GET, &path, None).await.0, StatusCode::OK);
    // The role is required and checked by the CLI.
    let r = env.atrium(&[
        "templates",
        "permissions",
        "set",
        "docker",
        "--group",
        "devs",
        "--role",
        "owner",
    ]);
    assert_eq!(r.code, 2, "{r}");

    // Delete asks first.
    env.atrium(&["templates", "delete", "docker"]).fails_with("--yes");
    let out = env.atrium(&["templates", "delete", "docker", "-y"]).ok().to_owned();
    assert!(out.contains("Deleted template docker at"), "{out}");
    assert_eq!(env.status_of(template_path).await, StatusCode::NOT_FOUND);
    env.atrium(&["templates", "delete", "docker", "-y"]).fails_with("has no template `docker`");
    env.stop().await;
}

/// Pushing an existing template makes the new version active (Coder's
/// `PATCH /templates/{id}/versions`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushing_again_activates_the_new_version() {
    let env = Env::sqlite_with_owner().await;
    let dir = module();
    let d = dir.path().to_str().unwrap();
    let template_path = "/api/v2/organizations/coder/templates/docker";
    env.atrium(&["templates", "push", "docker", "-d", d, "--provisioner", "echo", "-y"]).ok();
    let created = env.get(template_path).await;
    let first_version = created["active_version_id"].as_str().unwrap().to_owned();
    // Pushing again makes a new version and activates it.
    std::fs::write(dir.path().join("extra.tf"), "# v2\n").unwrap();
    let out = env
        .atrium(&[
            "templates",
            "push",
            "docker",
            "-d",
            d,
            "--provisioner",
            "echo",
            "-y",
            "-m",
            "second",
        ])
        .ok()
        .to_owned();
    assert!(out.contains("Updated version at"), "{out}");
    let updated = env.get(template_path).await;
    assert_eq!(updated["id"], created["id"]);
    let second_version = updated["active_version_id"].as_str().unwrap().to_owned();
    assert_ne!(second_version, first_version);
    assert_eq!(
        env.get(&format!("/api/v2/templateversions/{second_version}")).await["message"],
        "second"
    );
    env.stop().await;
}
