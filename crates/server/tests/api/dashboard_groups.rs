//! The dashboard's group pages: Create group, Add member, Remove and Delete offered per the
//! engine and refused by the domain when forged; the Everyone group shown but never editable;
//! a user of another organization cannot be added.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client::{Web, enc};
use crate::fixtures;

/// The member ids of a group as the owner sees them (None once it is gone).
async fn group_members(s: &TestServer, group: Uuid) -> Option<Vec<Uuid>> {
    let r = s.owner.get(&format!("/api/v2/groups/{group}")).await;
    if r.status == StatusCode::NOT_FOUND {
        return None;
    }
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    Some(fixtures::ids(&r.body["members"]))
}

async fn group_names(s: &TestServer, org: Uuid) -> Vec<String> {
    let r = s.owner.get(&format!("/api/v2/organizations/{org}/groups")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    fixtures::names(&r.body)
}

both_backends!(an_owner_creates_fills_and_deletes_a_group, |s: TestServer| async move {
    let web = Web::of(&s, &s.owner);
    let (_, alice) = s.user_with_roles(&[]).await;
    let page = web.get("/groups").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Create group</button>"), "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{}\"", s.default_org)), "{}", page.body);

    let name = unique("grp");
    let form = format!("organization={}&name={name}&display_name=Night+shift", s.default_org);
    let created = web.post("/groups", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let group: Uuid = created.location.trim_start_matches("/groups/").parse().expect("group id");
    assert!(group_names(&s, s.default_org).await.contains(&name));

    let page = web.get(&created.location).await;
    assert!(page.body.contains(">Add member</button>"), "{}", page.body);
    assert!(page.body.contains(">Delete</button>"), "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{}\">", alice.id)), "{}", page.body);

    let added = web.post(&format!("/groups/{group}/members"), &format!("user={}", alice.id)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.body.contains("Member added."), "{}", added.body);
    assert!(added.body.contains(&format!("/groups/{group}/members/{}/remove", alice.id)));
    assert_eq!(group_members(&s, group).await, Some(vec![alice.id]));

    let removed = web.post(&format!("/groups/{group}/members/{}/remove", alice.id), "").await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(group_members(&s, group).await, Some(vec![]));

    let deleted = web.post(&format!("/groups/{group}/delete"), "").await;
    assert_eq!((deleted.status, deleted.location.as_str()), (StatusCode::SEE_OTHER, "/groups"));
    assert_eq!(group_members(&s, group).await, None);

    // A taken name is the domain's conflict, shown on the list with the form kept.
    let again = web.post("/groups", &form).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let taken = web.post("/groups", &form).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert!(taken.body.contains("already exists"), "{}", taken.body);
    assert!(taken.body.contains(&format!("value=\"{name}\"")), "{}", taken.body);
});

