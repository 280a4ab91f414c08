//! The dashboard at `/` through the server's guard: its form posts must come from the same
//! site, the sign-in form refuses cross-site posts, a reset password sends its user to the
//! password change, and the navigation and New workspace follow the engine.

use atrium_api::users::User;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client;
use crate::fixtures;

/// A browser-like client ([`dashboard_client::Web`]) answering tuples.
struct Browser(dashboard_client::Web);

impl Browser {
    fn new(s: &TestServer, token: &str) -> Browser {
        Browser(dashboard_client::Web::with_token(s, token))
    }

    /// A page: its status, `Location` and HTML.
    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        let answer = self.0.get(path).await;
        (answer.status, answer.location, answer.body)
    }

    /// A form post from `origin`.
    async fn post(&self, path: &str, origin: &str, form: &str) -> (StatusCode, String) {
        let answer = self.0.clone().posting_from(origin).post(path, form).await;
        (answer.status, answer.body)
    }
}

async fn status_of(s: &TestServer, user: &User) -> String {
    s.owner.get_json::<User>(&format!("/api/v2/users/{}", user.id)).await.status
}

both_backends!(dashboard_writes_must_come_from_the_same_site, |s: TestServer| async move {
    let owner = Browser::new(&s, s.owner.token.as_deref().expect("owner token"));
    let (_, alice) = s.user_with_roles(&[]).await;
    let path = format!("/users/{}/suspend", alice.username);

    let (status, body) = owner.post(&path, "http://evil.example", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Cross-site request refused."), "{body}");
    assert_eq!(status_of(&s, &alice).await, "active");

    let (status, body) = owner.post(&path, &s.url, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("is suspended."), "{body}");
    assert_eq!(status_of(&s, &alice).await, "suspended");

    // The API keeps refusing form bodies sent with the cookie, same site or not.
    let token = s.owner.token.as_deref().expect("owner token");
    let r = reqwest::Client::new()
        .put(format!("{}/api/v2/users/{}/status/activate", s.url, alice.id))
        .header(COOKIE, format!("coder_session_token={token}"))
        .header(ORIGIN, &s.url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Signing in from another site is refused before the password is looked at (login CSRF).
    let anonymous = Browser::new(&s, "");
    let form = format!("email={}&password={PASSWORD}", alice.email.replace('@', "%40"));
    let (status, _) = anonymous.post("/login", "http://evil.example", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

both_backends!(a_reset_password_must_be_changed_first, |s: TestServer| async move {
    let (_, carol) = s.user_with_roles(&[]).await;
    let temporary = "Temporary-Pass-0042!";
    let r = s
        .owner
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}/password", carol.id),
            &json!({"password": temporary}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let carol_api = s.anonymous().login(&carol.email, temporary).await;
    let carol_web = Browser::new(&s, carol_api.token.as_deref().expect("token"));
    let (status, location, _) = carol_web.get("/workspaces").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/password/change"));
    let (status, _, page) = carol_web.get("/password/change").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("An administrator reset your password"), "{page}");

    // Choosing her own password lifts it (and signs her in afresh).
    let form = format!("old_password={temporary}&password=Carol-Own-Choice-77%21");
    let (status, body) = carol_web.post("/password/change", &s.url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let again = s.anonymous().login(&carol.email, "Carol-Own-Choice-77!").await;
    let (status, _, _) =
        Browser::new(&s, again.token.as_deref().expect("token")).get("/workspaces").await;
    assert_eq!(status, StatusCode::OK);
});

both_backends!(navigation_and_new_workspace_follow_the_engine, |s: TestServer| async move {
    let nav_link = |name: &str| format!(">{name}</a></li>");
    let (member, member_user) = s.user_with_roles(&[]).await;
    let (auditor, _) = s.user_with_roles(&["auditor"]).await;
    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let page = |c: &Client| Browser::new(&s, c.token.as_deref().expect("token"));

    let (_, _, html) = page(&member).get("/workspaces").await;
    assert!(!html.contains(&nav_link("Users")) && !html.contains(&nav_link("Audit")), "{html}");
    assert!(html.contains(&nav_link("Workspaces")) && html.contains("New workspace"), "{html}");
    let (_, _, html) = page(&auditor).get("/workspaces").await;
    assert!(html.contains(&nav_link("Audit")), "{html}");
    let (_, _, html) = page(&user_admin).get("/workspaces").await;
    assert!(html.contains(&nav_link("Users")) && !html.contains(&nav_link("Audit")), "{html}");

    // The creation ban in the member's only organization: no New workspace.
    let r = fixtures::set_org_roles(
        &s.owner,
        s.default_org,
        member_user.id,
        &["organization-workspace-creation-ban"],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, _, html) = page(&member).get("/workspaces").await;
    assert!(!html.contains("New workspace"), "{html}");
    let (status, location, _) = page(&member).get("/").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/workspaces"));
});

both_backends!(
    workspace_page_offers_what_the_engine_allows_and_streams_the_log,
    |s: TestServer| async move {
        let (member, member_user) = s.user_with_roles(&[]).await;
        let template = fixtures::create_template(&s.owner, s.default_org, json!({})).await;
        let r = fixtures::set_org_roles(
            &s.owner,
            s.default_org,
            member_user.id,
            &["organization-workspace-creation-ban"],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ws = s
            .owner
            .send(
                Method::POST,
                &format!(
                    "/api/v2/organizations/{}/members/{}/workspaces",
                    s.default_org, member_user.id
                ),
                &json!({"template_id": template["id"], "name": "managed"}),
            )
            .await;
        assert_eq!(ws.status, StatusCode::CREATED, "{}", ws.body);
        let ws_id = fixtures::uuid_of(&ws.body["id"]);
        let done = crate::workspaces::wait_status(&s.owner, ws_id, "running").await;
        let build = done["latest_build"]["id"].as_str().expect("build id").to_owned();

        let page = Browser::new(&s, member.token.as_deref().expect("token"));
        let path = format!("/workspaces/{}/managed", member_user.username);
        let (status, _, html) = page.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(">Stop</button>"), "{html}");
        assert!(!html.contains(">Delete</button>"), "{html}");
        assert!(html.contains("Why? <span class=\"muted\">(no Delete)</span>"), "{html}");
        assert!(html.contains("organization-workspace-creation-ban"), "{html}");
        // Refused even when posted by hand: the operation decides, not the page.
        let (status, body) = page.post(&format!("{path}/delete"), &s.url, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        // The finished build's log as events: its lines, then `done` with data (browsers drop
        // events without any).
        let (status, _, events) = page.get(&format!("/builds/{build}/log")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(events.contains("event: log\ndata: "), "{events}");
        assert!(events.trim_end().ends_with("event: done\ndata: end"), "{events}");
        // Another member may not read it.
        let (stranger, _) = s.user_with_roles(&[]).await;
        let (status, _, _) = Browser::new(&s, stranger.token.as_deref().expect("token"))
            .get(&format!("/builds/{build}/log"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

both_backends!(user_pages_offer_per_user_and_say_why, |s: TestServer| async move {
    let (user_admin, _) = s.user_with_roles(&["user-admin"]).await;
    let (_, member) = s.user_with_roles(&[]).await;
    let page = Browser::new(&s, user_admin.token.as_deref().expect("token"));
    let (status, _, html) = page.get(&format!("/users/{}", member.username)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(">Suspend</button>") && html.contains(">Reset password</button>"),
        "{html}"
    );
    // A user admin may not act on an owner's account (Atrium's rule); the page says so.
    let owner: User = s.owner.get_json("/api/v2/users/me").await;
    let (_, _, html) = page.get(&format!("/users/{}", owner.username)).await;
    assert!(!html.contains(">Suspend</button>") && !html.contains(">Delete</button>"), "{html}");
    assert!(html.contains("(no Suspend)") && html.contains("Only owners can"), "{html}");
    let (status, body) = page.post(&format!("/users/{}/suspend", owner.username), &s.url, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(status_of(&s, &owner).await, "active");
});
