//! The caches behind sessions and workspace views, on one server: a warm authorized
//! `GET /workspaces/{id}` runs no statement at all, and every change made through the API shows
//! on the very next request (the committing transaction invalidates before it answers).

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::logs::{count_statements, statements};
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{build, create_for, wait_status};

/// The statements a probed `GET path` costs as `by` (0 when none ran).
async fn cost(by: &Client, path: &str) -> (StatusCode, u64) {
    let probe = unique("probe");
    let r = by.get(&format!("{path}?statement_probe={probe}")).await;
    (r.status, statements(&probe))
}

/// The statements of a read that misses the view cache, then of the same read again. A
/// change the build made may reach the cache late (the SQLite poll, a notification) and drop
/// the view between the two reads, or discard the first read's fill: only then is the pair
/// measured again, so a warm read that runs a statement without one still fails.
async fn cold_then_warm(s: &TestServer, by: &Client, path: &str) -> (u64, u64) {
    let views = &s.domain().workspace_views;
    let mut tries = 0;
    loop {
        views.flush();
        let before = views.invalidations();
        let (status, cold) = cost(by, path).await;
        assert_eq!(status, StatusCode::OK);
        let (status, warm) = cost(by, path).await;
        assert_eq!(status, StatusCode::OK);
        tries += 1;
        if views.invalidations() == before || tries == 20 {
            return (cold, warm);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

both_backends!(a_warm_workspace_read_runs_no_statement, |s: TestServer| async move {
    count_statements();
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let r = create_for(&s.owner, org, "me", template, "warm").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&s.owner, ws, "running").await;
    let path = format!("/api/v2/workspaces/{ws}");
    // The session is warm (the requests above: `GET /users/me` costs nothing then); the
    // workspace's view is dropped, so the next read misses it: one statement reads everything
    // the view and the check need.
    assert_eq!(cost(&s.owner, "/api/v2/users/me").await, (StatusCode::OK, 0));
    let (cold, warm) = cold_then_warm(&s, &s.owner, &path).await;
    assert_eq!(cold, 1, "a workspace read that misses the view cache costs one statement");
    assert_eq!(warm, 0, "a warm read costs nothing");
    // A reader it is shared with, and a dormant workspace's, miss the same way.
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    let acl = json!({"user_roles": {bob_user.id.to_string(): "use"}});
    let r = s.owner.send(Method::PATCH, &format!("{path}/acl"), &acl).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(cost(&bob, "/api/v2/users/me").await.0, StatusCode::OK);
    assert_eq!(cold_then_warm(&s, &bob, &path).await, (1, 0));
    s.stop().await;
});

both_backends!(a_session_miss_costs_few_statements, |s: TestServer| async move {
    count_statements();
    assert_eq!(cost(&s.owner, "/api/v2/users/me").await.0, StatusCode::OK);
    s.domain().sessions.flush();
    let (status, cold) = cost(&s.owner, "/api/v2/users/me").await;
    assert_eq!(status, StatusCode::OK);
    // The key, the user, and the subject's facts (one statement); activity is written later.
    eprintln!("a session miss on GET /users/me cost {cold} statements");
    assert!(cold <= 3, "a session miss cost {cold} statements");
    assert_eq!(cost(&s.owner, "/api/v2/users/me").await, (StatusCode::OK, 0));
    s.stop().await;
});

both_backends!(changes_show_on_the_next_cached_read, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice, _) = s.user_with_roles(&[]).await;
    let (bob, bob_user) = s.user_with_roles(&[]).await;
    let r = create_for(&alice, org, "me", template, "mine").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&alice, ws, "running").await;
    let path = format!("/api/v2/workspaces/{ws}");
    let get = |c: &Client| {
        let c = c.clone();
        let path = path.clone();
        async move { c.get(&path).await }
    };
    assert_eq!(get(&alice).await.body["name"], "mine");

    // A rename, a build, its job finishing.
    let r = alice.send(Method::PATCH, &path, &json!({"name": "renamed"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(get(&alice).await.body["name"], "renamed");
    let r = build(&alice, ws, "stop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(get(&alice).await.body["latest_build"]["transition"], "stop");
    wait_status(&alice, ws, "stopped").await;

    // Sharing granted and taken back.
    assert_eq!(get(&bob).await.status, StatusCode::NOT_FOUND);
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let grant = |user: Uuid, role: &str| json!({"user_roles": {user.to_string(): role}});
    let r = alice.send(Method::PATCH, &acl, &grant(bob_user.id, "use")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(get(&bob).await.status, StatusCode::OK);
    let r = alice.send(Method::PATCH, &acl, &grant(bob_user.id, "")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(get(&bob).await.status, StatusCode::NOT_FOUND);

    // The template renamed: the view shows the new name.
    let r = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Shown"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get(&alice).await.body["template_display_name"], "Shown");

    // The list page reads its misses with `get_many`: the same view as the single read above,
    // and the same view it then serves warm.
    let single = get(&alice).await.body;
    let r = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Shown again"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cold = alice.get("/api/v2/workspaces").await.body;
    assert_eq!(cold["count"], 1, "{cold}");
    let mut expected = single.clone();
    expected["template_display_name"] = json!("Shown again");
    expected["latest_build"]["job"]["metadata"]["template_display_name"] = json!("Shown again");
    assert_eq!(cold["workspaces"][0], expected);
    assert_eq!(alice.get("/api/v2/workspaces").await.body, cold);
    assert_eq!(get(&alice).await.body, expected);
    s.stop().await;
});

both_backends!(activity_on_cached_sessions_is_still_written, |s0: TestServer| async move {
    let backend = s0.backend;
    s0.stop().await;
    // A 10 s dormancy period: activity is written at most once a second.
    let s = TestServer::start_with(backend, |c| {
        c.user_dormancy_period = std::time::Duration::from_secs(10);
        c.user_dormancy_interval = std::time::Duration::from_secs(86_400);
    })
    .await;
    let (member, user) = s.user_with_roles(&[]).await;
    let seen = || async {
        let u: atrium_api::users::User =
            s.owner.get_json(&format!("/api/v2/users/{}", user.id)).await;
        u.last_seen_at.expect("seen")
    };
    assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::OK);
    let first = seen().await;
    // Served from the cache from here on; the activity is queued and written in batches.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < until {
        assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let later = seen().await;
    assert!(
        (later - first).whole_milliseconds() >= 1000,
        "last_seen_at moved from {first} to {later}"
    );
    s.stop().await;
});