both_backends!(
    a_member_is_offered_nothing_and_forged_posts_change_nothing,
    |s: TestServer| async move {
        let (member, member_user) = s.user_with_roles(&[]).await;
        let (_, bob) = s.user_with_roles(&[]).await;
        let r = fixtures::create_group(&s.owner, s.default_org, &unique("grp")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let group = fixtures::uuid_of(&r.body["id"]);
        let r =
            fixtures::patch_group(&s.owner, group, &json!({"add_users": [member_user.id]})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        let web = Web::of(&s, &member);
        let list = web.get("/groups").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(!list.body.contains("Create group"), "{}", list.body);
        // A member of the group sees it, with the reasons instead of the actions.
        let page = web.get(&format!("/groups/{group}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(!page.body.contains(">Add member</button>"), "{}", page.body);
        assert!(!page.body.contains(">Delete</button>"), "{}", page.body);
        assert!(page.body.contains("(no Delete)") && page.body.contains("(no Add member)"));

        let before = group_names(&s, s.default_org).await;
        let forged = web
            .post("/groups", &format!("organization={}&name={}", s.default_org, unique("g")))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert_eq!(group_names(&s, s.default_org).await, before);
        let forged =
            web.post(&format!("/groups/{group}/members"), &format!("user={}", bob.id)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        let forged =
            web.post(&format!("/groups/{group}/members/{}/remove", member_user.id), "").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        let forged = web.post(&format!("/groups/{group}/delete"), "").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert_eq!(group_members(&s, group).await, Some(vec![member_user.id]));
    }
);

both_backends!(the_everyone_group_is_shown_but_not_editable, |s: TestServer| async move {
    let web = Web::of(&s, &s.owner);
    let page = web.get(&format!("/groups/{}", s.default_org)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Everyone</h1>"), "{}", page.body);
    assert!(!page.body.contains(">Delete</button>"), "{}", page.body);
    assert!(!page.body.contains(">Add member</button>"), "{}", page.body);
    assert!(page.body.contains("holds every member of the organization"), "{}", page.body);
    // Forged anyway: the domain's refusal, shown on the group's page.
    let forged = web.post(&format!("/groups/{}/delete", s.default_org), "").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);
    assert!(forged.body.contains("reserved group and cannot be deleted"), "{}", forged.body);
    let (_, alice) = s.user_with_roles(&[]).await;
    let forged = web
        .post(&format!("/groups/{}/members", s.default_org), &format!("user={}", alice.id))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(forged.body.contains("Cannot add or remove users"), "{}", forged.body);
});

both_backends!(
    an_org_admin_manages_groups_only_in_their_org_and_only_its_members,
    |s: TestServer| async move {
        let (admin, admin_user) = s.user_with_roles(&[]).await;
        let r = fixtures::set_org_roles(
            &s.owner,
            s.default_org,
            admin_user.id,
            &["organization-admin"],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (other_org, _) = fixtures::create_org(&s).await;
        // Carol belongs to the other organization only.
        let (_, carol) = s.user_with_roles(&[]).await;
        fixtures::add_member(&s, other_org, carol.id).await;
        let r = s
            .owner
            .send_empty(
                reqwest::Method::DELETE,
                &format!("/api/v2/organizations/{}/members/{}", s.default_org, carol.id),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);

        let web = Web::of(&s, &admin);
        let list = web.get("/groups").await;
        assert!(list.body.contains(">Create group</button>"), "{}", list.body);
        assert!(!list.body.contains(&other_org.to_string()), "{}", list.body);
        let name = unique("grp");
        let created = web
            .post(
                "/groups",
                &format!("organization={}&name={name}", enc(&s.default_org.to_string())),
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let group: Uuid = created.location.trim_start_matches("/groups/").parse().expect("id");
        // Carol is not offered, and adding her by id anyway is the domain's refusal.
        let page = web.get(&created.location).await;
        assert!(!page.body.contains(&carol.id.to_string()), "{}", page.body);
        let forged =
            web.post(&format!("/groups/{group}/members"), &format!("user={}", carol.id)).await;
        assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);
        assert!(forged.body.contains("must be a member of organization"), "{}", forged.body);
        assert_eq!(group_members(&s, group).await, Some(vec![]));
        // No group in the other organization.
        let before = group_names(&s, other_org).await;
        let forged =
            web.post("/groups", &format!("organization={other_org}&name={}", unique("g"))).await;
        assert!(forged.status.is_client_error(), "{}", forged.body);
        assert_eq!(group_names(&s, other_org).await, before);
    }
);

both_backends!(
    create_group_is_offered_exactly_when_the_engine_allows,
    |s: TestServer| async move {
        let object = json!({"resource_type": "group", "organization_id": s.default_org});
        let (org_admin, org_admin_user) = s.user_with_roles(&[]).await;
        let r = fixtures::set_org_roles(
            &s.owner,
            s.default_org,
            org_admin_user.id,
            &["organization-admin"],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (template_admin, _) = s.user_with_roles(&["template-admin"]).await;
        let (member, _) = s.user_with_roles(&[]).await;
        for (who, client) in
            [("org admin", &org_admin), ("template admin", &template_admin), ("member", &member)]
        {
            let allowed = fixtures::authcheck(client, &object, "create").await;
            let web = Web::of(&s, client);
            let page = web.get("/groups").await;
            assert_eq!(page.status, StatusCode::OK, "{who}: {}", page.body);
            assert_eq!(
                page.body.contains(">Create group</button>"),
                allowed,
                "{who}: {}",
                page.body
            );
            let name = unique("grp");
            let posted =
                web.post("/groups", &format!("organization={}&name={name}", s.default_org)).await;
            let created = group_names(&s, s.default_org).await.contains(&name);
            assert_eq!(created, allowed, "{who}: {}", posted.body);
            let expected = if allowed { StatusCode::SEE_OTHER } else { StatusCode::FORBIDDEN };
            assert_eq!(posted.status, expected, "{who}: {}", posted.body);
        }
        // The organization admin may; a plain member may not (the engine's answer, pinned).
        assert!(fixtures::authcheck(&org_admin, &object, "create").await);
        assert!(!fixtures::authcheck(&member, &object, "create").await);
    }
);
