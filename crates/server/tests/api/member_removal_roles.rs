//! Removing a member takes their org roles with it, so it needs the right to unassign each:
//! an organization user admin may not unassign the creation ban or organization-admin, and
//! must not get there by removing the member and adding them back as a plain member.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

both_backends!(removing_a_member_needs_unassigning_their_roles, |s: TestServer| async move {
    let org = s.default_org;
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (org_admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let (banned, banned_user) =
        member(&s, org, &[], &["organization-workspace-creation-ban"]).await;
    let (_, admin_user) = member(&s, org, &[], &["organization-admin"]).await;
    let (_, plain_user) = member(&s, org, &[], &[]).await;
    let path = |id| format!("/api/v2/organizations/{org}/members/{id}");

    // Unassigning the ban by hand is refused, and so is removing its holder.
    let r = set_org_roles(&user_admin, org, banned_user.id, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    for held in [banned_user.id, admin_user.id] {
        let r = user_admin.send_empty(Method::DELETE, &path(held)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.message().starts_with("not authorized to assign role"), "{}", r.body);
    }
    assert_eq!(org_roles(&s, org, banned_user.id).await, ["organization-workspace-creation-ban"]);
    assert_eq!(org_roles(&s, org, admin_user.id).await, ["organization-admin"]);
    // So the ban still holds.
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let create = format!("/api/v2/organizations/{org}/members/me/workspaces");
    let r =
        banned.send(Method::POST, &create, &json!({"template_id": template, "name": "w"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // A plain member the org user admin may remove; the org admin removes the banned one.
    let r = user_admin.send_empty(Method::DELETE, &path(plain_user.id)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = org_admin.send_empty(Method::DELETE, &path(banned_user.id)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    s.stop().await;
});
