//! `atrium groups`: create, list, add and remove members by username, email or id, rename,
//! delete; the Everyone group's rules come from the server.

use reqwest::StatusCode;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_their_members() {
    let env = Env::sqlite_with_owner().await;
    let (_, alice) = env.user(&[]).await;
    let (_, bob) = env.user(&[]).await;
    let org = env.get("/api/v2/organizations/coder").await["id"].as_str().unwrap().to_owned();
    let group_path = |name: &str| format!("/api/v2/organizations/{org}/groups/{name}");

    let out =
        env.atrium(&["groups", "create", "devs", "--display-name", "Developers"]).ok().to_owned();
    assert_eq!(out.trim(), "Successfully created group devs!");
    assert_eq!(env.get(&group_path("devs")).await["display_name"], "Developers");
    env.atrium(&["groups", "create", "devs"]).fails_with("A group named \"devs\" already exists.");
    env.atrium(&["groups", "create", "Everyone"])
        .fails_with("\"Everyone\" is a reserved group name");

    // Members by username and by email, resolved by the CLI.
    env.atrium(&["groups", "edit", "devs", "--add-users", &format!("{alice},{bob}@example.com")])
        .ok();
    let members = env.get(&group_path("devs")).await["members"].clone();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(field_list(&members, "username"), expected);
    env.atrium(&["groups", "edit", "devs", "-a", "nobody"])
        .fails_with("`nobody` is not a member of organization `coder`");
    env.atrium(&["groups", "edit", "devs", "-a", &alice])
        .fails_with("Cannot add the same user to a group twice!");
    env.atrium(&["groups", "edit", "devs", "-r", &format!("{bob}@example.com")]).ok();
    assert_eq!(
        field_list(&env.get(&group_path("devs")).await["members"], "username"),
        [alice.as_str()]
    );
    env.atrium(&["groups", "edit", "devs"]).fails_with("nothing to change");

    // List: table and JSON array; Everyone is there.
    let out = env.atrium(&["groups", "list"]).ok().to_owned();
    assert!(out.starts_with("NAME"), "{out}");
    let row = out.lines().find(|l| l.starts_with("devs ")).unwrap();
    assert!(row.contains("Developers") && row.contains(&alice), "{out}");
    let listed = env.atrium(&["groups", "ls", "-o", "json"]).json();
    assert_eq!(field_list(&listed, "name"), ["Everyone", "devs"]);
    env.atrium(&["groups", "edit", "Everyone", "-a", &bob])
        .fails_with("Cannot add or remove users from the \"Everyone\" group!");

    // Rename and delete.
    env.atrium(&["groups", "edit", "devs", "--name", "developers"]).ok();
    assert_eq!(env.status_of(&group_path("devs")).await, StatusCode::NOT_FOUND);
    assert_eq!(
        field_list(&env.get(&group_path("developers")).await["members"], "username"),
        [alice.as_str()]
    );
    env.atrium(&["groups", "delete", "developers"]).fails_with("--yes");
    assert_eq!(
        env.atrium(&["groups", "rm", "developers", "-y"]).ok().trim(),
        "Successfully deleted group developers!"
    );
    assert_eq!(env.status_of(&group_path("developers")).await, StatusCode::NOT_FOUND);
    env.atrium(&["groups", "delete", "developers", "-y"]).fails_with("has no group `developers`");
    env.stop().await;
}
