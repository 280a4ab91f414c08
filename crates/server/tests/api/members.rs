//! Organization members: add, list (plain and paginated), remove, and replacing a member's org
//! roles under the engine's assignment rules (rbac.md §4). Every refusal is followed by reading
//! the roles back.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

fn find(list: &[Value], user: Uuid) -> Option<&Value> {
    list.iter().find(|m| uuid_of(&m["user_id"]) == user)
}

both_backends!(add_list_page_and_remove_members, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (_, alice) = s.user_with_roles(&["auditor"]).await;
    let (_, bob) = s.user_with_roles(&[]).await;
    let before = members(&s, org).await.len();

    let r = add_member_by(&s.owner, org, alice.id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuid_of(&r.body["user_id"]), alice.id);
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    assert_eq!(
        r.body["roles"],
        serde_json::json!([]),
        "organization-member is implicit, never listed"
    );
    assert!(r.body["created_at"].is_string(), "{}", r.body);

    let dup = add_member_by(&s.owner, org, alice.id).await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST, "{}", dup.body);
    assert_eq!(dup.message(), "Organization member already exists in this organization");
    assert_eq!(members(&s, org).await.len(), before + 1);
    // {user} accepts a username too.
    let r = s
        .owner
        .send_empty(Method::POST, &format!("/api/v2/organizations/{org}/members/{}", bob.username))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuid_of(&r.body["user_id"]), bob.id);

    let list = members(&s, org).await;
    assert_eq!(list.len(), before + 2);
    let a = find(&list, alice.id).unwrap();
    assert_eq!(a["username"], alice.username.as_str());
    assert_eq!(a["email"], alice.email.as_str());
    assert_eq!(uuid_of(&a["organization_id"]), org);
    assert_eq!(a["roles"], serde_json::json!([]));
    assert_eq!(names(&a["global_roles"]), ["auditor"]);
    let b = find(&list, bob.id).unwrap();
    assert!(names(&b["global_roles"]).is_empty(), "{b}");

    let page = s.owner.get(&format!("/api/v2/organizations/{org}/paginated-members?limit=1")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["count"], list.len());
    let second = s
        .owner
        .get(&format!("/api/v2/organizations/{org}/paginated-members?limit=1&offset=1"))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_ne!(page.body["members"][0]["user_id"], second.body["members"][0]["user_id"]);

    // The single-member route.
    let one = s.owner.get(&format!("/api/v2/organizations/{org}/members/{}", alice.username)).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(uuid_of(&one.body["user_id"]), alice.id);

    let del = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", bob.id))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.body);
    let list = members(&s, org).await;
    assert!(find(&list, bob.id).is_none(), "{list:?}");
    assert_eq!(list.len(), before + 1);
    let bob_now = s.owner.get(&format!("/api/v2/users/{}", bob.id)).await;
    assert_eq!(bob_now.body["organization_ids"], serde_json::json!([s.default_org]));
    s.stop().await;
});

