//! Several replicas on one PostgreSQL: each test starts a second (or third) `atrium server`
//! on the first one's database, each with its own pool, listener, session cache and workers.
//! Changes made on one replica must show on the other: the tests poll until they do and fail
//! only after a generous deadline (a loaded machine slows them, it cannot make them flaky; the
//! propagation delay itself is what `scripts/bench-http` measures).

use std::future::Future;
use std::time::{Duration, Instant};

use atrium_server::RunningServer;
use atrium_server::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{create_for, wait_status};

/// How long a change may take to show on another replica before the test fails (the target
/// is well under a second).
const DEADLINE: Duration = Duration::from_secs(30);

/// Another replica on `s`'s database.
async fn replica(s: &TestServer, tweak: impl FnOnce(&mut Config)) -> RunningServer {
    let mut config = s.config.clone();
    tweak(&mut config);
    atrium_server::start(config).await.expect("second replica starts")
}

/// `client`'s session, sent to `server` instead.
fn on(server: &RunningServer, client: &Client) -> Client {
    Client::new(&format!("http://{}", server.addr), client.token.clone())
}

/// Polls `check` until it holds; fails after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "{what}: not seen within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection to the test database itself (for what no route shows: the listener's
/// backend, the job rows of a dead replica, the audit rows).
async fn database(s: &TestServer) -> sqlx::PgPool {
    let url = &s.config.postgres_url.as_ref().expect("a PostgreSQL test").0;
    sqlx::PgPool::connect(url).await.expect("connect to the test database")
}

