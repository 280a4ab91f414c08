//! Races on workspaces: parallel builds, and deletes racing creations. Each test asserts an
//! invariant that must hold whatever the interleaving, so it is deterministic under the fix.

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{build, create_for, wait_status};

both_backends!(parallel_builds_on_an_idle_workspace_queue_one, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r = create_for(&s.owner, org, "me", template, "busy").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&s.owner, ws, "running").await;
    // No workers from here on: the one build that is queued stays active.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let transitions: [&'static str; 8] =
        ["stop", "stop", "delete", "stop", "start", "delete", "stop", "delete"];
    let tasks: Vec<_> = transitions
        .into_iter()
        .map(|t| {
            let owner = s.owner.clone();
            tokio::spawn(async move { build(&owner, ws, t).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(r.message(), "A workspace build is already active."),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(created, 1, "exactly one of the parallel builds is queued");
    let builds = s.owner.get(&format!("/api/v2/workspaces/{ws}/builds")).await;
    assert_eq!(builds.body.as_array().unwrap().len(), 2, "{}", builds.body);
    s.stop().await;
});

both_backends!(deleting_a_user_never_races_past_a_workspace_creation, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    for trial in 0..8 {
        let (_, user) = s.user_with_roles(&[]).await;
        let owner = s.owner.clone();
        let name = user.username.clone();
        let create =
            tokio::spawn(async move { create_for(&owner, org, &name, template, "raced").await });
        let owner = s.owner.clone();
        let path = format!("/api/v2/users/{}", user.id);
        let delete = tokio::spawn(async move { owner.send_empty(Method::DELETE, &path).await });
        let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
        match (created.status, deleted.status) {
            (StatusCode::CREATED, StatusCode::EXPECTATION_FAILED) => {}
            (c, StatusCode::OK) => assert_ne!(c, StatusCode::CREATED, "trial {trial}"),
            (c, d) => {
                panic!("trial {trial}: create {c} {}, delete {d} {}", created.body, deleted.body)
            }
        }
        // Whatever won, no deleted user owns a live workspace.
        let gone = deleted.status == StatusCode::OK;
        let listed = s.owner.get(&format!("/api/v2/workspaces?q=owner:{}", user.username)).await;
        assert_eq!(
            listed.body["count"],
            if gone { 0 } else { 1 },
            "trial {trial}: {}",
            listed.body
        );
    }
    s.stop().await;
});

both_backends!(
    deleting_a_template_never_races_past_a_workspace_creation,
    |s: TestServer| async move {
        let org = s.default_org;
        for trial in 0..4 {
            let template: Uuid = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
            let owner = s.owner.clone();
            let create =
                tokio::spawn(
                    async move { create_for(&owner, org, "me", template, &unique("w")).await },
                );
            let owner = s.owner.clone();
            let delete = tokio::spawn(async move {
                owner.send_empty(Method::DELETE, &format!("/api/v2/templates/{template}")).await
            });
            let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
            match (created.status, deleted.status) {
                (StatusCode::CREATED, StatusCode::BAD_REQUEST) => assert_eq!(
                    deleted.message(),
                    "All workspaces must be deleted before a template can be removed."
                ),
                (c, StatusCode::OK) => assert_ne!(c, StatusCode::CREATED, "trial {trial}"),
                (c, d) => panic!(
                    "trial {trial}: create {c} {}, delete {d} {}",
                    created.body, deleted.body
                ),
            }
        }
        s.stop().await;
    }
);

both_backends!(parallel_acl_edits_lose_no_grant, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r = create_for(&s.owner, org, "me", template, "shared").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let mut grantees = Vec::new();
    for _ in 0..6 {
        grantees.push(s.user_with_roles(&[]).await.1.id);
    }
    // Each edit adds one grantee (a merge): read-modify-write under the workspace's lock, so
    // none overwrites another's.
    let tasks: Vec<_> = grantees
        .iter()
        .map(|id| {
            let (owner, acl, id) = (s.owner.clone(), acl.clone(), id.to_string());
            tokio::spawn(async move {
                owner.send(Method::PATCH, &acl, &json!({"user_roles": {id: "use"}})).await
            })
        })
        .collect();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    let shown = s.owner.get(&acl).await;
    let users = shown.body["users"].as_array().unwrap();
    assert_eq!(users.len(), grantees.len(), "{}", shown.body);
    s.stop().await;
});

both_backends!(clearing_an_acl_never_races_past_an_edit, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r = create_for(&s.owner, org, "me", template, "cleared").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    for trial in 0..8 {
        let old = s.user_with_roles(&[]).await.1.id;
        let new = s.user_with_roles(&[]).await.1.id;
        let r = s
            .owner
            .send(Method::PATCH, &acl, &json!({"user_roles": {old.to_string(): "use"}}))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        // An edit (adding `new`, a merge) races a clear. Both lock the workspace, so the edit
        // either runs first and is cleared, or runs after the clear and keeps only `new`; the
        // grant the edit read (`old`) never comes back.
        let (owner, path) = (s.owner.clone(), acl.clone());
        let edit = tokio::spawn(async move {
            owner.send(Method::PATCH, &path, &json!({"user_roles": {new.to_string(): "use"}})).await
        });
        let (owner, path) = (s.owner.clone(), acl.clone());
        let clear = tokio::spawn(async move { owner.send_empty(Method::DELETE, &path).await });
        for r in [edit.await.unwrap(), clear.await.unwrap()] {
            assert_eq!(r.status, StatusCode::NO_CONTENT, "trial {trial}: {}", r.body);
        }
        let shown = s.owner.get(&acl).await;
        let users: Vec<Uuid> =
            shown.body["users"].as_array().unwrap().iter().map(|u| uuid_of(&u["id"])).collect();
        assert!(users.is_empty() || users == [new], "trial {trial}: {}", shown.body);
    }
    s.stop().await;
});
