//! The dashboard's Account page: the header links to it, the password form still posts to
//! `/password/change`, and your API tokens are listed, created (shown once) and deleted — only
//! your own: another user's token id through your form is not found and keeps working.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client::Web;

/// A token's id: the part of the secret before the dash.
fn key_id(token: &str) -> &str {
    token.split('-').next().expect("id")
}

async fn works(s: &TestServer, token: &str) -> bool {
    s.anonymous().with_token(token).get("/api/v2/users/me").await.status == StatusCode::OK
}

/// The secret a page shows once in its `new-token` field.
fn shown_token(body: &str) -> String {
    let at = body.find("id=\"new-token\"").expect("a new token on the page");
    let rest = &body[at..];
    let start = rest.find("value=\"").expect("value") + 7;
    rest[start..start + rest[start..].find('"').expect("end")].to_owned()
}

both_backends!(the_account_page_creates_and_deletes_your_tokens, |s: TestServer| async move {
    let (alice, _) = s.user_with_roles(&[]).await;
    let web = Web::of(&s, &alice);
    let page = web.get("/workspaces").await;
    assert!(page.body.contains("<a href=\"/account\">Account</a>"), "{}", page.body);
    let page = web.get("/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("action=\"/password/change\""), "{}", page.body);
    assert!(page.body.contains("You have no API tokens."), "{}", page.body);
    assert_eq!(web.get("/password/change").await.status, StatusCode::OK);
    // A wrong current password from the Account page is refused on the Account page.
    let wrong = web
        .post("/password/change", "from=account&old_password=nope&password=N3w-Secret!pass")
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(
        wrong.body.contains("<h1>Account</h1>") && wrong.body.contains("API tokens"),
        "{}",
        wrong.body
    );
    assert!(works(&s, alice.token.as_deref().expect("a session")).await, "nothing changed");

    let created = web.post("/account/tokens", "name=laptop&lifetime_days=7").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let token = shown_token(&created.body);
    assert!(works(&s, &token).await);
    assert!(created.body.contains("<td>laptop</td>"), "{}", created.body);
    // Shown once: the next visit lists it without its secret.
    let page = web.get("/account").await;
    assert!(page.body.contains("<td>laptop</td>") && !page.body.contains(&token));
    let id = key_id(&token);
    assert!(page.body.contains(&format!("/account/tokens/{id}/delete")), "{}", page.body);

    let deleted = web.post(&format!("/account/tokens/{id}/delete"), "").await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert!(deleted.body.contains("Token deleted."), "{}", deleted.body);
    assert!(!works(&s, &token).await);

    // A bad lifetime is refused with the field named.
    let refused = web.post("/account/tokens", "name=bad&lifetime_days=-3").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("lifetime_days"), "{}", refused.body);
});

both_backends!(
    another_users_token_cannot_be_deleted_from_your_account,
    |s: TestServer| async move {
        let (alice, _) = s.user_with_roles(&[]).await;
        let (bob, _) = s.user_with_roles(&[]).await;
        let bob_token = Web::of(&s, &bob).post("/account/tokens", "name=bobs").await;
        let bob_token = shown_token(&bob_token.body);
        let web = Web::of(&s, &alice);
        let forged = web.post(&format!("/account/tokens/{}/delete", key_id(&bob_token)), "").await;
        assert_eq!(forged.status, StatusCode::NOT_FOUND, "{}", forged.body);
        assert!(works(&s, &bob_token).await);
        // Not even the owner deletes it through their own account form.
        let owner = Web::of(&s, &s.owner);
        let forged =
            owner.post(&format!("/account/tokens/{}/delete", key_id(&bob_token)), "").await;
        assert_eq!(forged.status, StatusCode::NOT_FOUND, "{}", forged.body);
        assert!(works(&s, &bob_token).await);
    }
);
