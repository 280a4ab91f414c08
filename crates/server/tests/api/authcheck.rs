//! `POST /authcheck` as Coder has it (named checks → booleans), and Atrium's
//! `POST /authcheck/explain` (one check → the engine's decision with reasons in words).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

const BAN: &str = "organization-workspace-creation-ban";

both_backends!(authcheck_answers_named_checks, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (other_org, _) = create_org(&s).await;
    let (m, me) = member(&s, org, &[], &[]).await;

    // Several named checks in one request, one answer each.
    let r = m
        .send(
            Method::POST,
            "/api/v2/authcheck",
            &json!({"checks": {
                "create_here": {"object": workspace_in(org, "me"), "action": "create"},
                "start_here": {"object": workspace_in(org, "me"), "action": "start"},
                "create_elsewhere": {"object": workspace_in(other_org, "me"), "action": "create"},
                "read_owners": {"object": workspace_in(org, &s.owner_id.to_string()), "action": "read"},
                "read_org": {"object": {"resource_type": "organization", "organization_id": org}, "action": "read"},
            }}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"create_here": true, "start_here": true, "create_elsewhere": false,
               "read_owners": false, "read_org": true})
    );
    // An explicit owner id is the same as "me".
    assert!(authcheck(&m, &workspace_in(org, &me.id.to_string()), "create").await);

    // The creation ban in this org: create/delete denied, start/stop/read/update kept; the
    // default org is unaffected.
    let r = set_org_roles(&s.owner, org, me.id, &[BAN]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (action, allowed) in [
        ("create", false),
        ("delete", false),
        ("create_agent", false),
        ("start", true),
        ("stop", true),
        ("read", true),
        ("update", true),
        ("ssh", true),
    ] {
        assert_eq!(
            authcheck(&m, &workspace_in(org, "me"), action).await,
            allowed,
            "banned member, {action}"
        );
    }
    assert!(authcheck(&m, &workspace_in(s.default_org, "me"), "create").await);
    // Known quirk (rbac.md §9.6): "in any org" ignores org denies.
    let any_org_ws = json!({"resource_type": "workspace", "owner_id": "me", "any_org": true});
    assert!(authcheck(&m, &any_org_ws, "create").await);
    // The owner's site allow beats a ban.
    let (_, second_owner) = member(&s, org, &["owner"], &[BAN]).await;
    let r = s
        .owner
        .send(
            Method::POST,
            "/api/v2/authcheck/explain",
            &json!({"user_id": second_owner.id,
            "object": workspace_in(org, &second_owner.id.to_string()), "action": "create"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["allowed"], true, "{}", r.body);

    // "May create a template in some org?"
    let any_org_template = json!({"resource_type": "template", "any_org": true});
    assert!(authcheck(&s.owner, &any_org_template, "create").await);
    assert!(!authcheck(&m, &any_org_template, "create").await);
    let (org_template_admin, _) =
        member(&s, other_org, &[], &["organization-template-admin"]).await;
    assert!(authcheck(&org_template_admin, &any_org_template, "create").await);
    let (template_admin, _) = s.user_with_roles(&["template-admin"]).await;
    assert!(authcheck(&template_admin, &any_org_template, "create").await);

    // Bad input.
    let r = m
        .send(
            Method::POST,
            "/api/v2/authcheck",
            &json!({"checks": {"k": {"object": {"owner_id": "me"}, "action": "read"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Object's \"resource_type\" field must be defined for key \"k\".");
    let r = m
        .send(
            Method::POST,
            "/api/v2/authcheck",
            &json!({"checks": {"k": {"object": {"resource_type": "organization", "resource_id": org}, "action": "read"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Object type \"organization\" does not support \"resource_id\" field.");
    let r = m
        .send(
            Method::POST,
            "/api/v2/authcheck",
            &json!({"checks": {"k": {"object": {"resource_type": "spaceship"}, "action": "read"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an unknown type is bad input: {}", r.body);
    let anon = s.anonymous().send(Method::POST, "/api/v2/authcheck", &json!({"checks": {}})).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    s.stop().await;
});

both_backends!(explain_gives_the_decision_and_its_reasons, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (m, me) = member(&s, org, &[], &[BAN]).await;
    let (other, other_user) = member(&s, org, &[], &[]).await;
    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;

    let create = workspace_in(org, "me");
    let r = explain(&m, None, &create, "create").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["allowed"], false, "{}", r.body);
    let reasons: Vec<&str> =
        r.body["reasons"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!reasons.is_empty());
    assert!(reasons.iter().any(|x| x.contains(BAN)), "the ban is named: {reasons:?}");

    let r = explain(&m, None, &create, "start").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["allowed"], true, "{}", r.body);
    assert!(!r.body["reasons"].as_array().unwrap().is_empty(), "{}", r.body);
    // The same answer as /authcheck.
    assert!(!authcheck(&m, &create, "create").await);

    // About another user: the owner and a user admin may read their roles.
    let theirs = workspace_in(org, &me.id.to_string());
    for c in [&s.owner, &user_admin] {
        let r = explain(c, Some(me.id), &theirs, "create").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["allowed"], false);
        assert!(r.body["reasons"].to_string().contains(BAN), "{}", r.body);
        let r = explain(c, Some(me.id), &theirs, "start").await;
        assert_eq!(r.body["allowed"], true, "{}", r.body);
    }
    // The caller's own view differs: the owner may create there.
    let r = explain(&s.owner, None, &workspace_in(org, &me.id.to_string()), "create").await;
    assert_eq!(r.body["allowed"], true, "{}", r.body);
    // A plain member may not ask about someone else.
    let r = explain(&other, Some(me.id), &theirs, "create").await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.body);
    assert!(r.body.get("allowed").is_none(), "{}", r.body);
    // ...but may ask about themself by id.
    let r = explain(&other, Some(other_user.id), &workspace_in(org, "me"), "create").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["allowed"], true, "{}", r.body);

    // Bad input.
    let r = explain(&m, None, &json!({"owner_id": "me"}), "create").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = explain(&m, None, &create, "fly").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an unknown action is bad input: {}", r.body);
    s.stop().await;
});
