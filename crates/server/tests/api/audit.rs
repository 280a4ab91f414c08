//! The audit log: one row per state-changing request, refusals included; who may read it.

use atrium_api::users::AuditLogResponse;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;

both_backends!(changes_and_refusals_are_audited, |s: TestServer| async move {
    let name = unique("aud");
    let r = s
        .owner
        .send(Method::POST, "/api/v2/users", &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let dup = s
        .owner
        .send(Method::POST, "/api/v2/users", &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let log: AuditLogResponse = s
        .owner
        .get_json(&format!(
            "/api/v2/audit?q=resource_type:user%20action:create%20resource_target:{name}"
        ))
        .await;
    assert_eq!(log.count, 2, "{:?}", log.audit_logs);
    let ok = log.audit_logs.iter().find(|a| a.status_code == 201).unwrap();
    assert_eq!(ok.resource_id.to_string(), id);
    assert_eq!(ok.resource_target, name);
    assert_eq!(ok.user.as_ref().unwrap().username, "owner");
    assert!(ok.diff.contains_key("username"));
    assert!(ok.diff.get("hashed_password").is_none_or(|d| d.secret && d.new.is_null()));
    assert!(log.audit_logs.iter().any(|a| a.status_code == 409));

    let logins: AuditLogResponse = s.owner.get_json("/api/v2/audit?q=action:login").await;
    assert!(logins.count >= 1);
    let paged: AuditLogResponse = s.owner.get_json("/api/v2/audit?limit=1").await;
    assert_eq!(paged.audit_logs.len(), 1);
    assert!(paged.count > 1);
    let bad = s.owner.get("/api/v2/audit?q=action:explode").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    s.stop().await;
});

both_backends!(audit_readers, |s: TestServer| async move {
    let (auditor, _) = s.user_with_roles(&["auditor"]).await;
    let all: AuditLogResponse = auditor.get_json("/api/v2/audit").await;
    assert!(all.count > 0);
    let (member, _) = s.user_with_roles(&[]).await;
    let r = member.get("/api/v2/audit").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.message(), "Forbidden.");
    s.stop().await;
});

both_backends!(org_auditors_read_only_their_orgs_rows, |s: TestServer| async move {
    let (org_b, _) = crate::fixtures::create_org(&s).await;
    let (auditor_b, _) = {
        let (client, user) = s.user_with_roles(&[]).await;
        crate::fixtures::add_member(&s, org_b, user.id).await;
        let r = crate::fixtures::set_org_roles(&s.owner, org_b, user.id, &["organization-auditor"])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (client, user)
    };
    let group = unique("audited");
    let r = crate::fixtures::create_group(&s.owner, org_b, &group).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let seen: AuditLogResponse = auditor_b.get_json("/api/v2/audit?limit=0").await;
    assert!(seen.count > 0);
    assert!(
        seen.audit_logs.iter().all(|a| a.organization_id == Some(org_b)),
        "an org auditor sees only its org's rows: {:?}",
        seen.audit_logs.iter().map(|a| (&a.resource_type, a.organization_id)).collect::<Vec<_>>()
    );
    assert!(
        seen.audit_logs.iter().any(|a| a.resource_type == "group" && a.resource_target == group)
    );
    // The owner sees those and the org-less rows too (user creation, logins).
    let all: AuditLogResponse = s.owner.get_json("/api/v2/audit").await;
    assert!(all.count > seen.count);
    assert!(all.audit_logs.iter().any(|a| a.organization_id.is_none()));
    s.stop().await;
});
