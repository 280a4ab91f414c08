//! Organization roles: the listing (built-ins with their permissions, `built_in`, the caller's
//! `assignable`) and custom roles — create, update, delete — validated in Coder's order with the
//! seed's `org: ` detail prefix (rbac.md §4.3, §5). Refusals store nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

const BUILT_INS: [(&str, &str); 5] = [
    ("organization-admin", "Organization Admin"),
    ("organization-auditor", "Organization Auditor"),
    ("organization-user-admin", "Organization User Admin"),
    ("organization-template-admin", "Organization Template Admin"),
    ("organization-workspace-creation-ban", "Organization Workspace Creation Ban"),
];

const FAILED: &str = "Failed to update role permissions";

fn entry<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no role {name} in {list:?}"))
}

fn list_names(list: &[Value]) -> Vec<String> {
    names(&Value::Array(list.to_vec()))
}

both_backends!(org_role_listing_shows_built_ins_and_assignability, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let (outsider, _) = s.user_with_roles(&[]).await;

    let owner_view = org_role_list(&s.owner, org).await;
    let mut expected: Vec<String> = BUILT_INS.iter().map(|(n, _)| (*n).to_owned()).collect();
    expected.sort();
    assert_eq!(
        list_names(&owner_view),
        expected,
        "organization-member (empty display name) is hidden"
    );
    for (name, display) in BUILT_INS {
        let e = entry(&owner_view, name);
        assert_eq!(e["display_name"], display, "{e}");
        assert_eq!(e["built_in"], true, "{e}");
        assert_eq!(e["assignable"], true, "owner may assign {name}");
        assert_eq!(uuid_of(&e["organization_id"]), org, "{e}");
        // Built-ins show their real permissions (rbac.md §4.3): the org admins carry site
        // `user: read`, to find users to add.
        let site = if matches!(name, "organization-admin" | "organization-user-admin") {
            json!([{"negate": false, "resource_type": "user", "action": "read"}])
        } else {
            json!([])
        };
        assert_eq!(e["site_permissions"], site, "{e}");
        assert_eq!(e["user_permissions"], json!([]), "{e}");
    }
    let ban = entry(&owner_view, "organization-workspace-creation-ban");
    assert_eq!(
        ban["organization_permissions"],
        json!([
            {"negate": true, "resource_type": "workspace", "action": "create"},
            {"negate": true, "resource_type": "workspace", "action": "delete"},
            {"negate": true, "resource_type": "workspace", "action": "create_agent"},
            {"negate": true, "resource_type": "workspace", "action": "delete_agent"},
        ])
    );
    let auditor = entry(&owner_view, "organization-auditor");
    let perms = auditor["organization_permissions"].as_array().unwrap();
    assert!(
        perms.contains(&json!({"negate": false, "resource_type": "audit_log", "action": "read"})),
        "{auditor}"
    );

    for e in org_role_list(&admin, org).await {
        assert_eq!(e["assignable"], true, "org admin may assign {e}");
    }
    for e in org_role_list(&user_admin, org).await {
        assert_eq!(
            e["assignable"], false,
            "org user admin may assign only the hidden member role: {e}"
        );
    }
    for e in org_role_list(&plain, org).await {
        assert_eq!(e["assignable"], false, "{e}");
    }
    let r = outsider.get(&format!("/api/v2/organizations/{org}/members/roles")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // A custom role joins the listing, not built in, assignable by owners and org admins.
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &role_body("cr-viewer", &[perm("workspace", "read")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (c, assignable) in [(&s.owner, true), (&admin, true), (&user_admin, false), (&plain, false)]
    {
        let list = org_role_list(c, org).await;
        assert_eq!(list.len(), BUILT_INS.len() + 1);
        let e = entry(&list, "cr-viewer");
        assert_eq!(e["built_in"], false, "{e}");
        assert_eq!(e["assignable"], assignable, "{e}");
        assert_eq!(e["display_name"], "Role cr-viewer");
        assert_eq!(e["organization_permissions"], json!([perm("workspace", "read")]));
    }
    // Another org's listing does not show it.
    assert!(
        !list_names(&org_role_list(&s.owner, s.default_org).await)
            .contains(&"cr-viewer".to_owned())
    );
    s.stop().await;
});

both_backends!(creating_custom_roles_validates_in_order, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let (user_admin, _) = member(&s, org, &[], &["organization-user-admin"]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let (outsider, _) = s.user_with_roles(&[]).await;

    let body = role_body("cr-read", &[perm("workspace", "read"), perm("template", "read")]);
    let r = send_role(&s.owner, Method::POST, org, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "cr-read");
    assert_eq!(uuid_of(&r.body["organization_id"]), org);
    assert_eq!(r.body["display_name"], "Role cr-read");
    assert_eq!(r.body["organization_permissions"], body["organization_permissions"]);
    assert_eq!(r.body["site_permissions"], json!([]));
    assert_eq!(r.body["user_permissions"], json!([]));
    let stored = org_role_list(&s.owner, org).await;

    // The seed's request, exactly.
    let negative = json!({
        "name": "cr-negative",
        "display_name": "No workspace creation",
        "organization_permissions": [{"negate": true, "resource_type": "workspace", "action": "create"}],
    });
    let r = send_role(&s.owner, Method::POST, org, &negative).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({
            "message": "Failed to update role permissions",
            "detail": "org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions",
        })
    );
    // The action and type follow the offending permission (the first one, in list order).
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &json!({"name": "cr-neg2", "organization_permissions": [
            perm("workspace", "read"),
            {"negate": true, "resource_type": "template", "action": "update"},
            {"negate": true, "resource_type": "workspace", "action": "delete"},
        ]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), FAILED);
    assert_eq!(
        r.detail(),
        "org: invalid permission for action=\"update\" type=\"template\", no negative permissions"
    );

    // Reserved names (case-sensitive), checked before permissions.
    for reserved in ["organization-admin", "owner", "organization-member"] {
        let r = send_role(
            &s.owner,
            Method::POST,
            org,
            &role_body(reserved, &[perm("workspace", "read")]),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{reserved}: {}", r.body);
        assert_eq!(r.message(), "Reserved role name");
        assert_eq!(
            r.detail(),
            format!("\"{reserved}\" is a reserved role name, and not allowed to be used")
        );
    }
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &json!({"name": "organization-admin", "site_permissions": [perm("workspace", "read")],
                "organization_permissions": [{"negate": true, "resource_type": "workspace", "action": "create"}]}),
    )
    .await;
    assert_eq!(r.message(), "Reserved role name", "{}", r.body);
    let r = send_role(&s.owner, Method::POST, org, &role_body("bad name", &[])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Validation failed.");
    assert_eq!(r.body["validations"][0]["field"], "name");

    // Site and user permissions are not for org roles (site is checked first).
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &json!({"name": "cr-site", "site_permissions": [perm("workspace", "read")],
                "user_permissions": [perm("workspace", "read")]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        "Invalid request, not allowed to assign site wide permissions for an organization role."
    );
    assert_eq!(r.detail(), "organization scoped roles may not contain site wide permissions");
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &json!({"name": "cr-user", "user_permissions": [perm("workspace", "read")]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        "Invalid request, not allowed to assign user permissions for an organization role."
    );
    assert_eq!(r.detail(), "organization scoped roles may not contain user permissions");

    // Unknown types and actions, wildcards (even for owners), escalation.
    let cases: [(&str, Value, &str, bool); 4] = [
        ("cr-type", perm("spaceship", "read"), "org: invalid resource type", true),
        ("cr-action", perm("workspace", "fly"), "org: invalid action", true),
        (
            "cr-star",
            perm("workspace", "*"),
            "org: invalid permission for action=\"*\" type=\"workspace\", no wildcard symbols",
            false,
        ),
        (
            "cr-star-type",
            perm("*", "read"),
            "org: invalid permission for action=\"read\" type=\"*\", no wildcard symbols",
            false,
        ),
    ];
    for (name, p, detail, prefix) in cases {
        let r = send_role(&s.owner, Method::POST, org, &role_body(name, &[p])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert_eq!(r.message(), FAILED, "{name}");
        if prefix {
            assert!(r.detail().starts_with(detail), "{name}: {}", r.body);
        } else {
            assert_eq!(r.detail(), detail, "{name}");
        }
    }
    // An org admin lacks workspace ssh org-wide, so cannot grant it; the owner can.
    let r = send_role(&admin, Method::POST, org, &role_body("cr-ssh", &[perm("workspace", "ssh")]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), FAILED);
    assert_eq!(
        r.detail(),
        "org: invalid permission for action=\"ssh\" type=\"workspace\", not allowed to grant this permission"
    );
    assert!(r.detail().ends_with("not allowed to grant this permission"));

    // Callers without create on assign_org_role get the not-found body.
    for (who, c) in [("plain", &plain), ("org user admin", &user_admin), ("outsider", &outsider)] {
        let r =
            send_role(c, Method::POST, org, &role_body("cr-sneaky", &[perm("workspace", "read")]))
                .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
        assert_eq!(r.message(), NOT_FOUND, "{who}");
    }
    // A duplicate name.
    let r = send_role(
        &s.owner,
        Method::POST,
        org,
        &role_body("cr-read", &[perm("workspace", "update")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), FAILED);

    // Nothing above was stored, and cr-read is as created.
    let after = org_role_list(&s.owner, org).await;
    assert_eq!(list_names(&after), list_names(&stored));
    assert_eq!(
        entry(&after, "cr-read")["organization_permissions"],
        body["organization_permissions"]
    );

    // What is allowed: a capitalised built-in name, the owner granting ssh, an org admin
    // granting what they hold.
    for (c, name, p) in [
        (&s.owner, "Owner", perm("workspace", "read")),
        (&s.owner, "cr-ssh", perm("workspace", "ssh")),
        (&admin, "cr-admin-made", perm("workspace", "start")),
    ] {
        let r = send_role(c, Method::POST, org, &role_body(name, &[p])).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
    let mut expected = list_names(&stored);
    expected.extend(["Owner".to_owned(), "cr-ssh".to_owned(), "cr-admin-made".to_owned()]);
    expected.sort();
    assert_eq!(list_names(&org_role_list(&s.owner, org).await), expected);
    s.stop().await;
});

async fn role_perms(s: &TestServer, org: Uuid, name: &str) -> Value {
    entry(&org_role_list(&s.owner, org).await, name)["organization_permissions"].clone()
}

both_backends!(updating_and_deleting_custom_roles, |s: TestServer| async move {
    let (org, _) = create_org(&s).await;
    let (admin, _) = member(&s, org, &[], &["organization-admin"]).await;
    let (plain, _) = member(&s, org, &[], &[]).await;
    let r =
        send_role(&s.owner, Method::POST, org, &role_body("cr-upd", &[perm("workspace", "read")]))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let two = [perm("workspace", "read"), perm("workspace", "start")];
    let r = send_role(&s.owner, Method::PUT, org, &role_body("cr-upd", &two)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["organization_permissions"], json!(two));
    assert_eq!(role_perms(&s, org, "cr-upd").await, json!(two));

    // PUT refuses what POST refuses, unknown pairs included (Coder's PUT would drop them).
    let negative = json!({"name": "cr-upd", "organization_permissions": [
        {"negate": true, "resource_type": "workspace", "action": "create"}]});
    let r = send_role(&s.owner, Method::PUT, org, &negative).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"message": FAILED,
               "detail": "org: invalid permission for action=\"create\" type=\"workspace\", no negative permissions"})
    );
    let r = send_role(
        &s.owner,
        Method::PUT,
        org,
        &role_body("cr-upd", &[perm("workspace", "read"), perm("spaceship", "read")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), FAILED);
    assert!(r.detail().starts_with("org: invalid resource type"), "{}", r.body);
    let r = send_role(&s.owner, Method::PUT, org, &role_body("cr-upd", &[perm("workspace", "*")]))
        .await;
    assert!(r.detail().ends_with("no wildcard symbols"), "{}", r.body);
    let r = send_role(
        &s.owner,
        Method::PUT,
        org,
        &json!({"name": "cr-upd", "site_permissions": [perm("workspace", "read")]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.message(),
        "Invalid request, not allowed to assign site wide permissions for an organization role."
    );
    let r = send_role(
        &s.owner,
        Method::PUT,
        org,
        &role_body("organization-admin", &[perm("workspace", "read")]),
    )
    .await;
    assert_eq!(r.message(), "Reserved role name", "{}", r.body);
    let r = send_role(&admin, Method::PUT, org, &role_body("cr-upd", &[perm("workspace", "ssh")]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.detail().ends_with("not allowed to grant this permission"), "{}", r.body);
    let r = send_role(&plain, Method::PUT, org, &role_body("cr-upd", &[perm("workspace", "read")]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(role_perms(&s, org, "cr-upd").await, json!(two), "refused updates changed nothing");

    // PUT never creates.
    let r = send_role(
        &s.owner,
        Method::PUT,
        org,
        &role_body("cr-missing", &[perm("workspace", "read")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(!list_names(&org_role_list(&s.owner, org).await).contains(&"cr-missing".to_owned()));

    // The org admin may update too.
    let r =
        send_role(&admin, Method::PUT, org, &role_body("cr-upd", &[perm("group", "read")])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A holder's permissions follow the role; a deleted role expands to nothing.
    let (holder_client, holder) = member(&s, org, &[], &["cr-upd"]).await;
    let group_in_org = json!({"resource_type": "group", "organization_id": org});
    assert!(authcheck(&holder_client, &group_in_org, "read").await);

    let path = format!("/api/v2/organizations/{org}/members/roles/cr-upd");
    let r = plain.send_empty(Method::DELETE, &path).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.message(), "Forbidden.");
    assert!(list_names(&org_role_list(&s.owner, org).await).contains(&"cr-upd".to_owned()));
    let r = admin.send_empty(Method::DELETE, &path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(!list_names(&org_role_list(&s.owner, org).await).contains(&"cr-upd".to_owned()));
    assert!(!authcheck(&holder_client, &group_in_org, "read").await);
    // The holder keeps the name; it grants nothing.
    assert_eq!(org_roles(&s, org, holder.id).await, ["cr-upd"]);
    let r = admin.send_empty(Method::DELETE, &path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.message(), "No custom role with the name cr-upd found");
    let r = s
        .owner
        .send_empty(Method::DELETE, &format!("/api/v2/organizations/{org}/members/roles/never-was"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    s.stop().await;
});