fn now_micros() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(now.as_micros()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_changes_on_one_replica_show_on_the_other() {
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let c = replica(&s, |c| c.provisioner_daemons = 0).await;
    let org = s.default_org;
    let (member_a, member) = s.user_with_roles(&[]).await;
    let member_b = on(&b, &member_a);
    let member_c = on(&c, &member_a);
    assert_eq!(member_c.get("/api/v2/users/me").await.status, StatusCode::OK);

    // A session made on A works on B.
    let me = member_b.get("/api/v2/users/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["id"], json!(member.id));

    // A site role granted and taken away on A.
    let users = json!({"resource_type": "user"});
    assert!(!authcheck(&member_b, &users, "create").await);
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/roles", member.id),
            &json!({"roles": ["user-admin"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("site role granted", || async { authcheck(&member_b, &users, "create").await })
        .await;
    let r = s
        .owner
        .send(Method::PUT, &format!("/api/v2/users/{}/roles", member.id), &json!({"roles": []}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("site role removed", || async { !authcheck(&member_b, &users, "create").await })
        .await;

    // A custom role held by the member, edited on A.
    let others = workspace_in(org, &s.owner_id.to_string());
    let role = unique("cr");
    let r = send_role(&s.owner, Method::POST, org, &role_body(&role, &[perm("workspace", "read")]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = set_org_roles(&s.owner, org, member.id, &[&role]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("custom role assigned", || async { authcheck(&member_b, &others, "read").await })
        .await;
    let r =
        send_role(&s.owner, Method::PUT, org, &role_body(&role, &[perm("workspace", "create")]))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("custom role edited", || async { !authcheck(&member_b, &others, "read").await })
        .await;

    // A group membership: the only way to a template closed to Everyone.
    let group = uuid_of(&create_group(&s.owner, org, &unique("g")).await.body["id"]);
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let acl = json!({"group_perms": {org.to_string(): "", group.to_string(): "use"}});
    assert_eq!(patch_acl(&s.owner, template, &acl).await.status, StatusCode::OK);
    let path = format!("/api/v2/templates/{template}");
    assert_eq!(member_b.get(&path).await.status, StatusCode::NOT_FOUND);
    let r = patch_group(&s.owner, group, &json!({"add_users": [member.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("group joined", || async { member_b.get(&path).await.status == StatusCode::OK })
        .await;
    let r = patch_group(&s.owner, group, &json!({"remove_users": [member.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("group left", || async {
        member_b.get(&path).await.status == StatusCode::NOT_FOUND
    })
    .await;

    // A token revoked on A.
    let r = member_a
        .send(Method::POST, "/api/v2/users/me/keys/tokens", &json!({"token_name": unique("t")}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = r.body["key"].as_str().unwrap().to_owned();
    let token_b = member_b.with_token(&token);
    assert_eq!(token_b.get("/api/v2/users/me").await.status, StatusCode::OK);
    let key_id = token.split('-').next().unwrap();
    let r = member_a.send_empty(Method::DELETE, &format!("/api/v2/users/me/keys/{key_id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("token revoked", || async {
        token_b.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
    })
    .await;

    // Suspension on A; the session is refused on B, and stays refused.
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", member.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // On the replica that made the change, at once.
    assert_eq!(member_a.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    eventually("suspension", || async {
        member_b.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    // And on a third replica.
    eventually("suspension on C", || async {
        member_c.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    for _ in 0..5 {
        assert_eq!(member_b.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    }
    c.stop().await;
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_views_follow_changes_made_on_another_replica() {
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (alice_a, _) = s.user_with_roles(&[]).await;
    let (bob_a, bob) = s.user_with_roles(&[]).await;
    let (alice_b, bob_b) = (on(&b, &alice_a), on(&b, &bob_a));
    let r = create_for(&alice_a, org, "me", template, "shared").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&alice_b, ws, "running").await;
    let path = format!("/api/v2/workspaces/{ws}");
    // Warm on B, changed on A.
    assert_eq!(alice_b.get(&path).await.body["name"], "shared");
    let r = alice_a.send(Method::PATCH, &path, &json!({"name": "moved"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("rename", || async { alice_b.get(&path).await.body["name"] == "moved" }).await;
    assert_eq!(bob_b.get(&path).await.status, StatusCode::NOT_FOUND);
    let acl = format!("/api/v2/workspaces/{ws}/acl");
    let r = alice_a
        .send(Method::PATCH, &acl, &json!({"user_roles": {bob.id.to_string(): "use"}}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("shared", || async { bob_b.get(&path).await.status == StatusCode::OK }).await;
    let r =
        alice_a.send(Method::PATCH, &acl, &json!({"user_roles": {bob.id.to_string(): ""}})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    eventually("unshared", || async { bob_b.get(&path).await.status == StatusCode::NOT_FOUND })
        .await;
    // A build queued on A, run by either replica: B's view follows it to the end.
    let r = crate::workspaces::build(&alice_a, ws, "stop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    eventually("stopped", || async {
        alice_b.get(&path).await.body["latest_build"]["status"] == "stopped"
    })
    .await;
    // What every view shows of its template and organization, changed on A: B's cached view
    // and its list page (served from the same cache) follow, well before a view's maximum
    // age would rebuild it.
    let list = "/api/v2/workspaces";
    let listed = alice_b.get(list).await.body;
    assert_eq!(listed["workspaces"][0]["id"], ws.to_string(), "{listed}");
    let r = s
        .owner
        .send(
            Method::PATCH,
            &format!("/api/v2/templates/{template}"),
            &json!({"display_name": "Shown"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .owner
        .send(Method::PATCH, &format!("/api/v2/organizations/{org}"), &json!({"name": "moved-org"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("template and organization renamed", || async {
        let view = alice_b.get(&path).await.body;
        let listed = alice_b.get(list).await.body;
        let first = &listed["workspaces"][0];
        view["template_display_name"] == "Shown"
            && view["organization_name"] == "moved-org"
            && first["template_display_name"] == "Shown"
            && first["organization_name"] == "moved-org"
    })
    .await;
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspaces_created_on_two_replicas_each_build_once() {
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let owner_b = on(&b, &s.owner);
    let mut created = Vec::new();
    for i in 0..20 {
        let by = if i % 2 == 0 { &s.owner } else { &owner_b };
        let r = create_for(by, org, "me", template, &format!("ws{i}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        created.push(uuid_of(&r.body["id"]));
    }
    for ws in &created {
        let done = wait_status(&s.owner, *ws, "running").await;
        let builds = s.owner.get(&format!("/api/v2/workspaces/{ws}/builds")).await;
        assert_eq!(builds.body.as_array().map(Vec::len), Some(1), "{}", builds.body);
        let build = done["latest_build"]["id"].as_str().unwrap();
        let logs = s.owner.get(&format!("/api/v2/workspacebuilds/{build}/logs")).await;
        let runs = logs
            .body
            .as_array()
            .unwrap_or_else(|| panic!("logs: {}", logs.body))
            .iter()
            .filter(|l| l["output"].as_str().is_some_and(|o| o.starts_with("Starting workspace")))
            .count();
        assert_eq!(runs, 1, "the build ran once: {}", logs.body);
    }
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replicas_queued_builds_are_finished_by_another() {
    let Some(mut s) = TestServer::start_postgres().await else { return };
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    // A runs no workers: its builds stay queued.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let mut queued = Vec::new();
    for i in 0..3 {
        let r = create_for(&s.owner, org, "me", template, &format!("q{i}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["latest_build"]["status"], "pending", "{}", r.body);
        queued.push(uuid_of(&r.body["id"]));
    }
    let mut config = s.config.clone();
    config.provisioner_daemons = 3;
    let owner = s.owner.clone();
    s.stop_server().await;
    let b = atrium_server::start(config).await.expect("replica B starts");
    let owner_b = on(&b, &owner);
    for ws in queued {
        wait_status(&owner_b, ws, "running").await;
    }
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_only_replica_fails_a_dead_replicas_running_jobs() {
    let Some(mut s) = TestServer::start_postgres().await else { return };
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    s.restart(|c| c.provisioner_daemons = 0).await;
    let r = create_for(&s.owner, org, "me", template, "orphan").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    // A replica that died while running it: claimed, last heartbeat 31 s ago.
    let db = database(&s).await;
    let beat = now_micros() - 31_000_000;
    let claimed = sqlx::query(
        "UPDATE provisioner_jobs SET started_at = $1, updated_at = $1, worker_id = 'dead-replica' \
         WHERE started_at IS NULL AND completed_at IS NULL",
    )
    .bind(beat)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(claimed.rows_affected(), 1);
    // Only an API-only replica is left.
    let b = replica(&s, |c| c.provisioner_daemons = 0).await;
    let owner_b = on(&b, &s.owner);
    s.stop_server().await;
    eventually("the dead replica's job failed", || async {
        let r = owner_b.get(&format!("/api/v2/workspaces/{ws}")).await;
        r.body["latest_build"]["status"] == "failed"
    })
    .await;
    let r = owner_b.get(&format!("/api/v2/workspaces/{ws}")).await;
    assert_eq!(
        r.body["latest_build"]["job"]["error"], "the provisioner worker stopped responding",
        "{}",
        r.body
    );
    db.close().await;
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dormancy_sweep_writes_each_change_once() {
    use atrium_server::domain::{DbTime, dormancy};
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    for _ in 0..4 {
        s.user_with_roles(&[]).await;
    }
    let users = s.owner.get("/api/v2/users").await;
    let active =
        users.body["users"].as_array().unwrap().iter().filter(|u| u["status"] == "active").count();
    assert!(active >= 5, "{}", users.body);
    let later = DbTime::now() + s.config.user_dormancy_period + Duration::from_secs(86_400);
    let (on_a, on_b) =
        tokio::join!(dormancy::sweep_at(s.domain(), later), dormancy::sweep_at(b.domain(), later));
    assert_eq!(on_a.unwrap() + on_b.unwrap(), active, "each user flipped once");
    let again =
        tokio::join!(dormancy::sweep_at(s.domain(), later), dormancy::sweep_at(b.domain(), later));
    assert_eq!(again.0.unwrap() + again.1.unwrap(), 0);
    let db = database(&s).await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_logs WHERE additional_fields LIKE '%dormancy%'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(usize::try_from(audited).unwrap(), active, "one audit row per change");
    db.close().await;
    b.stop().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_drops_the_caches_and_serves_nothing_stale() {
    use atrium_server::domain::replicas;
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let (member_a, member) = s.user_with_roles(&[]).await;
    let member_b = on(&b, &member_a);
    assert_eq!(member_b.get("/api/v2/users/me").await.status, StatusCode::OK);
    assert!(!b.domain().sessions.is_empty(), "B caches the session");
    let template = uuid_of(&create_template(&s.owner, s.default_org, json!({})).await["id"]);
    let r = create_for(&s.owner, s.default_org, "me", template, "cached").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    wait_status(&on(&b, &s.owner), ws, "running").await;
    assert!(!b.domain().workspace_views.is_empty(), "B caches the workspace view");

    // Kill every listener connection on this database (A's and B's).
    let db = database(&s).await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(killed.len() >= 2, "both listeners found: {killed:?}");
    // B drops what it cached (nothing else would have removed the entry).
    eventually("B's caches dropped", || async {
        b.domain().sessions.is_empty() && b.domain().workspace_views.is_empty()
    })
    .await;
    eventually("B's listener back", || async { replicas::live(b.domain()) }).await;

    // A change after the reconnection is seen, and no stale decision follows it.
    assert_eq!(member_b.get("/api/v2/users/me").await.status, StatusCode::OK);
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", member.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    eventually("suspension after reconnect", || async {
        member_b.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    for _ in 0..5 {
        assert_eq!(member_b.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    }
    db.close().await;
    b.stop().await;
    s.stop().await;
}

/// The cache at work on one replica: a cached session is refused at once after a change the
/// replica itself made, with no notification involved (SQLite has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_changing_replica_refuses_at_once_on_sqlite_too() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (member_c, member) = s.user_with_roles(&[]).await;
    assert_eq!(member_c.get("/api/v2/users/me").await.status, StatusCode::OK);
    assert!(!s.domain().sessions.is_empty());
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", member.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_c.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

/// `atrium reset-password` writes the database from outside the server (it revokes the user's
/// sessions): a SQLite server notices through the change records and drops the cached session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_from_outside_ends_cached_sessions_on_sqlite() {
    use atrium_server::domain::host::Host;
    let s = TestServer::start(Backend::Sqlite).await;
    let (member_c, member) = s.user_with_roles(&[]).await;
    assert_eq!(member_c.get("/api/v2/users/me").await.status, StatusCode::OK);
    assert!(!s.domain().sessions.is_empty());
    let host = Host::open_sqlite(&s.config.resolved_data_dir()).await.unwrap();
    host.reset_password(&member.username, format!("{PASSWORD}-new")).await.unwrap();
    host.close().await;
    eventually("the outside reset", || async {
        member_c.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    s.stop().await;
}

/// The same from outside on PostgreSQL: the command's write notifies every replica (its
/// triggers), so both A and B drop the cached session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_from_outside_ends_cached_sessions_on_postgres() {
    use atrium_server::domain::host::Host;
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let (member_a, member) = s.user_with_roles(&[]).await;
    let member_b = on(&b, &member_a);
    assert_eq!(member_a.get("/api/v2/users/me").await.status, StatusCode::OK);
    assert_eq!(member_b.get("/api/v2/users/me").await.status, StatusCode::OK);
    assert!(!b.domain().sessions.is_empty(), "B caches the session");
    let url = &s.config.postgres_url.as_ref().expect("a PostgreSQL test").0;
    let host = Host::open_postgres(url).await.unwrap();
    host.reset_password(&member.username, format!("{PASSWORD}-new")).await.unwrap();
    host.close().await;
    for (name, client) in [("A", &member_a), ("B", &member_b)] {
        eventually(&format!("the outside reset on {name}"), || async {
            client.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
        })
        .await;
    }
    b.stop().await;
    s.stop().await;
}

/// The suspension's propagation delay from A to B, over 20 tries: printed for the record
/// (the benchmark's job is to measure it under load); asserted only against the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_reaches_the_other_replica_promptly() {
    let Some(s) = TestServer::start_postgres().await else { return };
    let b = replica(&s, |_| {}).await;
    let (member_a, member) = s.user_with_roles(&[]).await;
    let member_b = on(&b, &member_a);
    let status = |action: &str| format!("/api/v2/users/{}/status/{action}", member.id);
    let mut delays = Vec::new();
    for _ in 0..20 {
        let r = s.owner.send_empty(Method::PUT, &status("activate")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        eventually("activation", || async {
            member_b.get("/api/v2/users/me").await.status == StatusCode::OK
        })
        .await;
        let r = s.owner.send_empty(Method::PUT, &status("suspend")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let start = Instant::now();
        eventually("suspension", || async {
            member_b.get("/api/v2/users/me").await.status == StatusCode::UNAUTHORIZED
        })
        .await;
        delays.push(start.elapsed());
    }
    delays.sort();
    eprintln!(
        "suspension A -> B over {} tries: p50 {:?}, max {:?}",
        delays.len(),
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    b.stop().await;
    s.stop().await;
}
