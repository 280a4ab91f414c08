//! IdP sync at sign-in (issue 19, item 2): organizations, groups and org roles follow the
//! claims at every OIDC sign-in, against the in-process provider (edge cases: a claim missing,
//! a string instead of a list, a claim of the wrong type, the regex filter) and against a real
//! provider process (a claim removed between two sign-ins); manual edits that sync would undo
//! are refused; every sync change is audited with its claim.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;
use crate::fixtures::*;
use crate::mock_idp::MockIdp;
use crate::oidc::{browser_sign_in, server_with};

macro_rules! with_backends {
    ($name:ident, $body:expr) => {
        pub mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if postgres_base_url().is_none() {
                    return;
                }
                ($body)(Backend::Postgres).await;
            }
        }
    };
}

pub(crate) async fn patch(s: &TestServer, path: &str, body: Value) {
    let r = s.owner.send(Method::PATCH, path, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
}

pub(crate) async fn create_group(s: &TestServer, org: Uuid, name: &str) -> Uuid {
    let r = s
        .owner
        .send(Method::POST, &format!("/api/v2/organizations/{org}/groups"), &json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    uuid_of(&r.body["id"])
}

/// The names and sources of `user`'s groups in `org`, sorted.
pub(crate) async fn groups_of(s: &TestServer, org: Uuid, user: Uuid) -> Vec<(String, String)> {
    let r = s.owner.get(&format!("/api/v2/groups?organization={org}&has_member={user}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut out: Vec<(String, String)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"] != "Everyone")
        .map(|g| (g["name"].as_str().unwrap().to_owned(), g["source"].as_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

pub(crate) async fn orgs_of(s: &TestServer, user: Uuid) -> Vec<Uuid> {
    let r = s.owner.get(&format!("/api/v2/users/{user}")).await;
    let mut ids: Vec<Uuid> =
        r.body["organization_ids"].as_array().unwrap().iter().map(uuid_of).collect();
    ids.sort();
    ids
}

/// Signs in through the mock provider; the user's id.
pub(crate) async fn sign_in(s: &TestServer, idp: &MockIdp, sub: &str, claims: Value) -> Uuid {
    sign_in_session(s, idp, sub, claims).await.0
}

/// Signs in through the provider: the user's id and a client holding the new session.
async fn sign_in_session(
    s: &TestServer,
    idp: &MockIdp,
    sub: &str,
    claims: Value,
) -> (Uuid, Client) {
    idp.sign_in_as(sub, claims);
    let o = browser_sign_in(s, "").await;
    assert_eq!(o.status, StatusCode::TEMPORARY_REDIRECT, "{}", o.body);
    let client = s.anonymous().with_token(&o.session.unwrap());
    let me = client.get("/api/v2/users/me").await;
    (uuid_of(&me.body["id"]), client)
}

with_backends!(orgs_groups_and_roles_follow_the_claims, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    let home = s.default_org;
    let (eng, _) = create_org(&s).await;
    patch(
        &s,
        "/api/v2/settings/idpsync/organization",
        json!({"field": "orgs", "mapping": {"engineering": [eng, Uuid::new_v4()]},
               "organization_assign_default": true}),
    )
    .await;
    let devs = create_group(&s, home, "devs").await;
    let misc = create_group(&s, home, "misc").await;
    patch(&s, &format!("/api/v2/organizations/{home}/settings/idpsync/groups"),
        json!({"field": "groups", "mapping": {"developers": [devs]}, "regex_filter": "^(team-|developers$)",
               "auto_create_missing_groups": true})).await;
    let r = send_role(
        &s.owner,
        Method::POST,
        eng,
        &role_body("ci-runner", &[perm("template", "read")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    patch(
        &s,
        &format!("/api/v2/organizations/{eng}/settings/idpsync/roles"),
        json!({"field": "roles", "mapping": {"eng-admins": ["organization-admin"]}}),
    )
    .await;

    // A template only "devs" may use (Everyone taken off its ACL).
    let template = uuid_of(&create_template(&s.owner, home, json!({})).await["id"]);
    let acl = json!({"group_perms": {home.to_string(): "", devs.to_string(): "use"}});
    assert_eq!(patch_acl(&s.owner, template, &acl).await.status, StatusCode::OK);

    let claims = json!({"email": "kim@example.com", "groups": ["developers", "team-red", "other"],
        "orgs": ["engineering"], "roles": ["eng-admins", "ci-runner", "no-such-role"]});
    let (kim, kim_client) = sign_in_session(&s, &idp, "sub-kim", claims).await;
    let template_path = format!("/api/v2/templates/{template}");
    assert_eq!(kim_client.get(&template_path).await.status, StatusCode::OK);
    assert_eq!(orgs_of(&s, kim).await, {
        let mut v = vec![home, eng];
        v.sort();
        v
    });
    // Mapped by id, and created by name (source oidc); "other" fails the regex filter.
    assert_eq!(
        groups_of(&s, home, kim).await,
        [("devs".to_owned(), "user".to_owned()), ("team-red".to_owned(), "oidc".to_owned())]
    );
    let all = s.owner.get(&format!("/api/v2/organizations/{home}/groups")).await;
    assert!(!names(&all.body).contains(&"other".to_owned()));
    assert_eq!(org_roles(&s, eng, kim).await, ["ci-runner", "organization-admin"]);

    // Every change is audited as the system, naming the claim.
    let rows = s.owner.get("/api/v2/audit?q=resource_type:organization_member").await.body;
    let joined = rows["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "create" && r["organization_id"] == json!(eng))
        .unwrap()
        .clone();
    assert_eq!(joined["additional_fields"]["claim"], "orgs", "{joined}");
    assert_eq!(joined["additional_fields"]["claim_values"], json!(["engineering"]));
    assert!(joined["user"].is_null(), "{joined}");
    let rows = s.owner.get("/api/v2/audit?q=resource_type:group").await.body;
    let created = rows["audit_logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "create" && r["resource_target"] == "team-red")
        .unwrap()
        .clone();
    assert_eq!(created["additional_fields"]["idp_sync"], "groups", "{created}");

    // Manual edits sync would undo are refused.
    let (_, pat) = s.user_with_roles(&[]).await;
    let team_red = s.owner.get(&format!("/api/v2/organizations/{home}/groups/team-red")).await;
    let team_red = uuid_of(&team_red.body["id"]);
    for g in [team_red, devs] {
        let r = s
            .owner
            .send(Method::PATCH, &format!("/api/v2/groups/{g}"), &json!({"add_users": [pat.id]}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.message().contains("managed by IdP group sync (claim \"groups\")"),
            "{}",
            r.message()
        );
    }
    let r = s
        .owner
        .send(Method::PATCH, &format!("/api/v2/groups/{misc}"), &json!({"add_users": [kim]}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().contains("signs in through the identity provider"), "{}", r.message());
    let r = s
        .owner
        .send(Method::PATCH, &format!("/api/v2/groups/{misc}"), &json!({"add_users": [pat.id]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = set_org_roles(&s.owner, eng, kim, &["organization-auditor"]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "Cannot modify roles for OIDC users when role sync is enabled. This organization member's roles are managed by the identity provider. Have the user re-login to refresh their roles."
    );
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{eng}/members/{kim}"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.message().starts_with("Organization sync is enabled for OIDC users"),
        "{}",
        r.message()
    );
    // A password user is not synced: manual changes stay possible.
    add_member(&s, eng, pat.id).await;
    assert_eq!(
        set_org_roles(&s.owner, eng, pat.id, &["organization-auditor"]).await.status,
        StatusCode::OK
    );

    // Next sign-in: out of the IdP group and org, the roles claim gone.
    let kim2 =
        sign_in(&s, &idp, "sub-kim", json!({"email": "kim@example.com", "groups": ["team-red"]}))
            .await;
    assert_eq!(kim2, kim);
    assert_eq!(orgs_of(&s, kim).await, [home]);
    assert_eq!(groups_of(&s, home, kim).await, [("team-red".to_owned(), "oidc".to_owned())]);
    // Out of "devs", the template is gone for Kim's earlier session too (the cached session
    // heard of the change).
    assert_eq!(kim_client.get(&template_path).await.status, StatusCode::NOT_FOUND);
    // Back in the org with the roles claim missing: a plain member there.
    let claims = json!({"email": "kim@example.com", "orgs": "engineering"});
    sign_in(&s, &idp, "sub-kim", claims).await;
    assert!(orgs_of(&s, kim).await.contains(&eng));
    assert!(org_roles(&s, eng, kim).await.is_empty());
    assert!(groups_of(&s, home, kim).await.is_empty());
    s.stop().await;
});

with_backends!(sync_reads_claims_as_coder_does, |b: Backend| async move {
    let idp = MockIdp::start().await;
    let s = server_with(b, &idp, |_| {}).await;
    let home = s.default_org;
    patch(
        &s,
        &format!("/api/v2/organizations/{home}/settings/idpsync/groups"),
        json!({"field": "groups", "auto_create_missing_groups": true}),
    )
    .await;
    // A string is one value.
    let email = json!("lee@example.com");
    let lee = sign_in(&s, &idp, "sub-lee", json!({"email": email, "groups": "solo"})).await;
    assert_eq!(groups_of(&s, home, lee).await, [("solo".to_owned(), "oidc".to_owned())]);
    // A claim of the wrong type leaves the groups alone; the sign-in goes through.
    sign_in(&s, &idp, "sub-lee", json!({"email": email, "groups": 7})).await;
    assert_eq!(groups_of(&s, home, lee).await.len(), 1);
    // A missing claim means no groups.
    sign_in(&s, &idp, "sub-lee", json!({"email": email})).await;
    assert!(groups_of(&s, home, lee).await.is_empty());
    // An invalid group name is not created.
    sign_in(&s, &idp, "sub-lee", json!({"email": email, "groups": ["Bad Name!", "ok-name"]})).await;
    assert_eq!(groups_of(&s, home, lee).await, [("ok-name".to_owned(), "oidc".to_owned())]);

    // Organization sync refuses a sign-in whose organization claim cannot be read.
    patch(
        &s,
        "/api/v2/settings/idpsync/organization/config",
        json!({"field": "orgs", "assign_default": false}),
    )
    .await;
    idp.sign_in_as("sub-lee", json!({"email": email, "orgs": {"not": "a list"}}));
    let o = browser_sign_in(&s, "").await;
    assert_eq!(o.status, StatusCode::BAD_REQUEST, "{}", o.body);
    assert!(o.session.is_none());
    // Without assign-default and no mapped orgs, the user leaves the default org.
    sign_in(&s, &idp, "sub-lee", json!({"email": email, "orgs": []})).await;
    assert!(orgs_of(&s, lee).await.is_empty());

    // The fields and values seen at sign-ins.
    let fields = s.owner.get("/api/v2/settings/idpsync/available-fields").await.body;
    assert!(fields.as_array().unwrap().contains(&json!("orgs")), "{fields}");
    let values = s.owner.get("/api/v2/settings/idpsync/field-values?claimField=email").await.body;
    assert_eq!(values, json!(["lee@example.com"]));
    // The org's lists only count its members: lee left it.
    let r = s
        .owner
        .get(&format!("/api/v2/organizations/{home}/settings/idpsync/available-fields"))
        .await;
    assert_eq!(r.body, json!([]));
    s.stop().await;
});

/// Against a real provider process: groups, org roles and organizations from its claims, and
/// a group claim removed between two sign-ins takes the group away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_through_a_real_openid_provider() {
    use crate::oidc_provider::{provider, set_claims, sign_in as provider_sign_in};
    let Some(issuer) = provider() else { return };
    let for_server = issuer.clone();
    let s = TestServer::start_with(Backend::Sqlite, move |c| {
        c.oidc.oidc_issuer_url = Some(for_server);
        c.oidc.oidc_client_id = "atrium".into();
        c.oidc.oidc_client_secret = Some(atrium_server::config::Secret("atrium-secret".into()));
    })
    .await;
    let home = s.default_org;
    let (ops, _) = create_org(&s).await;
    patch(
        &s,
        "/api/v2/settings/idpsync/organization",
        json!({"field": "departments", "mapping": {"operations": [ops]},
               "organization_assign_default": true}),
    )
    .await;
    patch(
        &s,
        &format!("/api/v2/organizations/{home}/settings/idpsync/groups"),
        json!({"field": "groups", "auto_create_missing_groups": true}),
    )
    .await;
    patch(
        &s,
        &format!("/api/v2/organizations/{ops}/settings/idpsync/roles"),
        json!({"field": "roles", "mapping": {"ops-lead": ["organization-admin"]}}),
    )
    .await;
    let sub = unique("sub");
    let email = format!("{}@example.com", unique("rae"));
    set_claims(
        &issuer,
        &sub,
        json!({"email": email, "email_verified": true,
        "groups": ["platform", "oncall"], "departments": ["operations"], "roles": ["ops-lead"]}),
    )
    .await;
    let token = provider_sign_in(&s, &sub).await;
    let me = s.anonymous().with_token(&token).get("/api/v2/users/me").await;
    let rae = uuid_of(&me.body["id"]);
    assert_eq!(
        groups_of(&s, home, rae).await,
        [("oncall".to_owned(), "oidc".to_owned()), ("platform".to_owned(), "oidc".to_owned())]
    );
    assert!(orgs_of(&s, rae).await.contains(&ops));
    assert_eq!(org_roles(&s, ops, rae).await, ["organization-admin"]);
    // The provider drops "oncall" and the role: the next sign-in follows.
    set_claims(
        &issuer,
        &sub,
        json!({"email": email, "groups": ["platform"],
        "departments": ["operations"]}),
    )
    .await;
    provider_sign_in(&s, &sub).await;
    assert_eq!(groups_of(&s, home, rae).await, [("platform".to_owned(), "oidc".to_owned())]);
    assert!(org_roles(&s, ops, rae).await.is_empty());
    s.stop().await;
}