both_backends!(who_may_see_and_add_members, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (plain, me) = member(&s, org, &[], &[]).await;
    let (auditor, _) = member(&s, org, &[], &["organization-auditor"]).await;
    let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let (outsider, _) = s.user_with_roles(&[]).await;
    let (_, newcomer) = s.user_with_roles(&[]).await;
    let all = members(&s, org).await.len();

    // A plain member reads only their own membership row (organization_member read is a
    // user-level grant of `member`; organization-member grants none).
    let r = plain.get(&format!("/api/v2/organizations/{org}/members")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rows = r.body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", r.body);
    assert_eq!(uuid_of(&rows[0]["user_id"]), me.id);
    // The org auditor reads them all; an outsider cannot read the org at all.
    let r = auditor.get(&format!("/api/v2/organizations/{org}/members")).await;
    assert_eq!(r.body.as_array().unwrap().len(), all, "{}", r.body);
    let r = outsider.get(&format!("/api/v2/organizations/{org}/members")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Adding: a plain member and an org auditor are refused; an org admin may (site user:read).
    for (who, c) in [("plain", &plain), ("org auditor", &auditor), ("outsider", &outsider)] {
        let r = add_member_by(c, org, newcomer.id).await;
        assert!(r.status.is_client_error(), "{who}: {} {}", r.status, r.body);
        assert!(find(&members(&s, org).await, newcomer.id).is_none(), "{who} added a member");
    }
    let r = add_member_by(&admin, org, newcomer.id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(members(&s, org).await.len(), all + 1);

    // Removing: a plain member may not remove someone else.
    let r = plain
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", newcomer.id))
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert!(find(&members(&s, org).await, newcomer.id).is_some());
    let r = admin
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/{}", newcomer.id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(find(&members(&s, org).await, newcomer.id).is_none());
    s.stop().await;
});

both_backends!(org_roles_are_replaced_by_those_who_may_assign_them, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (admin, admin_user) = member(&s, org, &[], &["organization-admin"]).await;
    let (_, target) = member(&s, org, &[], &[]).await;
    let custom = "cr-readers";
    let r =
        send_role(&s.owner, Method::POST, org, &role_body(custom, &[perm("workspace", "read")]))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The org admin hands out built-ins, the creation ban and a custom role.
    let wanted = ["organization-workspace-creation-ban", "organization-auditor", custom];
    let r = set_org_roles(&admin, org, target.id, &wanted).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(uuid_of(&r.body["user_id"]), target.id);
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    assert_eq!(names(&r.body["roles"]), sorted(&wanted));
    assert_eq!(org_roles(&s, org, target.id).await, sorted(&wanted));
    let user_roles = s.owner.get(&format!("/api/v2/users/{}/roles", target.id)).await;
    assert_eq!(user_roles.status, StatusCode::OK, "{}", user_roles.body);
    let mut in_org: Vec<String> = user_roles.body["organization_roles"][org.to_string()]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    in_org.sort();
    assert_eq!(in_org, sorted(&wanted));

    // Nobody changes their own org roles.
    let r = set_org_roles(&admin, org, admin_user.id, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "You cannot change your own organization roles.");
    assert_eq!(r.detail(), "Another user with the appropriate permissions must change your roles.");
    assert_eq!(org_roles(&s, org, admin_user.id).await, ["organization-admin"]);

    // Wrong scope and unknown names.
    let r = set_org_roles(&s.owner, org, target.id, &["owner"]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Must only update org roles");
    let r = set_org_roles(&s.owner, org, target.id, &["wizard"]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), format!("\"wizard:{org}\" is not a supported role"));
    let suffixed = format!("organization-auditor:{org}");
    let r = set_org_roles(&s.owner, org, target.id, &[suffixed.as_str()]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        format!("attempt to assign a role \"{suffixed}\", remove the ':<organization_id> suffix")
    );
    assert_eq!(org_roles(&s, org, target.id).await, sorted(&wanted));

    // The owner replaces the set: what is left out is removed.
    let r = set_org_roles(&s.owner, org, target.id, &[custom]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(org_roles(&s, org, target.id).await, [custom]);
    s.stop().await;
});

both_backends!(assignment_is_checked_on_the_change_only, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (org_auditor, _) = member(&s, org, &[], &["organization-auditor"]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let (other_admin, _) = member(&s, s.default_org, &[], &["organization-admin"]).await;
    let (_, banned) = member(&s, org, &[], &["organization-workspace-creation-ban"]).await;
    let (_, fresh) = member(&s, org, &[], &[]).await;

    // The org user admin passes the RBAC step (assign on assign_org_role) but the static table
    // lets them hand out only organization-member.
    let r = set_org_roles(&user_admin, org, fresh.id, &["organization-auditor"]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        format!("not authorized to assign role \"organization-auditor:{org}\"")
    );
    assert!(org_roles(&s, org, fresh.id).await.is_empty());
    // Removing a role they could not give is refused the same way...
    let r = set_org_roles(&user_admin, org, banned.id, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        format!("not authorized to assign role \"organization-workspace-creation-ban:{org}\"")
    );
    assert_eq!(org_roles(&s, org, banned.id).await, ["organization-workspace-creation-ban"]);
    // ...but re-sending the current set (plus the implied member role) changes nothing and passes.
    let r = set_org_roles(
        &user_admin,
        org,
        banned.id,
        &["organization-workspace-creation-ban", "organization-member"],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "only the difference is checked: {}", r.body);
    assert_eq!(org_roles(&s, org, banned.id).await, ["organization-workspace-creation-ban"]);

    // An org auditor can read the members but holds no assign permission: 403.
    let r = set_org_roles(&org_auditor, org, fresh.id, &["organization-auditor"]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Forbidden.");
    // A plain member cannot even read another member's row (404) or is refused (403).
    let r = set_org_roles(&plain, org, fresh.id, &["organization-auditor"]).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.body);
    // An org admin of another org cannot read this org.
    let r = set_org_roles(&other_admin, org, fresh.id, &["organization-auditor"]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(org_roles(&s, org, fresh.id).await.is_empty());

    // A user admin (site) may add only the implied role too.
    let (site_user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let r = set_org_roles(&site_user_admin, org, fresh.id, &["organization-admin"]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), format!("not authorized to assign role \"organization-admin:{org}\""));
    assert!(org_roles(&s, org, fresh.id).await.is_empty());
    s.stop().await;
});

both_backends!(parallel_adds_of_one_member_let_exactly_one_in, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (_, alice) = s.user_with_roles(&[]).await;
    let before = members(&s, org).await.len();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let owner = s.owner.clone();
            tokio::spawn(async move { add_member_by(&owner, org, alice.id).await })
        })
        .collect();
    let mut added = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::OK => added += 1,
            // The primary key decides, inside the transaction: Coder's 400, never a 409 or 500.
            StatusCode::BAD_REQUEST => {
                assert_eq!(r.message(), "Organization member already exists in this organization");
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(added, 1);
    assert_eq!(members(&s, org).await.len(), before + 1);
});

both_backends!(
    parallel_role_changes_are_checked_against_what_they_replace,
    |s: TestServer| async move {
        let (org, _) = create_org(&s).await;
        let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
        for trial in 0..8 {
            let (_, target) = member(&s, org, &[], &[]).await;
            let id = target.id;
            // The owner grants a role the user admin may not take away, while the user admin
            // re-sends the (empty) set. The membership is locked while roles are read and
            // replaced, so the later change is checked against the earlier one's roles: the
            // re-send either runs first (a no-op) or is refused, and never drops the grant.
            let owner = s.owner.clone();
            let grant = tokio::spawn(async move {
                set_org_roles(&owner, org, id, &["organization-auditor"]).await
            });
            let resends: Vec<_> = (0..3)
                .map(|_| {
                    let by = user_admin.clone();
                    tokio::spawn(async move { set_org_roles(&by, org, id, &[]).await })
                })
                .collect();
            let granted = grant.await.unwrap();
            assert_eq!(granted.status, StatusCode::OK, "trial {trial}: {}", granted.body);
            for resend in resends {
                let r = resend.await.unwrap();
                match r.status {
                    StatusCode::OK => {}
                    StatusCode::BAD_REQUEST => assert_eq!(
                        r.message(),
                        format!("not authorized to assign role \"organization-auditor:{org}\"")
                    ),
                    other => panic!("trial {trial}: unexpected {other}: {}", r.body),
                }
            }
            assert_eq!(org_roles(&s, org, id).await, ["organization-auditor"], "trial {trial}");
        }
        s.stop().await;
    }
);
