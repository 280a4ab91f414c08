//! The dashboard's template pages: versions with Upload version and Promote for those who may
//! update the template, the import log, and the permissions editor (groups and users with Use
//! or Admin) for those who may change the ACL — refused by the domain when forged, and never
//! naming a group of another organization.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client::Web;
use crate::fixtures;

async fn template(s: &TestServer, id: Uuid) -> Value {
    let r = s.owner.get(&format!("/api/v2/templates/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn version_count(s: &TestServer, id: Uuid) -> usize {
    let r = s.owner.get(&format!("/api/v2/templates/{id}/versions")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().map_or(0, Vec::len)
}

/// Uploads a new version through the page's form; returns the version id.
async fn upload_version(web: &Web, t: Uuid, name: &str) -> Uuid {
    let a = web
        .post_file(
            &format!("/templates/{t}/versions"),
            &[("name", name), ("message", "from the dashboard")],
            ("archive", "module.tar", fixtures::module_tar()),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let prefix = format!("/templates/{t}/versions/");
    a.location.strip_prefix(&prefix).expect("version page").parse().expect("version id")
}

both_backends!(a_template_admin_uploads_and_promotes_a_version, |s: TestServer| async move {
    let t = fixtures::create_template(&s.owner, s.default_org, json!({})).await;
    let id = fixtures::uuid_of(&t["id"]);
    let (admin, _) = s.user_with_roles(&["template-admin"]).await;
    let web = Web::of(&s, &admin);
    let list = web.get("/templates").await;
    assert!(list.body.contains(&format!("href=\"/templates/{id}\"")), "{}", list.body);
    let page = web.get(&format!("/templates/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Upload version</button>"), "{}", page.body);
    assert!(page.body.contains(">Permissions</a>"), "{}", page.body);
    assert!(page.body.contains("chip active"), "{}", page.body);

    let version = upload_version(&web, id, "second-web").await;
    fixtures::wait_for_version(&s.owner, version).await;
    let shown = web.get(&format!("/templates/{id}/versions/{version}")).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("second-web") && shown.body.contains("succeeded"));
    assert!(shown.body.contains(">Promote</button>"), "{}", shown.body);
    // The finished import's log as events, ending with `done`.
    let log = web.get(&format!("/template-versions/{version}/log")).await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.trim_end().ends_with("event: done\ndata: end"), "{}", log.body);

    // From another site, the same upload changes nothing.
    let before = version_count(&s, id).await;
    let cross = Web::of(&s, &admin)
        .posting_from("http://evil.example")
        .post_file(
            &format!("/templates/{id}/versions"),
            &[],
            ("archive", "x.tar", fixtures::module_tar()),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.body);
    assert_eq!(version_count(&s, id).await, before);

    let promoted = web.post(&format!("/templates/{id}/versions/{version}/promote"), "").await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert!(promoted.body.contains("Version promoted."), "{}", promoted.body);
    assert_eq!(fixtures::uuid_of(&template(&s, id).await["active_version_id"]), version);
    // The active version offers no Promote.
    let shown = web.get(&format!("/templates/{id}/versions/{version}")).await;
    assert!(!shown.body.contains(">Promote</button>"), "{}", shown.body);
});

both_backends!(a_member_uploads_and_promotes_nothing, |s: TestServer| async move {
    let t = fixtures::create_template(&s.owner, s.default_org, json!({})).await;
    let id = fixtures::uuid_of(&t["id"]);
    let active = fixtures::uuid_of(&t["active_version_id"]);
    // A second, succeeded version the member could try to promote.
    let web_owner = Web::of(&s, &s.owner);
    let other = upload_version(&web_owner, id, "owners").await;
    fixtures::wait_for_version(&s.owner, other).await;

    let (member, _) = s.user_with_roles(&[]).await;
    let web = Web::of(&s, &member);
    let page = web.get(&format!("/templates/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(">Upload version</button>"), "{}", page.body);
    assert!(!page.body.contains(">Promote</button>"), "{}", page.body);
    assert!(!page.body.contains(">Permissions</a>"), "{}", page.body);
    assert!(page.body.contains("(no Upload version)"), "{}", page.body);

    let before = version_count(&s, id).await;
    let forged = web
        .post_file(
            &format!("/templates/{id}/versions"),
            &[],
            ("archive", "m.tar", fixtures::module_tar()),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(version_count(&s, id).await, before);
    let forged = web.post(&format!("/templates/{id}/versions/{other}/promote"), "").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(fixtures::uuid_of(&template(&s, id).await["active_version_id"]), active);
    let forged = web.get(&format!("/templates/{id}/permissions")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let forged = web
        .post(&format!("/templates/{id}/permissions"), &format!("group:{}=remove", s.default_org))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let acl = fixtures::template_acl(&s.owner, id).await;
    assert_eq!(acl["group"].as_array().map(Vec::len), Some(1), "{acl}");
});

both_backends!(
    the_permissions_editor_swaps_everyone_for_a_group_and_refuses_other_orgs,
    |s: TestServer| async move {
        let t = fixtures::create_template(&s.owner, s.default_org, json!({})).await;
        let id = fixtures::uuid_of(&t["id"]);
        let (org_admin, org_admin_user) = s.user_with_roles(&[]).await;
        let r = fixtures::set_org_roles(
            &s.owner,
            s.default_org,
            org_admin_user.id,
            &["organization-admin"],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = fixtures::create_group(&s.owner, s.default_org, &unique("crew")).await;
        let group = fixtures::uuid_of(&r.body["id"]);
        let (other_org, _) = fixtures::create_org(&s).await;
        let r = fixtures::create_group(&s.owner, other_org, &unique("far")).await;
        let far_group = fixtures::uuid_of(&r.body["id"]);

        let web = Web::of(&s, &org_admin);
        let page = web.get(&format!("/templates/{id}/permissions")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Role of Everyone"), "{}", page.body);
        assert!(page.body.contains(&format!("value=\"group:{group}\"")), "{}", page.body);
        assert!(!page.body.contains(&far_group.to_string()), "{}", page.body);
        assert!(page.body.contains(">Save</button>"), "{}", page.body);

        // A group of another organization, named by hand: refused, nothing changes.
        let form = format!("group:{}=remove&add=group:{far_group}&add_role=use", s.default_org);
        let refused = web.post(&format!("/templates/{id}/permissions"), &form).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(refused.body.contains("does not exist"), "{}", refused.body);
        let acl = fixtures::template_acl(&s.owner, id).await;
        assert_eq!(fixtures::ids(&acl["group"]), vec![s.default_org], "{acl}");

        let form = format!("group:{}=remove&add=group:{group}&add_role=use", s.default_org);
        let saved = web.post(&format!("/templates/{id}/permissions"), &form).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert!(saved.body.contains("Permissions saved."), "{}", saved.body);
        let acl = fixtures::template_acl(&s.owner, id).await;
        assert_eq!(fixtures::ids(&acl["group"]), vec![group], "{acl}");
        assert_eq!(acl["group"][0]["role"], "use", "{acl}");

        // A member granted Admin on this template edits its permissions too.
        let (member, member_user) = s.user_with_roles(&[]).await;
        let form = format!("add=user:{}&add_role=admin", member_user.id);
        let saved = web.post(&format!("/templates/{id}/permissions"), &form).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let member_web = Web::of(&s, &member);
        let page = member_web.get(&format!("/templates/{id}/permissions")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(">Save</button>"), "{}", page.body);
        let form = format!("group:{group}=admin");
        let saved = member_web.post(&format!("/templates/{id}/permissions"), &form).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert_eq!(fixtures::template_acl(&s.owner, id).await["group"][0]["role"], "admin");

        // A template admin edits it too; a member without a grant is refused.
        let (template_admin, _) = s.user_with_roles(&["template-admin"]).await;
        let form = format!("group:{group}=use");
        let saved =
            Web::of(&s, &template_admin).post(&format!("/templates/{id}/permissions"), &form).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert_eq!(fixtures::template_acl(&s.owner, id).await["group"][0]["role"], "use");
        let (outsider, _) = s.user_with_roles(&[]).await;
        let form = format!("group:{group}=remove");
        let refused =
            Web::of(&s, &outsider).post(&format!("/templates/{id}/permissions"), &form).await;
        assert!(refused.status.is_client_error(), "{}", refused.body);
        assert_eq!(
            fixtures::ids(&fixtures::template_acl(&s.owner, id).await["group"]),
            vec![group]
        );
    }
);
