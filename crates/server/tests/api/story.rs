//! The "done when", end to end over the API: an org admin creates a custom role,
//! assigns it and the creation ban to a member, makes a group, restricts a template to it, and
//! every documented effect follows.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

const ROLE: &str = "cr-workspace-startstop";
const BAN: &str = "organization-workspace-creation-ban";

both_backends!(an_org_admin_sets_up_roles_groups_and_template_access, |s: TestServer| async move {
    // The owner creates the org and makes an org admin.
    let (org, _) = create_org(&s).await;
    let (admin, admin_user) = s.user_with_roles(&[]).await;
    add_member(&s, org, admin_user.id).await;
    let r = set_org_roles(&s.owner, org, admin_user.id, &["organization-admin"]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The org admin brings in three people.
    let (worker, worker_user) = s.user_with_roles(&[]).await;
    let (dev, dev_user) = s.user_with_roles(&[]).await;
    let (other, other_user) = s.user_with_roles(&[]).await;
    for u in [&worker_user, &dev_user, &other_user] {
        let r = add_member_by(&admin, org, u.id).await;
        assert_eq!(r.status, StatusCode::OK, "org admin adds {}: {}", u.username, r.body);
    }

    // A custom role with workspace start/stop/read/update.
    let perms = [
        perm("workspace", "start"),
        perm("workspace", "stop"),
        perm("workspace", "read"),
        perm("workspace", "update"),
    ];
    let r = send_role(&admin, Method::POST, org, &role_body(ROLE, &perms)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], ROLE);
    assert_eq!(r.body["organization_permissions"], json!(perms));
    let listed = org_role_list(&admin, org).await;
    let custom = listed.iter().find(|e| e["name"] == ROLE).unwrap();
    assert_eq!(custom["built_in"], false);
    assert_eq!(custom["assignable"], true);

    // It and the creation ban go to the worker.
    let r = set_org_roles(&admin, org, worker_user.id, &[ROLE, BAN]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(org_roles(&s, org, worker_user.id).await, sorted(&[ROLE, BAN]));

    // A group "devs" with the dev in it.
    let r = create_group(&admin, org, "devs").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let devs = uuid_of(&r.body["id"]);
    let r = patch_group(&admin, devs, &json!({"add_users": [dev_user.id]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body["members"]), [dev_user.id]);

    // A template, open to Everyone at first, then restricted to devs.
    let template = create_template(&admin, org, json!({})).await;
    let template = uuid_of(&template["id"]);
    assert_eq!(get_template_status(&other, template).await, StatusCode::OK);
    let r = patch_acl(
        &admin,
        template,
        &json!({"group_perms": {org.to_string(): "", devs.to_string(): "use"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.message(), "Successfully updated template ACL list.");
    let acl = template_acl(&admin, template).await;
    assert_eq!(ids(&acl["group"]), [devs]);
    assert_eq!(acl["group"][0]["role"], "use");

    // The worker: no creating (or deleting) workspaces in this org, but start/stop of their
    // own, and — through the custom role — of anyone's in the org.
    let mine = workspace_in(org, "me");
    assert!(!authcheck(&worker, &mine, "create").await);
    assert!(!authcheck(&worker, &mine, "delete").await);
    assert!(authcheck(&worker, &mine, "start").await);
    assert!(authcheck(&worker, &mine, "stop").await);
    let devs_workspace = workspace_in(org, &dev_user.id.to_string());
    assert!(authcheck(&worker, &devs_workspace, "start").await);
    assert!(authcheck(&worker, &devs_workspace, "read").await);
    assert!(!authcheck(&worker, &devs_workspace, "ssh").await, "the role does not grant ssh");
    assert!(!authcheck(&worker, &devs_workspace, "delete").await);
    let r = explain(&worker, None, &mine, "create").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["allowed"], false);
    assert!(r.body["reasons"].to_string().contains(BAN), "{}", r.body);
    // The others still create their own workspaces.
    assert!(authcheck(&dev, &mine, "create").await);
    assert!(authcheck(&other, &mine, "create").await);
    assert!(!authcheck(&other, &devs_workspace, "start").await);

    // The devs member reads and may use the template; the others do not see it.
    assert_eq!(get_template_status(&dev, template).await, StatusCode::OK);
    let dev_list = dev.get(&format!("/api/v2/organizations/{org}/templates")).await;
    assert!(ids(&dev_list.body).contains(&template), "{}", dev_list.body);
    let use_it =
        json!({"resource_type": "template", "resource_id": template, "organization_id": org});
    assert!(authcheck(&dev, &use_it, "use").await);
    for (who, c) in [("other member", &other), ("worker", &worker)] {
        assert_eq!(get_template_status(c, template).await, StatusCode::NOT_FOUND, "{who}");
        let list = c.get(&format!("/api/v2/organizations/{org}/templates")).await;
        assert_eq!(list.status, StatusCode::OK, "{who}: {}", list.body);
        assert!(!ids(&list.body).contains(&template), "{who}: {}", list.body);
        assert!(!authcheck(c, &use_it, "use").await, "{who}");
    }
    // The admin still manages it.
    assert_eq!(get_template_status(&admin, template).await, StatusCode::OK);
    s.stop().await;
});

async fn get_template_status(c: &Client, template: uuid::Uuid) -> StatusCode {
    c.get(&format!("/api/v2/templates/{template}")).await.status
}
