//! The dashboard's IdP sync pages: an organization's group and role sync, and organization
//! sync, shown to those who may read them (the links hidden otherwise), edited by those who may
//! update them, the domain's refusals (a role mapping above the editor, a bad mapping) shown
//! with their status; the settings the server flags give are marked as such.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client::{Web, enc};
use crate::fixtures::*;

fn groups_api(org: uuid::Uuid) -> String {
    format!("/api/v2/organizations/{org}/settings/idpsync/groups")
}
fn roles_api(org: uuid::Uuid) -> String {
    format!("/api/v2/organizations/{org}/settings/idpsync/roles")
}

both_backends!(sync_settings_pages_follow_permissions, |s: TestServer| async move {
    let org = s.default_org;
    let page_path = format!("/organizations/{org}/idp-sync");
    let owner = Web::of(&s, &s.owner);

    // The owner finds both pages and edits group sync (mapped groups shown by name).
    let orgs_page = owner.get("/organizations").await;
    assert!(orgs_page.body.contains("href=\"/idp-sync\""), "{}", orgs_page.body);
    let org_page = owner.get(&format!("/organizations/{org}")).await;
    assert!(org_page.body.contains("/idp-sync\">IdP sync</a>"), "{}", org_page.body);
    let page = owner.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Save group sync</button>"), "{}", page.body);
    let r = s
        .owner
        .send(
            reqwest::Method::POST,
            &format!("/api/v2/organizations/{org}/groups"),
            &json!({"name": "devs"}),
        )
        .await;
    let devs = uuid_of(&r.body["id"]);
    let mapping = json!({"developers": [devs]}).to_string();
    let form = format!(
        "field=teams&regex_filter={}&auto_create=on&mapping={}",
        enc("^team-"),
        enc(&mapping)
    );
    let saved = owner.post(&format!("{page_path}/groups"), &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("Group sync saved."), "{}", saved.body);
    assert!(saved.body.contains("<span class=\"chip\">devs</span>"), "{}", saved.body);
    let api = s.owner.get(&groups_api(org)).await.body;
    assert_eq!(
        api,
        json!({"field": "teams", "mapping": {"developers": [devs]}, "regex_filter": "^team-",
               "auto_create_missing_groups": true})
    );
    // A mapping that is not JSON is refused with a 400, the text kept.
    let bad = owner.post(&format!("{page_path}/groups"), "field=x&mapping=%7Bnope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("The mapping is not a JSON object of lists."), "{}", bad.body);
    assert!(bad.body.contains("{nope</textarea>"), "{}", bad.body);
    assert_eq!(s.owner.get(&groups_api(org)).await.body["field"], "teams");

    // An org user admin may edit, but not map a claim to a role above them (the domain's
    // 400, on the page); the org admin may.
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let ua = Web::of(&s, &user_admin);
    let escalate = format!(
        "field=roles&mapping={}",
        enc(&json!({"leads": ["organization-admin"]}).to_string())
    );
    let refused = ua.post(&format!("{page_path}/roles"), &escalate).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("not authorized to assign role"), "{}", refused.body);
    assert_eq!(s.owner.get(&roles_api(org)).await.body["field"], "");
    let (org_admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let oa = Web::of(&s, &org_admin);
    let done = oa.post(&format!("{page_path}/roles"), &escalate).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Role sync saved."), "{}", done.body);
    assert_eq!(
        s.owner.get(&roles_api(org)).await.body,
        json!({"field": "roles", "mapping": {"leads": ["organization-admin"]}})
    );
    // Neither may see organization sync: no link, and the page and its form are 403.
    for web in [&ua, &oa] {
        assert!(!web.get("/organizations").await.body.contains("href=\"/idp-sync\""));
        assert_eq!(web.get("/idp-sync").await.status, StatusCode::FORBIDDEN);
        let r = web.post("/idp-sync", "field=depts&mapping=").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }

    // A plain member: no link, the page and its forms refused.
    let (plain, _) = member(&s, org, &[], &[]).await;
    let pw = Web::of(&s, &plain);
    assert!(!pw.get(&format!("/organizations/{org}")).await.body.contains("/idp-sync"));
    assert_eq!(pw.get(&page_path).await.status, StatusCode::FORBIDDEN);
    let r = pw.post(&format!("{page_path}/roles"), "field=x&mapping=").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The owner sets organization sync.
    let (eng, eng_name) = create_org(&s).await;
    let form = format!("field=depts&mapping={}", enc(&json!({"eng": [eng]}).to_string()));
    let saved = owner.post("/idp-sync", &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("Organization sync saved."), "{}", saved.body);
    assert!(saved.body.contains(&format!("<span class=\"chip\">{eng_name}</span>")));
    assert_eq!(
        s.owner.get("/api/v2/settings/idpsync/organization").await.body,
        json!({"field": "depts", "mapping": {"eng": [eng]}, "organization_assign_default": false})
    );
    s.stop().await;
});

/// The default organization's group sync from `--oidc-group-*` is marked as the flags'
/// (legacy) until saved; organization sync from `--oidc-organization-*` likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_from_the_flags_are_marked() {
    let s = TestServer::start_with(Backend::Sqlite, |c| {
        c.oidc.oidc_group_field = "groups".into();
        c.oidc.oidc_group_mapping = BTreeMap::from([("idp-ops".to_owned(), "ops".to_owned())]);
        c.oidc.oidc_organization_field = "depts".into();
    })
    .await;
    let owner = Web::of(&s, &s.owner);
    let path = format!("/organizations/{}/idp-sync", s.default_org);
    let page = owner.get(&path).await;
    assert!(page.body.contains("legacy, from the server flags"), "{}", page.body);
    assert!(page.body.contains("(by name, from --oidc-group-mapping)"), "{}", page.body);
    let site = owner.get("/idp-sync").await;
    assert!(site.body.contains("from the server flags"), "{}", site.body);
    // Saved through the page: the database's settings, no marker.
    let saved = owner.post(&format!("{path}/groups"), "field=groups&mapping=").await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(!saved.body.contains("legacy, from the server flags"), "{}", saved.body);
    s.stop().await;
}
