//! `atrium organizations` with `members` and `roles`: create, list, show, edit, set-default,
//! delete; add, list, re-role and remove members; custom roles from flags and files, with
//! `--dry-run`, and the seed's negative-permission refusal.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_members_and_roles() {
    let env = Env::sqlite_with_owner().await;
    let (_, alice) = env.user(&[]).await;
    let org = unique("platform");

    // Create asks first.
    env.atrium(&["organizations", "create", &org]).fails_with("--yes");
    assert_eq!(env.status_of(&format!("/api/v2/organizations/{org}")).await, StatusCode::NOT_FOUND);
    let out = env
        .atrium(&["org", "create", &org, "--display-name", "Platform team", "-y"])
        .ok()
        .to_owned();
    assert!(out.starts_with(&format!("Organization {org} (")), "{out}");
    let created = env.get(&format!("/api/v2/organizations/{org}")).await;
    assert_eq!(created["display_name"], "Platform team");
    let org_id = created["id"].as_str().unwrap().to_owned();
    env.atrium(&["org", "create", "bad name", "-y"]).fails_with("Validation failed.");

    // List and show.
    let out = env.atrium(&["organizations", "list"]).ok().to_owned();
    assert!(out.starts_with("NAME"), "{out}");
    assert!(out.contains(&org) && out.contains("coder"), "{out}");
    let listed = env.atrium(&["orgs", "list", "-o", "json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let shown = env.atrium(&["org", "show", "-o", "json"]).json();
    assert_eq!(shown["name"], "coder", "the default org is the selected one");
    assert_eq!(env.atrium(&["org", "show", &org, "--only-id"]).ok().trim(), org_id);
    assert_eq!(env.atrium(&["org", "show", "--org", &org, "--only-id"]).ok().trim(), org_id);
    env.atrium(&["org", "show", "nosuchorg"]).fails_with("organization `nosuchorg` does not exist");

    // Edit.
    env.atrium(&["org", "edit", &org, "--description", "Builds the platform"]).ok();
    assert_eq!(
        env.get(&format!("/api/v2/organizations/{org}")).await["description"],
        "Builds the platform"
    );
    env.atrium(&["org", "edit", &org]).fails_with("nothing to change");

    // Members: add by username, list, edit roles, remove.
    let out = env.atrium(&["org", "members", "add", &alice, "--org", &org]).ok().to_owned();
    assert!(out.contains(&alice), "{out}");
    let members = env.get(&format!("/api/v2/organizations/{org_id}/members")).await;
    assert!(field_list(&members, "username").contains(&alice), "{members}");
    env.atrium(&["org", "members", "add", &alice, "--org", &org])
        .fails_with("Organization member already exists in this organization");
    let listed = env.atrium(&["org", "members", "list", "--org", &org, "-o", "json"]).json();
    assert!(field_list(&listed, "username").contains(&alice));
    let out = env
        .atrium(&[
            "org",
            "members",
            "edit-roles",
            &alice,
            "organization-auditor",
            "organization-workspace-creation-ban",
            "--org",
            &org,
        ])
        .ok()
        .to_owned();
    assert!(out.contains("organization-auditor, organization-workspace-creation-ban"), "{out}");
    let table = env.atrium(&["org", "members", "list", "--org", &org]).ok().to_owned();
    let row = table.lines().find(|l| l.starts_with(&alice)).unwrap();
    assert!(row.contains("organization-auditor"), "{table}");
    let roles = env.get(&format!("/api/v2/users/{alice}/roles")).await;
    let mut in_org: Vec<String> =
        serde_json::from_value(roles["organization_roles"][&org_id].clone()).unwrap();
    in_org.sort();
    assert_eq!(in_org, ["organization-auditor", "organization-workspace-creation-ban"]);
    env.atrium(&["org", "members", "edit-roles", &alice, "owner", "--org", &org])
        .fails_with("Must only update org roles");
    env.atrium(&["org", "members", "edit-roles", &alice, "--org", &org]).ok();
    assert_eq!(
        env.get(&format!("/api/v2/users/{alice}/roles")).await["organization_roles"][&org_id],
        json!([])
    );
    env.atrium(&["org", "members", "remove", &alice, "--org", &org]).ok();
    let members = env.get(&format!("/api/v2/organizations/{org_id}/members")).await;
    assert!(!field_list(&members, "username").contains(&alice), "{members}");

    // Custom roles: --dry-run prints and stores nothing.
    let dry = env
        .atrium(&[
            "org",
            "roles",
            "create",
            "cr-startstop",
            "--display-name",
            "Start/stop",
            "--permission",
            "workspace:read,workspace:start",
            "--permission",
            "workspace:stop",
            "--org",
            &org,
            "--dry-run",
        ])
        .json();
    assert_eq!(
        dry,
        json!({"name": "cr-startstop", "display_name": "Start/stop", "site_permissions": [], "user_permissions": [],
               "organization_permissions": [
                   {"negate": false, "resource_type": "workspace", "action": "read"},
                   {"negate": false, "resource_type": "workspace", "action": "start"},
                   {"negate": false, "resource_type": "workspace", "action": "stop"}]})
    );
    let stored =
        || async { env.get(&format!("/api/v2/organizations/{org_id}/members/roles")).await };
    assert!(!field_list(&stored().await, "name").contains(&"cr-startstop".to_owned()));
    let out = env
        .atrium(&[
            "org",
            "roles",
            "create",
            "cr-startstop",
            "--display-name",
            "Start/stop",
            "--permission",
            "workspace:read,workspace:start,workspace:stop",
            "--org",
            &org,
        ])
        .ok()
        .to_owned();
    assert!(out.contains("Role cr-startstop created.") && out.contains("workspace:start"), "{out}");
    let role = stored()
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cr-startstop")
        .cloned()
        .unwrap();
    assert_eq!(role["display_name"], "Start/stop");
    assert_eq!(role["organization_permissions"].as_array().unwrap().len(), 3);
    assert_eq!(role["built_in"], false);

    // Seed 000: a negative permission in a custom role is refused with the seed's text.
    let err = env
        .atrium(&[
            "org",
            "roles",
            "create",
            "cr-noban",
            "--permission",
            "-workspace:create",
            "--org",
            &org,
        ])
        .fails_with("Failed to update role permissions")
        .to_owned();
    assert!(err.contains("org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions"), "{err}");
    assert!(!field_list(&stored().await, "name").contains(&"cr-noban".to_owned()));

    // From a JSON file on standard input; update keeps what is not given.
    let file = r#"{"name": "cr-viewer", "display_name": "Viewer", "organization_permissions": [{"resource_type": "template", "action": "read"}]}"#;
    let out = env
        .atrium_stdin(&["org", "roles", "create", "--file", "-", "--org", &org], file)
        .ok()
        .to_owned();
    assert!(out.contains("Role cr-viewer created."), "{out}");
    env.atrium_stdin(&["org", "roles", "create", "--file", "-", "--org", &org], r#"{"nam": "x"}"#)
        .fails_with("unknown field `nam`");
    env.atrium(&[
        "org",
        "roles",
        "update",
        "cr-viewer",
        "--display-name",
        "Template viewer",
        "--org",
        &org,
    ])
    .ok();
    let role = stored()
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cr-viewer")
        .cloned()
        .unwrap();
    assert_eq!(role["display_name"], "Template viewer");
    assert_eq!(
        role["organization_permissions"],
        json!([{"negate": false, "resource_type": "template", "action": "read"}])
    );
    env.atrium(&[
        "org",
        "roles",
        "update",
        "organization-admin",
        "--display-name",
        "x",
        "--org",
        &org,
    ])
    .fails_with("built-in role");

    // List and show.
    let out = env.atrium(&["org", "roles", "list", "--org", &org]).ok().to_owned();
    assert!(
        out.contains("organization-workspace-creation-ban") && out.contains("cr-viewer"),
        "{out}"
    );
    let out = env
        .atrium(&["org", "roles", "show", "organization-workspace-creation-ban", "--org", &org])
        .ok()
        .to_owned();
    assert!(out.contains("-workspace:create, -workspace:delete"), "{out}");
    let shown =
        env.atrium(&["org", "roles", "show", "cr-startstop", "--org", &org, "-o", "json"]).json();
    assert_eq!(shown[0]["name"], "cr-startstop");
    env.atrium(&["org", "roles", "show", "nope", "--org", &org]).fails_with("has no role `nope`");

    // Delete asks first.
    env.atrium(&["org", "roles", "delete", "cr-viewer", "--org", &org]).fails_with("--yes");
    env.atrium(&["org", "roles", "delete", "cr-viewer", "--org", &org, "-y"]).ok();
    assert!(!field_list(&stored().await, "name").contains(&"cr-viewer".to_owned()));

    // The default moves (Atrium's extension) and moves back; the default cannot be deleted.
    env.atrium(&["org", "set-default", &org]).fails_with("--yes");
    env.atrium(&["org", "set-default", &org, "-y"]).ok();
    assert_eq!(env.get(&format!("/api/v2/organizations/{org}")).await["is_default"], true);
    assert_eq!(env.atrium(&["org", "show", "-o", "json"]).json()["name"], org.as_str());
    env.atrium(&["org", "delete", &org, "-y"])
        .fails_with("Default organization cannot be deleted.");
    env.atrium(&["org", "set-default", "coder", "-y"]).ok();
    env.atrium(&["org", "delete", &org]).fails_with("--yes");
    env.atrium(&["org", "delete", &org, "-y"]).ok();
    assert_eq!(
        env.status_of(&format!("/api/v2/organizations/{org_id}")).await,
        StatusCode::NOT_FOUND
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restriction_roles_site_roles_and_who_may_assign() {
    let env = Env::sqlite_with_owner().await;
    let (_, alice) = env.user(&[]).await;
    let (user_admin, _) = env.user(&["user-admin"]).await;

    // An org restriction role from flags: denies only, `*` allowed.
    let out = env
        .atrium(&[
            "org",
            "roles",
            "create",
            "no-template-edits",
            "--restriction",
            "--permission=-template:*",
        ])
        .ok()
        .to_owned();
    assert!(out.starts_with("Role no-template-edits created."), "{out}");
    let shown = env.atrium(&["org", "roles", "show", "no-template-edits", "-o", "json"]).json();
    assert_eq!(shown[0]["restriction"], true, "{shown}");
    env.atrium(&[
        "org",
        "roles",
        "create",
        "mixed",
        "--restriction",
        "--permission",
        "template:read",
    ])
    .fails_with("a restriction role may only hold negative permissions");
    env.atrium(&["org", "roles", "create", "neg", "--permission=-workspace:create"]).fails_with(
        "org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions",
    );
    // An update keeps the kind and the permissions not given.
    let out = env
        .atrium(&["org", "roles", "update", "no-template-edits", "--display-name", "No edits"])
        .ok()
        .to_owned();
    assert!(out.contains("-template:*"), "{out}");

    // Site-wide roles: create, list, who may assign, assign, delete.
    let out = env
        .atrium(&["roles", "create", "audit-reader", "--permission", "audit_log:read"])
        .ok()
        .to_owned();
    assert!(out.starts_with("Role audit-reader created."), "{out}");
    let listed = env.atrium(&["roles", "list"]).ok().to_owned();
    assert!(listed.contains("audit-reader") && listed.contains("owner"), "{listed}");
    env.atrium_as(&user_admin, &["roles", "create", "x", "--permission", "audit_log:read"])
        .fails_with("(POST /api/v2/roles answered 403)");
    env.atrium(&["roles", "update", "audit-reader", "--assignable-by", "user-admin"]).ok();
    let roles = env.get("/api/v2/roles").await;
    assert_eq!(roles[0]["assignable_by"], json!(["user-admin"]), "{roles}");
    env.atrium_as(&user_admin, &["users", "edit-roles", &alice, "--roles", "audit-reader"]).ok();
    let user = env.get(&format!("/api/v2/users/{alice}/roles")).await;
    assert_eq!(user["roles"], json!(["audit-reader"]), "{user}");
    let out = env
        .atrium(&[
            "roles",
            "create",
            "no-deletes",
            "--restriction",
            "--permission=-workspace:delete",
        ])
        .ok()
        .to_owned();
    assert!(out.contains("-workspace:delete"), "{out}");
    env.atrium(&["roles", "delete", "no-deletes", "--yes"]).ok();
    env.atrium(&["roles", "show", "no-deletes"]).fails_with("there is no site role `no-deletes`");
    env.stop().await;
}
