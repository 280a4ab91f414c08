//! IdP sync from the deployment flags (issue 19): `--oidc-group-*` are the default
//! organization's group sync ("legacy" in Coder) and `--oidc-organization-*` seed organization
//! sync, each only while no settings were stored through the API; the GET routes show what is
//! in effect. Against the in-process provider on both backends, and a real provider process.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::common::*;
use crate::fixtures::*;
use crate::idp_sync_login::{create_group, groups_of, orgs_of, patch, sign_in};
use crate::mock_idp::MockIdp;
use crate::oidc::server_with;

fn group_flags(c: &mut atrium_server::config::Config) {
    c.oidc.oidc_group_field = "groups".into();
    c.oidc.oidc_group_mapping = BTreeMap::from([("idp-ops".to_owned(), "ops".to_owned())]);
    c.oidc.oidc_group_auto_create = true;
    c.oidc.oidc_group_regex_filter = "^(ops|team-.*)$".into();
}

fn org_flags(c: &mut atrium_server::config::Config, org: Uuid) {
    c.oidc.oidc_organization_field = "depts".into();
    c.oidc.oidc_organization_mapping = BTreeMap::from([("eng".to_owned(), vec![org])]);
    c.oidc.oidc_organization_assign_default = false;
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

fn oidc_group(name: &str) -> (String, String) {
    (name.to_owned(), "oidc".to_owned())
}

async fn flags_apply_until_the_api_sets_settings(b: Backend) {
    let idp = MockIdp::start().await;
    let mut s = server_with(b, &idp, group_flags).await;
    let home = s.default_org;
    let (eng, _) = create_org(&s).await;
    s.restart(|c| org_flags(c, eng)).await;

    // The GET routes show the flags' settings: the default org's legacy group sync (not
    // another org's), and organization sync.
    let groups_path = format!("/api/v2/organizations/{home}/settings/idpsync/groups");
    let legacy = json!({"field": "groups", "mapping": {}, "regex_filter": "^(ops|team-.*)$",
        "auto_create_missing_groups": true, "legacy_group_name_mapping": {"idp-ops": "ops"}});
    assert_eq!(s.owner.get(&groups_path).await.body, legacy);
    let other = s.owner.get(&format!("/api/v2/organizations/{eng}/settings/idpsync/groups")).await;
    assert_eq!(other.body["field"], "");
    let org_sync = s.owner.get("/api/v2/settings/idpsync/organization").await.body;
    assert_eq!(
        org_sync,
        json!({"field": "depts", "mapping": {"eng": [eng]}, "organization_assign_default": false})
    );

    // A sign-in follows the organization flags: only the mapped org (no assign-default).
    let email = json!("flo@example.com");
    let claims = json!({"email": email, "groups": ["idp-ops", "team-a", "other"],
        "depts": ["eng"]});
    let flo = sign_in(&s, &idp, "sub-flo", claims).await;
    assert_eq!(orgs_of(&s, flo).await, [eng]);
    add_member_refused_while_org_sync_is_on(&s, home, flo).await;

    // Organization sync set through the API wins over the flags. Back in the default org,
    // the group flags apply: "idp-ops" is named "ops" before the filter, "other" fails the
    // filter, missing groups are created.
    patch(
        &s,
        "/api/v2/settings/idpsync/organization",
        json!({"field": "depts", "mapping": {}, "organization_assign_default": true}),
    )
    .await;
    let claims = json!({"email": email, "groups": ["idp-ops", "team-a", "other"],
        "depts": ["eng"]});
    sign_in(&s, &idp, "sub-flo", claims).await;
    assert_eq!(orgs_of(&s, flo).await, [home]);
    assert_eq!(groups_of(&s, home, flo).await, [oidc_group("ops"), oidc_group("team-a")]);

    // Group sync set through the API wins too (the config PATCH keeps the flags' name
    // mapping, as Coder's does; the full PATCH replaces everything).
    let r = s
        .owner
        .send(
            reqwest::Method::PATCH,
            &format!("{groups_path}/config"),
            &json!({"field": "groups", "regex_filter": null, "auto_create_missing_groups": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["legacy_group_name_mapping"], json!({"idp-ops": "ops"}));
    let devs = create_group(&s, home, "devs").await;
    patch(
        &s,
        &groups_path,
        json!({"field": "teams", "mapping": {"developers": [devs]}, "regex_filter": null,
               "auto_create_missing_groups": false}),
    )
    .await;
    let now = s.owner.get(&groups_path).await.body;
    assert_eq!(now["field"], "teams", "{now}");
    assert!(now.get("legacy_group_name_mapping").is_none(), "{now}");
    let claims = json!({"email": email, "groups": ["idp-ops", "team-b"], "teams": ["developers"],
        "depts": []});
    sign_in(&s, &idp, "sub-flo", claims).await;
    assert_eq!(groups_of(&s, home, flo).await, [("devs".to_owned(), "user".to_owned())]);
    s.stop().await;
}

/// Organization sync from the flags refuses manual membership edits as the API's does.
async fn add_member_refused_while_org_sync_is_on(s: &TestServer, org: Uuid, user: Uuid) {
    let r = add_member_by(&s.owner, org, user).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with("Organization sync is enabled"), "{}", r.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_apply_until_the_api_sets_settings_sqlite() {
    flags_apply_until_the_api_sets_settings(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_apply_until_the_api_sets_settings_postgres() {
    if postgres_base_url().is_none() {
        return;
    }
    flags_apply_until_the_api_sets_settings(Backend::Postgres).await;
}

/// Against a real provider process: the flags' group and organization sync at sign-in, then
/// settings stored through the API replacing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_through_a_real_openid_provider() {
    use crate::oidc_provider::{provider, set_claims, sign_in as provider_sign_in};
    let Some(issuer) = provider() else { return };
    let for_server = issuer.clone();
    let mut s = TestServer::start_with(Backend::Sqlite, move |c| {
        c.oidc.oidc_issuer_url = Some(for_server);
        c.oidc.oidc_client_id = "atrium".into();
        c.oidc.oidc_client_secret = Some(atrium_server::config::Secret("atrium-secret".into()));
        group_flags(c);
    })
    .await;
    let home = s.default_org;
    let (eng, _) = create_org(&s).await;
    s.restart(|c| {
        org_flags(c, eng);
        c.oidc.oidc_organization_assign_default = true;
    })
    .await;
    let sub = unique("sub");
    let email = format!("{}@example.com", unique("gus"));
    let claims = json!({"email": email, "email_verified": true,
        "groups": ["idp-ops", "team-x", "nope"], "depts": ["eng"]});
    set_claims(&issuer, &sub, claims).await;
    let token = provider_sign_in(&s, &sub).await;
    let me = s.anonymous().with_token(&token).get("/api/v2/users/me").await;
    let gus = uuid_of(&me.body["id"]);
    assert_eq!(orgs_of(&s, gus).await, sorted(vec![home, eng]));
    assert_eq!(groups_of(&s, home, gus).await, [oidc_group("ops"), oidc_group("team-x")]);

    // The API's settings replace the flags: organization sync without a mapping (only the
    // default org), group sync on another claim with no name mapping or filter.
    patch(
        &s,
        "/api/v2/settings/idpsync/organization",
        json!({"field": "depts", "mapping": {}, "organization_assign_default": true}),
    )
    .await;
    patch(
        &s,
        &format!("/api/v2/organizations/{home}/settings/idpsync/groups"),
        json!({"field": "teams", "auto_create_missing_groups": true}),
    )
    .await;
    let claims = json!({"email": email, "groups": ["idp-ops"], "teams": ["idp-ops"],
        "depts": ["eng"]});
    set_claims(&issuer, &sub, claims).await;
    provider_sign_in(&s, &sub).await;
    assert_eq!(orgs_of(&s, gus).await, [home]);
    assert_eq!(groups_of(&s, home, gus).await, [oidc_group("idp-ops")]);
    s.stop().await;
}
