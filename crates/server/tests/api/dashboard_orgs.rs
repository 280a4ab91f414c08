//! The dashboard's organization and role pages (issue 18 item 3, issue 20's role pages): each
//! form allowed and refused per role (owner, org admin, org user-admin, member), a role of
//! another organization is not found, and a forged post for an action not offered changes
//! nothing. State is read back through the API as the owner.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client;
use crate::fixtures::*;

/// The dashboard as one signed-in user ([`Web`]'s cookie client), answering (status, page).
struct Web(dashboard_client::Web);

impl Web {
    fn of(s: &TestServer, c: &Client) -> Web {
        Web(dashboard_client::Web::of(s, c))
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let answer = self.0.get(path).await;
        (answer.status, answer.body)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let answer = self.0.post_fields(path, form).await;
        (answer.status, answer.body)
    }
}

fn button(verb: &str) -> String {
    format!(">{verb}</button>")
}

async fn org_names(s: &TestServer) -> Vec<String> {
    names(&s.owner.get("/api/v2/organizations").await.body)
}

async fn site_roles_of(s: &TestServer, user: Uuid) -> Vec<String> {
    let r = s.owner.get(&format!("/api/v2/users/{user}/roles")).await;
    r.body["roles"].as_array().expect("roles").iter().map(|v| v.as_str().unwrap().into()).collect()
}

fn role_named<'a>(list: &'a [Value], name: &str) -> Option<&'a Value> {
    list.iter().find(|r| r["name"] == name)
}

