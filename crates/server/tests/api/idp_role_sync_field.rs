//! Role sync takes a claim value with no mapping entry as a role name (Coder), so the claim it
//! reads decides which roles sign-ins grant. An organization user admin may edit role sync
//! (`idpsync_settings`) but not assign `organization-admin`: turning sync on, pointing it at
//! another claim, or dropping a mapping entry whose value names a role would hand them (or
//! anyone whose claim they can shape) that role at the next sign-in. Each is refused like a
//! mapping to the role; turning sync off stays theirs.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;
use crate::fixtures::*;
use crate::mock_idp::MockIdp;
use crate::oidc::{browser_sign_in, server_with};

fn roles_path(org: Uuid) -> String {
    format!("/api/v2/organizations/{org}/settings/idpsync/roles")
}

async fn patch(by: &Client, path: &str, body: Value) -> Reply {
    by.send(Method::PATCH, path, &body).await
}

fn assert_refused(r: &Reply) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with("not authorized to assign role"), "{}", r.body);
}

async fn turning_on_role_sync_needs_every_org_role(b: Backend) {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    let org = s.default_org;
    let path = roles_path(org);
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (org_admin, _) = member(&s, org, &[], &["organization-admin"]).await;

    // Sync off: the org user admin cannot turn it on, by /config or by a full replace.
    assert_refused(&patch(&user_admin, &format!("{path}/config"), json!({"field": "roles"})).await);
    assert_refused(&patch(&user_admin, &path, json!({"field": "roles", "mapping": {}})).await);
    assert_eq!(s.owner.get(&path).await.body, json!({"field": "", "mapping": {}}));
    // So a claim naming organization-admin grants nothing.
    idp.sign_in_as("sub-ann", json!({"email": "ann@example.com", "roles": ["organization-admin"]}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(o.status, StatusCode::TEMPORARY_REDIRECT, "{}", o.body);
    let ann = s.anonymous().with_token(&o.session.unwrap());
    let ann_id = uuid_of(&ann.get("/api/v2/users/me").await.body["id"]);
    assert!(org_roles(&s, org, ann_id).await.is_empty());

    // The org admin (who may assign every org role) turns it on, with a value named like a role
    // mapped to something smaller.
    let on = json!({"field": "roles", "mapping": {"organization-admin": ["organization-auditor"]}});
    let r = patch(&org_admin, &path, on.clone()).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &on));
    // The org user admin can neither move it to another claim nor drop that entry (the value
    // would then pass through as organization-admin); both leave the settings as they were.
    assert_refused(&patch(&user_admin, &format!("{path}/config"), json!({"field": "nick"})).await);
    assert_refused(&patch(&user_admin, &path, json!({"field": "roles", "mapping": {}})).await);
    assert_eq!(s.owner.get(&path).await.body, on);
    // Turning it off is still theirs; on again is not.
    let r = patch(&user_admin, &format!("{path}/config"), json!({"field": ""})).await;
    assert_eq!((r.status, &r.body["field"]), (StatusCode::OK, &json!("")), "{}", r.body);
    assert_refused(&patch(&user_admin, &format!("{path}/config"), json!({"field": "roles"})).await);

    // The org admin may turn it on again.
    let r = patch(&org_admin, &format!("{path}/config"), json!({"field": "roles"})).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &on));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    turning_on_role_sync_needs_every_org_role(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if postgres_base_url().is_none() {
        return;
    }
    turning_on_role_sync_needs_every_org_role(Backend::Postgres).await;
}
