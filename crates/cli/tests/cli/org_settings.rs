//! `atrium organizations settings show|set`: Coder's IdP sync settings as JSON, set from
//! standard input or a file, per organization (group and role sync) or deployment-wide
//! (organization sync).

use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_set_idp_sync_settings() {
    let env = Env::sqlite_with_owner().await;
    let shown = env.atrium(&["organizations", "settings", "show", "group-sync"]).json();
    assert_eq!(
        shown,
        json!({"field": "", "mapping": {}, "regex_filter": null, "auto_create_missing_groups": false})
    );
    // Coder indents with tabs.
    let raw = env.atrium(&["org", "settings", "show", "rolesync"]).ok().to_owned();
    assert!(raw.contains("\n\t\"field\": \"\""), "{raw}");

    let body = json!({"field": "groups", "mapping": {}, "regex_filter": "^team-",
        "auto_create_missing_groups": true});
    let set = env.atrium_stdin(&["org", "settings", "set", "group-sync"], &body.to_string()).json();
    assert_eq!(set, body);
    let org = env.get("/api/v2/organizations/coder").await;
    let id = org["id"].as_str().unwrap();
    assert_eq!(env.get(&format!("/api/v2/organizations/{id}/settings/idpsync/groups")).await, body);

    // From a file, deployment-wide.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orgs.json");
    let orgs = json!({"field": "departments", "mapping": {"eng": [id]}, "organization_assign_default": false});
    std::fs::write(&file, orgs.to_string()).unwrap();
    let set = env.atrium(&["org", "settings", "set", "org-sync", file.to_str().unwrap()]).json();
    assert_eq!(set, orgs);
    assert_eq!(env.get("/api/v2/settings/idpsync/organization").await, orgs);
    env.atrium_stdin(&["org", "settings", "set", "role-sync"], "not json")
        .fails_with("the settings are not JSON");
    env.stop().await;
}