both_backends!(create_organization_and_make_default, |s: TestServer| async move {
    let owner = Web::of(&s, &s.owner);
    let (member, _) = s.user_with_roles(&[]).await;
    let member = Web::of(&s, &member);

    // Offered to the owner, not to a member (who is told why).
    let (_, html) = owner.get("/organizations").await;
    assert!(html.contains(&button("Create organization")), "{html}");
    let (_, html) = member.get("/organizations").await;
    assert!(!html.contains(&button("Create organization")) && html.contains("Why?"), "{html}");

    // A member's forged post creates nothing.
    let name = unique("web-org");
    let (status, _) = member.post("/organizations", &[("name", &name)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!org_names(&s).await.contains(&name));

    let (status, html) =
        owner.post("/organizations", &[("name", &name), ("display_name", "Web Org")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert!(org_names(&s).await.contains(&name));
    // A taken name is shown beside the form.
    let (status, html) = owner.post("/organizations", &[("name", &name)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("class=\"problem\""), "{html}");

    // Two organizations now: Make default is offered on the one that is not.
    let (_, html) = owner.get(&format!("/organizations/{name}")).await;
    assert!(html.contains(&button("Make default")), "{html}");
    assert!(html.contains("id=\"org-switch\""), "the switcher: {html}");
    let (_, html) = owner.get("/organizations/coder").await;
    assert!(!html.contains(&button("Make default")), "already the default: {html}");

    // An org admin of it may not move the default (an owner's call): not offered, and a
    // forged post changes nothing.
    let org = uuid_of(&s.owner.get(&format!("/api/v2/organizations/{name}")).await.body["id"]);
    let (admin, _) = member_in(&s, org, &["organization-admin"]).await;
    let admin = Web::of(&s, &admin);
    let (_, html) = admin.get(&format!("/organizations/{name}")).await;
    assert!(!html.contains(&button("Make default")), "{html}");
    let (status, _) = admin.post(&format!("/organizations/{name}/default"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let default =
        s.owner.get(&format!("/api/v2/organizations/{name}")).await.body["is_default"].clone();
    assert_eq!(default, json!(false));

    let (status, html) = owner.post(&format!("/organizations/{name}/default"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("is now the default organization."), "{html}");
    let default =
        s.owner.get(&format!("/api/v2/organizations/{name}")).await.body["is_default"].clone();
    assert_eq!(default, json!(true));

    // The switcher keeps the sub-page.
    let (status, _) = owner.get(&format!("/organizations/switch?org={name}&to=roles")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
});

/// A fresh user in `org` holding `roles` there.
async fn member_in(s: &TestServer, org: Uuid, roles: &[&str]) -> (Client, atrium_api::users::User) {
    member(s, org, &[], roles).await
}

both_backends!(members_added_removed_and_their_roles, |s: TestServer| async move {
    let (org, name) = create_org(&s).await;
    let (admin, _) = member_in(&s, org, &["organization-admin"]).await;
    let (user_admin, _) = member_in(&s, org, &["organization-user-admin"]).await;
    let (plain, plain_user) = member_in(&s, org, &[]).await;
    let (_, newcomer) = s.user_with_roles(&[]).await;
    let members_path = format!("/organizations/{name}/members");
    let is_member = |list: Vec<Value>, id: Uuid| list.iter().any(|m| uuid_of(&m["user_id"]) == id);

    // A plain member is not offered Add member; their forged post adds no one.
    let plain_web = Web::of(&s, &plain);
    let (_, html) = plain_web.get(&format!("/organizations/{name}")).await;
    assert!(!html.contains(&button("Add member")) && html.contains("(no Add member)"), "{html}");
    let (_, html) = plain_web.post(&members_path, &[("username", &newcomer.username)]).await;
    assert!(html.contains("class=\"problem\""), "{html}");
    assert!(!is_member(members(&s, org).await, newcomer.id));

    // The org user-admin and the org admin may.
    for who in [&user_admin, &admin] {
        let web = Web::of(&s, who);
        let (_, html) = web.get(&format!("/organizations/{name}")).await;
        assert!(html.contains(&button("Add member")), "{html}");
    }
    let ua = Web::of(&s, &user_admin);
    let (status, html) = ua.post(&members_path, &[("username", &newcomer.username)]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("is now a member."), "{html}");
    assert!(is_member(members(&s, org).await, newcomer.id));

    // Member roles, on the member's page: the org admin grants template-admin.
    let admin_web = Web::of(&s, &admin);
    let member_page = format!("{members_path}/{}", plain_user.username);
    let (_, html) = admin_web.get(&member_page).await;
    assert!(html.contains(&button("Save")), "{html}");
    let (status, html) = admin_web
        .post(&format!("{member_page}/roles"), &[("role", "organization-template-admin")])
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(org_roles(&s, org, plain_user.id).await, vec!["organization-template-admin"]);
    // Nobody changes their own: not offered, and refused.
    let (_, html) = plain_web.get(&member_page).await;
    assert!(!html.contains(&button("Save")), "{html}");
    let (status, _) =
        plain_web.post(&format!("{member_page}/roles"), &[("role", "organization-admin")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(org_roles(&s, org, plain_user.id).await, vec!["organization-template-admin"]);

    // Remove: offered to the admin, refused to the plain member's forged post.
    let remove = format!("{members_path}/{}/remove", newcomer.username);
    let (status, _) = plain_web.post(&remove, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(is_member(members(&s, org).await, newcomer.id));
    let (_, html) = admin_web.get(&format!("/organizations/{name}")).await;
    assert!(html.contains(&button("Remove")), "{html}");
    let (status, html) = admin_web.post(&remove, &[]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!is_member(members(&s, org).await, newcomer.id));
});

both_backends!(custom_roles_created_edited_assigned_and_deleted, |s: TestServer| async move {
    let (org, name) = create_org(&s).await;
    let (other, other_name) = create_org(&s).await;
    let (admin, _) = member_in(&s, org, &["organization-admin"]).await;
    let (user_admin, _) = member_in(&s, org, &["organization-user-admin"]).await;
    let (plain, plain_user) = member_in(&s, org, &[]).await;
    let roles = format!("/organizations/{name}/roles");
    let admin_web = Web::of(&s, &admin);
    let ua_web = Web::of(&s, &user_admin);
    let plain_web = Web::of(&s, &plain);

    // Create custom role: offered to the org admin, not to the user-admin or a member.
    let (_, html) = admin_web.get(&roles).await;
    assert!(html.contains(">Create custom role</a>"), "{html}");
    assert!(html.contains("Organization Admin"), "built-ins listed: {html}");
    for web in [&ua_web, &plain_web] {
        let (status, html) = web.get(&roles).await;
        if status == StatusCode::OK {
            assert!(!html.contains(">Create custom role</a>"), "{html}");
        }
    }
    // The editor: a grid without a deny option, no restriction kind for a non-owner.
    let (_, html) = admin_web.get(&format!("{roles}/new")).await;
    assert!(html.contains("value=\"workspace:start\""), "{html}");
    assert!(!html.contains("kind-restriction"), "{html}");
    let (_, html) = Web::of(&s, &s.owner).get(&format!("{roles}/new")).await;
    assert!(html.contains("kind-restriction") && html.contains("role-assignable-by"), "{html}");

    let form = [
        ("name", "startstop"),
        ("display_name", "Start and stop"),
        ("org_perm", "workspace:read"),
        ("org_perm", "workspace:start"),
        ("org_perm", "workspace:stop"),
    ];
    // A member's and a user-admin's forged create store nothing.
    for web in [&plain_web, &ua_web] {
        let (status, html) = web.post(&roles, &form).await;
        assert_ne!(status, StatusCode::SEE_OTHER, "{html}");
        assert!(role_named(&org_role_list(&s.owner, org).await, "startstop").is_none());
    }
    let (status, html) = admin_web.post(&roles, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let listed = org_role_list(&s.owner, org).await;
    let stored = role_named(&listed, "startstop").expect("created");
    assert_eq!(stored["organization_permissions"].as_array().unwrap().len(), 3);
    assert_eq!(stored["display_name"], "Start and stop");

    // An org admin may not define a restriction role: the domain's message and nothing stored.
    let (status, html) = admin_web
        .post(
            &roles,
            &[("name", "no-deletes"), ("kind", "restriction"), ("org_perm", "workspace:delete")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("only owners may define restriction roles"), "{html}");
    assert!(role_named(&org_role_list(&s.owner, org).await, "no-deletes").is_none());

    // Its page: holders, Assign, Save and Delete for the admin.
    let page = format!("{roles}/startstop");
    let (_, html) = admin_web.get(&page).await;
    for verb in ["Assign", "Save", "Delete"] {
        assert!(html.contains(&button(verb)), "{verb}: {html}");
    }
    assert!(html.contains("No one you can see holds it."), "{html}");
    // A plain member sees none of them, with the reasons.
    let (status, html) = plain_web.get(&page).await;
    if status == StatusCode::OK {
        assert!(!html.contains(&button("Assign")) && !html.contains(&button("Delete")), "{html}");
    }
    // The same role name under another org is not found.
    let (status, _) = admin_web.get(&format!("/organizations/{other_name}/roles/startstop")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        Web::of(&s, &s.owner).get(&format!("/organizations/{other}/roles/startstop")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Assign from the role's page: the member's forged post changes nothing; the admin's does.
    let assign = format!("{page}/assign");
    let _ = plain_web.post(&assign, &[("username", &plain_user.username)]).await;
    assert!(org_roles(&s, org, plain_user.id).await.is_empty());
    let (status, html) = admin_web.post(&assign, &[("username", &plain_user.username)]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("now holds startstop."), "{html}");
    assert_eq!(org_roles(&s, org, plain_user.id).await, vec!["startstop"]);
    let (_, html) = admin_web.get(&page).await;
    assert!(html.contains(&format!("<span>{}</span>", plain_user.username)), "{html}");

    // Save: the grid replaces the permissions.
    let (status, html) = admin_web
        .post(
            &page,
            &[("name", "startstop"), ("display_name", "Starters"), ("org_perm", "workspace:read")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Role saved."), "{html}");
    let listed = org_role_list(&s.owner, org).await;
    let stored = role_named(&listed, "startstop").expect("kept");
    assert_eq!(stored["organization_permissions"], json!([perm("workspace", "read")]));
    assert_eq!(stored["display_name"], "Starters");
    // A forged save by a member changes nothing.
    let _ = plain_web.post(&page, &[("name", "startstop"), ("org_perm", "template:delete")]).await;
    let listed = org_role_list(&s.owner, org).await;
    assert_eq!(
        role_named(&listed, "startstop").unwrap()["organization_permissions"],
        json!([perm("workspace", "read")])
    );

    // Remove from the holder, then Delete (a member's forged delete first).
    let remove = format!("{page}/holders/{}/remove", plain_user.username);
    let (status, html) = admin_web.post(&remove, &[]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(org_roles(&s, org, plain_user.id).await.is_empty());
    // Removing a role the user does not hold says so, with the refusal's status.
    let (status, html) = admin_web.post(&remove, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("does not hold the role"), "{html}");
    let (status, _) = plain_web.post(&format!("{page}/delete"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(role_named(&org_role_list(&s.owner, org).await, "startstop").is_some());
    let (status, _) = admin_web.post(&format!("{page}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(role_named(&org_role_list(&s.owner, org).await, "startstop").is_none());
});

both_backends!(owners_define_restriction_roles_and_who_may_assign, |s: TestServer| async move {
    let (org, name) = create_org(&s).await;
    let (admin, _) = member_in(&s, org, &["organization-admin"]).await;
    let (user_admin, _) = member_in(&s, org, &["organization-user-admin"]).await;
    let (_, dev) = member_in(&s, org, &[]).await;
    let owner = Web::of(&s, &s.owner);
    let roles = format!("/organizations/{name}/roles");

    let (status, html) = owner
        .post(
            &roles,
            &[
                ("name", "no-workspace-deletes"),
                ("display_name", "No workspace deletes"),
                ("kind", "restriction"),
                ("org_perm", "workspace:delete"),
                ("assignable_by_shown", "1"),
                ("assignable_by", "organization-user-admin"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let listed = org_role_list(&s.owner, org).await;
    let stored = role_named(&listed, "no-workspace-deletes").expect("created");
    assert_eq!(stored["restriction"], true);
    assert_eq!(
        stored["organization_permissions"],
        json!([{"negate": true, "resource_type": "workspace", "action": "delete"}])
    );
    assert_eq!(stored["assignable_by"], json!(["organization-user-admin"]));
    let (_, html) = owner.get(&roles).await;
    assert!(html.contains("chip restriction"), "marked: {html}");

    // The org admin may assign it but not change or delete it (owners only).
    let page = format!("{roles}/no-workspace-deletes");
    let admin_web = Web::of(&s, &admin);
    let (_, html) = admin_web.get(&page).await;
    assert!(html.contains(&button("Assign")), "{html}");
    assert!(!html.contains(&button("Save")) && !html.contains(&button("Delete")), "{html}");
    let (status, _) = admin_web.post(&format!("{page}/delete"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(role_named(&org_role_list(&s.owner, org).await, "no-workspace-deletes").is_some());

    // The user-admin, named in assignable_by, assigns it from the role's page.
    let ua_web = Web::of(&s, &user_admin);
    let (status, html) =
        ua_web.post(&format!("{page}/assign"), &[("username", &dev.username)]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(org_roles(&s, org, dev.id).await, vec!["no-workspace-deletes"]);
});

both_backends!(site_wide_roles_for_owners, |s: TestServer| async move {
    let owner = Web::of(&s, &s.owner);
    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let (member, _) = s.user_with_roles(&[]).await;
    let (_, holder) = s.user_with_roles(&[]).await;
    let site_list = || async {
        s.owner.get("/api/v2/roles").await.body.as_array().cloned().unwrap_or_default()
    };

    let (_, html) = owner.get("/users").await;
    assert!(html.contains("href=\"/roles\""), "linked from Users: {html}");
    let (_, html) = owner.get("/roles").await;
    assert!(html.contains(">Create custom role</a>"), "{html}");
    let (_, html) = owner.get("/roles/new").await;
    assert!(
        html.contains("value=\"user:read\"") && html.contains("user_perm-"),
        "two grids: {html}"
    );

    // A user-admin's forged create is refused and stores nothing.
    let form = [
        ("name", "auditor-lite"),
        ("display_name", "Auditor lite"),
        ("site_perm", "audit_log:read"),
    ];
    let (_, html) = Web::of(&s, &user_admin).get("/roles").await;
    assert!(!html.contains(">Create custom role</a>"), "{html}");
    let (status, _) = Web::of(&s, &user_admin).post("/roles", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(role_named(&site_list().await, "auditor-lite").is_none());

    let (status, html) = owner.post("/roles", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        role_named(&site_list().await, "auditor-lite").expect("created")["site_permissions"],
        json!([perm("audit_log", "read")])
    );
    // A restriction role, site-wide.
    let (status, html) = owner
        .post(
            "/roles",
            &[
                ("name", "no-deletes-anywhere"),
                ("kind", "restriction"),
                ("site_perm", "workspace:delete"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        role_named(&site_list().await, "no-deletes-anywhere").expect("created")["restriction"],
        true
    );

    // Assign from the role's page (as PUT /users/{user}/roles); a member's forged post does not.
    let (status, _) = Web::of(&s, &member)
        .post("/roles/auditor-lite/assign", &[("username", &holder.username)])
        .await;
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!site_roles_of(&s, holder.id).await.contains(&"auditor-lite".to_owned()));
    let (status, html) =
        owner.post("/roles/auditor-lite/assign", &[("username", &holder.username)]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(site_roles_of(&s, holder.id).await.contains(&"auditor-lite".to_owned()));
    let (_, html) = owner.get("/roles/auditor-lite").await;
    assert!(html.contains(&format!("<span>{}</span>", holder.username)), "holder listed: {html}");
    let (status, _) =
        owner.post(&format!("/roles/auditor-lite/holders/{}/remove", holder.username), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!site_roles_of(&s, holder.id).await.contains(&"auditor-lite".to_owned()));
    let (status, _) = owner.post("/roles/auditor-lite/delete", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(role_named(&site_list().await, "auditor-lite").is_none());
});

// Assign and Remove change one role each under the membership's lock: many at once, none lost.
both_backends!(parallel_assigns_from_role_pages_all_stick, |s: TestServer| async move {
    let org = s.default_org;
    let (_, user) = member_in(&s, org, &[]).await;
    let owner = Web::of(&s, &s.owner);
    let roles = ["organization-auditor", "organization-template-admin", "organization-user-admin"];
    let posts = roles.iter().map(|role| {
        let path = format!("/organizations/{org}/roles/{role}/assign");
        let owner = &owner;
        let username = user.username.clone();
        async move { owner.post(&path, &[("username", &username)]).await }
    });
    for (status, html) in futures_util::future::join_all(posts).await {
        assert_eq!(status, StatusCode::OK, "{html}");
    }
    assert_eq!(org_roles(&s, org, user.id).await.len(), roles.len());
});
