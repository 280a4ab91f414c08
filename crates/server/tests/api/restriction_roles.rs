//! Issue 20 over the API: owner-defined restriction roles (org and site-wide), site-wide custom
//! roles at `/api/v2/roles`, and "who may assign" (`assignable_by`). Refusals store nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::{build, create_for, wait_status};

const NO_DELETES: &str = "no-workspace-deletes";

fn deny(resource_type: &str, action: &str) -> Value {
    json!({"negate": true, "resource_type": resource_type, "action": action})
}

/// An org restriction role body.
fn restriction_body(name: &str, organization_permissions: &[Value]) -> Value {
    let mut body = role_body(name, organization_permissions);
    body["restriction"] = json!(true);
    body
}

/// A site-wide role body.
fn site_body(name: &str, site: &[Value], user: &[Value], restriction: bool) -> Value {
    json!({"name": name, "display_name": format!("Site {name}"), "site_permissions": site,
           "organization_permissions": [], "user_permissions": user, "restriction": restriction})
}

async fn set_site_roles(by: &Client, user: Uuid, roles: &[&str]) -> Reply {
    by.send(Method::PUT, &format!("/api/v2/users/{user}/roles"), &json!({ "roles": roles })).await
}

both_backends!(
    an_owner_restricts_deletes_in_one_org_and_an_org_admin_assigns_it,
    |s: TestServer| async move {
        // Two orgs with a template each; the member belongs to both.
        let (org, _) = create_org(&s).await;
        let other = s.default_org;
        let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
        let (dev, dev_user) = member(&s, org, &[], &[]).await;
        let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
        let other_template = uuid_of(&create_template(&s.owner, other, json!({})).await["id"]);

        // The org admin may not define a restriction role; the owner does.
        let body = restriction_body(NO_DELETES, &[deny("workspace", "delete")]);
        let r = send_role(&admin, Method::POST, org, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.message(), "only owners may define restriction roles");
        assert!(org_role_list(&s.owner, org).await.iter().all(|e| e["name"] != NO_DELETES));
        let r = send_role(&s.owner, Method::POST, org, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["restriction"], true);
        assert_eq!(r.body["organization_permissions"], json!([deny("workspace", "delete")]));

        // The org admin sees it as assignable and assigns it.
        let listed = org_role_list(&admin, org).await;
        let entry = listed.iter().find(|e| e["name"] == NO_DELETES).unwrap();
        assert_eq!(
            (entry["assignable"].clone(), entry["built_in"].clone()),
            (json!(true), json!(false))
        );
        let r = set_org_roles(&admin, org, dev_user.id, &[NO_DELETES]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // There: create, stop and start, but no delete; the explanation names the role.
        let r = create_for(&dev, org, "me", template, "here").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let here = uuid_of(&r.body["id"]);
        wait_status(&dev, here, "running").await;
        let r = build(&dev, here, "stop").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        wait_status(&dev, here, "stopped").await;
        let r = build(&dev, here, "delete").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.message(), "You do not have permission to delete this workspace.");
        let r = explain(&dev, None, &workspace_in(org, "me"), "delete").await;
        assert_eq!(r.body["allowed"], false, "{}", r.body);
        assert!(r.body["reasons"].to_string().contains(NO_DELETES), "{}", r.body);
        assert!(authcheck(&dev, &workspace_in(org, "me"), "create").await);

        // In the other org the role does nothing.
        let r = create_for(&dev, other, "me", other_template, "there").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let there = uuid_of(&r.body["id"]);
        wait_status(&dev, there, "running").await;
        let r = build(&dev, there, "delete").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        wait_status(&dev, there, "deleted").await;

        // Once the owner deletes the role (the org admin may not), the name grants nothing.
        let path = format!("/api/v2/organizations/{org}/members/roles/{NO_DELETES}");
        let r = admin.send_empty(Method::DELETE, &path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = s.owner.send_empty(Method::DELETE, &path).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = build(&dev, here, "delete").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        s.stop().await;
    }
);

both_backends!(
    restriction_roles_hold_only_denies_and_keep_their_kind,
    |s: TestServer| async move {
        let (org, _) = create_org(&s).await;
        // An allow in a restriction role is refused, saying so.
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &restriction_body("mixed", &[perm("workspace", "read")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "A restriction role may only hold negative permissions");
        assert_eq!(
            r.detail(),
            "org: invalid permission for action=\"read\" type=\"workspace\", a restriction role may only hold negative permissions"
        );
        // Without the flag a negative permission keeps the seed's error.
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &role_body("neg", &[deny("workspace", "create")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "Failed to update role permissions");
        assert_eq!(
            r.detail(),
            "org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions"
        );
        // A wildcard deny is fine: it can only take away.
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &restriction_body("no-template-edits", &[deny("template", "*")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (tadmin, _) =
            member(&s, org, &[], &["organization-template-admin", "no-template-edits"]).await;
        let template = json!({"resource_type": "template", "organization_id": org});
        assert!(!authcheck(&tadmin, &template, "update").await);
        assert!(!authcheck(&tadmin, &template, "read").await, "`*` takes every action away");

        // The kind is fixed: an update without the flag is refused, and an additive role cannot
        // become a restriction role.
        let r = send_role(&s.owner, Method::PUT, org, &role_body("no-template-edits", &[])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.detail().contains("is a restriction role"), "{}", r.body);
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &role_body("reader", &[perm("template", "read")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = send_role(
            &s.owner,
            Method::PUT,
            org,
            &restriction_body("reader", &[deny("template", "read")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        // The built-in ban shows as the one built-in restriction role.
        let listed = org_role_list(&s.owner, org).await;
        let ban =
            listed.iter().find(|e| e["name"] == "organization-workspace-creation-ban").unwrap();
        assert_eq!(ban["restriction"], true);
        assert!(
            listed
                .iter()
                .filter(|e| e["built_in"] == true)
                .filter(|e| e["restriction"] == true)
                .count()
                == 1
        );
        s.stop().await;
    }
);

both_backends!(
    assignable_by_lets_a_named_role_assign_and_only_owners_set_it,
    |s: TestServer| async move {
        let (org, _) = create_org(&s).await;
        let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
        let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
        let (_, dev) = member(&s, org, &[], &[]).await;
        let startstop = [perm("workspace", "start"), perm("workspace", "stop")];
        let r = send_role(&admin, Method::POST, org, &role_body("cr-startstop", &startstop)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // rbac.md §4 alone: an org user admin assigns organization-member only.
        let r = set_org_roles(&user_admin, org, dev.id, &["cr-startstop"]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), format!("not authorized to assign role \"cr-startstop:{org}\""));

        // Only owners set who may assign; unknown names are refused.
        let mut body = role_body("cr-startstop", &startstop);
        body["assignable_by"] = json!(["organization-user-admin"]);
        let r = send_role(&admin, Method::PUT, org, &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert_eq!(r.message(), "only owners may set who may assign a role");
        body["assignable_by"] = json!(["no-such-role"]);
        let r = send_role(&s.owner, Method::PUT, org, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        body["assignable_by"] = json!(["organization-user-admin"]);
        let r = send_role(&s.owner, Method::PUT, org, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["assignable_by"], json!(["organization-user-admin"]));
        // An org admin's later update without the field keeps the list.
        let r = send_role(&admin, Method::PUT, org, &role_body("cr-startstop", &startstop)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["assignable_by"], json!(["organization-user-admin"]));

        let listed = org_role_list(&user_admin, org).await;
        assert_eq!(
            listed.iter().find(|e| e["name"] == "cr-startstop").unwrap()["assignable"],
            true
        );
        let r = set_org_roles(&user_admin, org, dev.id, &["cr-startstop"]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(org_roles(&s, org, dev.id).await, ["cr-startstop"]);
        let r = set_org_roles(&user_admin, org, dev.id, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        s.stop().await;
    }
);

both_backends!(
    site_wide_roles_are_defined_by_owners_and_act_at_site_and_user_level,
    |s: TestServer| async move {
        let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
        let (member_client, member_user) = s.user_with_roles(&[]).await;
        let reader = site_body("audit-reader", &[perm("audit_log", "read")], &[], false);

        // Owners only; the same validation as org custom roles, with `site: `.
        let r = user_admin.send(Method::POST, "/api/v2/roles", &reader).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let neg = site_body("neg", &[deny("workspace", "create")], &[], false);
        let r = s.owner.send(Method::POST, "/api/v2/roles", &neg).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(
            r.detail(),
            "site: invalid permission for action=\"create\" type=\"workspace\", no negative permissions"
        );
        let r =
            s.owner.send(Method::POST, "/api/v2/roles", &site_body("owner", &[], &[], false)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        let r = s.owner.send(Method::POST, "/api/v2/roles", &reader).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["site_permissions"], json!([perm("audit_log", "read")]));
        let r = s.owner.send(Method::POST, "/api/v2/roles", &reader).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "a taken name: {}", r.body);

        // Listed at /roles and among the site roles.
        let listed = s.owner.get("/api/v2/roles").await;
        assert_eq!(names(&listed.body), ["audit-reader"], "{}", listed.body);
        let site = s.owner.get("/api/v2/users/roles").await;
        let entry =
            site.body.as_array().unwrap().iter().find(|e| e["name"] == "audit-reader").cloned();
        assert_eq!(entry.map(|e| e["built_in"].clone()), Some(json!(false)), "{}", site.body);

        // Assigned through PUT /users/{user}/roles: owners may, a user admin may not (yet).
        let audit = json!({"resource_type": "audit_log"});
        assert!(!authcheck(&member_client, &audit, "read").await);
        let r = set_site_roles(&user_admin, member_user.id, &["audit-reader"]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.message(), "not authorized to assign role \"audit-reader\"");
        let r = set_site_roles(&s.owner, member_user.id, &["audit-reader"]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(authcheck(&member_client, &audit, "read").await);
        let r = member_client.get("/api/v2/audit?limit=1").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // Who may assign: the owner names user-admin; the user admin then unassigns it.
        let mut with_by = reader.clone();
        with_by["assignable_by"] = json!(["user-admin"]);
        let r = s.owner.send(Method::PUT, "/api/v2/roles", &with_by).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = set_site_roles(&user_admin, member_user.id, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(!authcheck(&member_client, &audit, "read").await);

        // A site-wide restriction binds even an owner, at every level.
        let no_deletes =
            site_body("no-deletes-anywhere", &[deny("workspace", "delete")], &[], true);
        let r = s.owner.send(Method::POST, "/api/v2/roles", &no_deletes).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["restriction"], true);
        let (second_owner, second) = s.user_with_roles(&["owner"]).await;
        let r = set_site_roles(&s.owner, second.id, &["owner", "no-deletes-anywhere"]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let anyones = workspace_in(s.default_org, &member_user.id.to_string());
        assert!(!authcheck(&second_owner, &anyones, "delete").await);
        assert!(authcheck(&second_owner, &anyones, "stop").await);
        let r = explain(&second_owner, None, &anyones, "delete").await;
        assert!(r.body["reasons"].to_string().contains("no-deletes-anywhere"), "{}", r.body);

        // Deleting it (owners only) leaves an inert name behind.
        let r = user_admin.send_empty(Method::DELETE, "/api/v2/roles/no-deletes-anywhere").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = s.owner.send_empty(Method::DELETE, "/api/v2/roles/no-deletes-anywhere").await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert!(authcheck(&second_owner, &anyones, "delete").await);
        let r = s.owner.send_empty(Method::DELETE, "/api/v2/roles/no-deletes-anywhere").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        s.stop().await;
    }
);
