//! IdP sync settings (issue 19, item 2): who may read and change them (site-wide
//! `idpsync_settings` for organization sync, in the org for group and role sync; an org the
//! caller cannot see is 404, one they can see but not manage 403), Coder's shapes and
//! `/config` and `/mapping` patches, validation, and the audit rows. Sync at sign-in is in
//! `idp_sync_login`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

fn groups_path(org: Uuid) -> String {
    format!("/api/v2/organizations/{org}/settings/idpsync/groups")
}
fn roles_path(org: Uuid) -> String {
    format!("/api/v2/organizations/{org}/settings/idpsync/roles")
}
const ORG_SYNC: &str = "/api/v2/settings/idpsync/organization";

/// The audit rows of a resource type, newest first, as the owner sees them.
async fn audit_rows(s: &TestServer, resource_type: &str) -> Vec<Value> {
    let r = s.owner.get(&format!("/api/v2/audit?q=resource_type:{resource_type}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["audit_logs"].as_array().cloned().unwrap_or_default()
}

async fn last_audit(s: &TestServer, resource_type: &str) -> Value {
    audit_rows(s, resource_type).await.first().cloned().unwrap_or(Value::Null)
}

both_backends!(organization_sync_settings_need_site_permission, |s: TestServer| async move {
    // Coder's defaults: off, everyone kept in the default org.
    let r = s.owner.get(ORG_SYNC).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"field": "", "mapping": {}, "organization_assign_default": true}));
    let (member, _) = s.user_with_roles(&[]).await;
    assert_eq!(member.get(ORG_SYNC).await.status, StatusCode::FORBIDDEN);
    let r = member.send(Method::PATCH, ORG_SYNC, &json!({"field": "orgs"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // An organization admin manages their org, not deployment-wide settings.
    let (org_admin, _) = member_of_default(&s, &["organization-admin"]).await;
    assert_eq!(org_admin.get(ORG_SYNC).await.status, StatusCode::FORBIDDEN);

    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let (org, _) = create_org(&s).await;
    let body =
        json!({"field": "orgs", "mapping": {"eng": [org]}, "organization_assign_default": false});
    let r = user_admin.send(Method::PATCH, ORG_SYNC, &body).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &body));
    assert_eq!(s.owner.get(ORG_SYNC).await.body, body);
    // Config keeps the mapping; mapping patches add then remove (Coder's capitalized names).
    let r = user_admin
        .send(
            Method::PATCH,
            &format!("{ORG_SYNC}/config"),
            &json!({"field": "teams", "assign_default": true}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"field": "teams", "mapping": {"eng": [org]}, "organization_assign_default": true})
    );
    let other = Uuid::new_v4();
    let r = user_admin
        .send(
            Method::PATCH,
            &format!("{ORG_SYNC}/mapping"),
            &json!({"Add": [{"Given": "ops", "Gets": other}, {"Given": "eng", "Gets": org}],
                    "Remove": [{"Given": "eng", "Gets": org}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["mapping"], json!({"eng": [], "ops": [other]}));
    // Audited as Coder's resource type, with the old and new values.
    let row = last_audit(&s, "idp_sync_settings_organization").await;
    assert_eq!(row["action"], "write");
    assert_eq!(
        row["user"]["id"],
        json!(uuid_of(&user_admin.get("/api/v2/users/me").await.body["id"]))
    );
    assert!(row["diff"]["mapping"]["new"]["ops"].is_array(), "{row}");
    s.stop().await;
});

/// A fresh user holding `roles` in the default org.
async fn member_of_default(s: &TestServer, roles: &[&str]) -> (Client, atrium_api::users::User) {
    member(s, s.default_org, &[], roles).await
}

both_backends!(group_and_role_sync_settings_are_per_org, |s: TestServer| async move {
    let org = s.default_org;
    let empty_groups = json!({"field": "", "mapping": {}, "regex_filter": null,
        "auto_create_missing_groups": false});
    assert_eq!(s.owner.get(&groups_path(org)).await.body, empty_groups);
    assert_eq!(s.owner.get(&roles_path(org)).await.body, json!({"field": "", "mapping": {}}));

    let (plain, _) = member_of_default(&s, &[]).await;
    let (org_admin, admin_user) = member_of_default(&s, &["organization-admin"]).await;
    let (org_user_admin, _) = member_of_default(&s, &["organization-user-admin"]).await;
    for path in [groups_path(org), roles_path(org)] {
        assert_eq!(plain.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(org_admin.get(&path).await.status, StatusCode::OK, "{path}");
        assert_eq!(org_user_admin.get(&path).await.status, StatusCode::OK, "{path}");
        let r = plain.send(Method::PATCH, &path, &json!({"field": "x"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    // Another org: unseen is 404; seen (a plain member there) but not managed is 403.
    let (other, _) = create_org(&s).await;
    assert_eq!(org_admin.get(&groups_path(other)).await.status, StatusCode::NOT_FOUND);
    let r = org_admin.send(Method::PATCH, &roles_path(other), &json!({"field": "x"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    add_member(&s, other, admin_user.id).await;
    assert_eq!(org_admin.get(&groups_path(other)).await.status, StatusCode::FORBIDDEN);

    // A role mapping adds only roles its editor could assign by hand: the org user admin
    // cannot map a claim to organization-admin (and sign in to it); the org admin can.
    let escalate = json!({"field": "email", "mapping": {"me@example.com": ["organization-admin"]}});
    let r = org_user_admin.send(Method::PATCH, &roles_path(org), &escalate).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with("not authorized to assign role"), "{}", r.body);
    let r = org_user_admin
        .send(
            Method::PATCH,
            &format!("{}/mapping", roles_path(org)),
            &json!({"add": [{"given": "x", "gets": "organization-admin"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(s.owner.get(&roles_path(org)).await.body["mapping"], json!({}));
    let r = org_admin.send(Method::PATCH, &roles_path(org), &escalate).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        org_admin.send(Method::PATCH, &roles_path(org), &json!({"field": "", "mapping": {}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let group = Uuid::new_v4();
    let body = json!({"field": "groups", "mapping": {"devs": [group]}, "regex_filter": "^team-",
        "auto_create_missing_groups": true});
    let r = org_admin.send(Method::PATCH, &groups_path(org), &body).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &body));
    // The other org's settings are untouched.
    assert_eq!(s.owner.get(&groups_path(other)).await.body, empty_groups);
    let r = org_admin
        .send(
            Method::PATCH,
            &format!("{}/config", groups_path(org)),
            &json!({"field": "teams", "regex_filter": null, "auto_create_missing_groups": false}),
        )
        .await;
    assert_eq!(r.body["mapping"], json!({"devs": [group]}), "{}", r.body);
    assert_eq!((r.body["field"].as_str(), &r.body["regex_filter"]), (Some("teams"), &Value::Null));
    // Validation: a bad regular expression, and Coder's refusal of the legacy mapping.
    let r = org_admin
        .send(Method::PATCH, &groups_path(org), &json!({"field": "g", "regex_filter": "(["}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["validations"][0]["field"], "regex_filter");
    let r = org_admin
        .send(
            Method::PATCH,
            &groups_path(org),
            &json!({"field": "g", "legacy_group_name_mapping": {"a": "b"}}),
        )
        .await;
    assert_eq!(
        r.message(),
        "Unexpected field 'legacy_group_name_mapping'. Field not allowed, set to null or remove it."
    );

    let r = org_admin
        .send(
            Method::PATCH,
            &roles_path(org),
            &json!({"field": "roles", "mapping": {"Admins": ["organization-admin"]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = org_admin
        .send(
            Method::PATCH,
            &format!("{}/mapping", roles_path(org)),
            &json!({"Add": [{"Given": "Auditors", "Gets": "organization-auditor"}]}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"field": "roles", "mapping": {"Admins": ["organization-admin"],
            "Auditors": ["organization-auditor"]}})
    );
    let r = org_user_admin
        .send(Method::PATCH, &format!("{}/config", roles_path(org)), &json!({"field": ""}))
        .await;
    // The org user admin turns role sync off (the mapping stays; nothing is granted by it).
    assert_eq!(r.body["field"], "");
    assert_eq!(r.body["mapping"]["Admins"], json!(["organization-admin"]));

    // Audited: the refused changes (newest first), then the config change with its diff.
    let rows = audit_rows(&s, "idp_sync_settings_group").await;
    let statuses: Vec<i64> = rows.iter().filter_map(|r| r["status_code"].as_i64()).collect();
    assert!(statuses.starts_with(&[400, 400, 200, 200]), "{statuses:?}");
    assert_eq!(rows[2]["organization_id"], json!(org), "{}", rows[2]);
    assert_eq!(rows[2]["diff"]["field"], json!({"old": "groups", "new": "teams", "secret": false}));
    let row = last_audit(&s, "idp_sync_settings_role").await;
    assert_eq!(row["diff"]["field"]["new"], "", "{row}");
    s.stop().await;
});

both_backends!(claim_fields_need_read_permission, |s: TestServer| async move {
    let org = s.default_org;
    let (plain, _) = member_of_default(&s, &[]).await;
    let path = format!("/api/v2/organizations/{org}/settings/idpsync/available-fields");
    let r = plain.get(&path).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.message(), "You do not have permission to view the available IDP fields");
    assert_eq!(r.detail(), "idpsync_settings.read permission is required");
    assert_eq!(s.owner.get(&path).await.body, json!([]));
    let values = format!("/api/v2/organizations/{org}/settings/idpsync/field-values");
    let r = s.owner.get(&values).await;
    assert_eq!(
        (r.status, r.message()),
        (StatusCode::BAD_REQUEST, "claimField query parameter is required")
    );
    let r = plain.get(&format!("{values}?claimField=groups")).await;
    assert_eq!(r.message(), "You do not have permission to view the IDP claim field values");
    let r = s.owner.get("/api/v2/settings/idpsync/field-values?claimField=groups").await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &json!([])));
    s.stop().await;
});

both_backends!(the_role_claim_field_needs_every_grantable_role, |s: TestServer| async move {
    // The org admin maps a claim value to organization-admin; the org user admin (who may not
    // assign it) must not re-point that entry at a claim they control by changing the field,
    // nor turn sync on with a field of their choosing (an unmapped value naming an org role is
    // that role).
    let org = s.default_org;
    let (org_admin, _) = member_of_default(&s, &["organization-admin"]).await;
    let (org_user_admin, _) = member_of_default(&s, &["organization-user-admin"]).await;
    let set = json!({"field": "groups", "mapping": {"Admins": ["organization-admin"]}});
    let r = org_admin.send(Method::PATCH, &roles_path(org), &set).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let config = format!("{}/config", roles_path(org));
    let r = org_user_admin.send(Method::PATCH, &config, &json!({"field": "nickname"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.message().starts_with("not authorized to assign role"), "{}", r.body);
    assert!(r.detail().contains("changing its claim"), "{}", r.body);
    let repointed = json!({"field": "nickname", "mapping": {"Admins": ["organization-admin"]}});
    let r = org_user_admin.send(Method::PATCH, &roles_path(org), &repointed).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(s.owner.get(&roles_path(org)).await.body, set);
    // The same field is no change; turning sync off grants nothing and is allowed.
    let r = org_user_admin.send(Method::PATCH, &config, &json!({"field": "groups"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = org_user_admin.send(Method::PATCH, &config, &json!({"field": ""})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Turning it back on, even with no mapping, is the org admin's (or owner's) call.
    let r = org_user_admin.send(Method::PATCH, &config, &json!({"field": "groups"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = org_admin.send(Method::PATCH, &config, &json!({"field": "nickname"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["mapping"], set["mapping"]);
    let row = last_audit(&s, "idp_sync_settings_role").await;
    assert_eq!(row["diff"]["field"]["new"], "nickname", "{row}");
    s.stop().await;
});
