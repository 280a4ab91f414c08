//! The dashboard's sign-in against other sites. Where it sends the browser afterwards (`next`)
//! is a path on this site only: browsers drop tabs and newlines from a URL (WHATWG), so
//! `/<tab>/evil.example` in a `Location` leaves for `//evil.example`, and a link to the real
//! sign-in page would hand the freshly signed-in user to another site. And no dashboard page
//! may be framed by another site (clickjacking a same-site form post).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, X_FRAME_OPTIONS};

use crate::both_backends;
use crate::common::*;
use crate::dashboard_client::Web;

both_backends!(sign_in_returns_only_to_this_site, |s: TestServer| async move {
    let (_, user) = s.user_with_roles(&[]).await;
    let anonymous = Web::with_token(&s, "");
    for (next, to) in [
        ("/users?q=status%3Aactive", "/users?q=status%3Aactive"),
        ("/\t/evil.example", "/workspaces"),
        ("/\n/evil.example", "/workspaces"),
        ("/\r/evil.example/x", "/workspaces"),
        ("//evil.example", "/workspaces"),
    ] {
        let fields = [("email", user.email.as_str()), ("password", PASSWORD), ("next", next)];
        let answer = anonymous.post_fields("/login", &fields).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{next:?}: {}", answer.body);
        assert_eq!(answer.location, to, "{next:?}");
    }
    s.stop().await;
});

both_backends!(dashboard_pages_refuse_framing, |s: TestServer| async move {
    let token = s.owner.token.clone().expect("owner token");
    for path in ["/users", "/account", "/organizations"] {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", s.url))
            .header(COOKIE, format!("coder_session_token={token}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let header = |name| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header(X_FRAME_OPTIONS).as_deref(), Some("DENY"), "{path}");
        assert_eq!(
            header(CONTENT_SECURITY_POLICY).as_deref(),
            Some("frame-ancestors 'none'"),
            "{path}"
        );
    }
    s.stop().await;
});
