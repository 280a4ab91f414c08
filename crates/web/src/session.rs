//! The signed-in caller of a dashboard request: the `coder_session_token` cookie, resolved by
//! the domain ([`atrium_domain::caller::authenticate`]) exactly as the API resolves it, so a
//! suspended user's open page is signed out on the next click. Without a valid session the
//! browser is sent to the sign-in page; a user whose password an admin reset is sent to the
//! password change first.

use std::net::{IpAddr, SocketAddr};

use atrium_domain::offers::Sections;
use atrium_domain::{Caller, RequestMeta};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use crate::WebState;
use crate::errors::PageError;

pub const SESSION_COOKIE: &str = "coder_session_token";

/// The frame every page shares: who is signed in and which sections they may use.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub username: Option<String>,
    pub nav: Sections,
    /// The section this page belongs to (`aria-current` in the nav).
    pub current: &'static str,
}

impl Chrome {
    pub fn signed_out() -> Chrome {
        Chrome::default()
    }
}

/// A signed-in request: the caller and the page frame.
pub struct Signed {
    pub caller: Caller,
    pub chrome: Chrome,
}

impl Signed {
    /// The frame, marked as belonging to `section`.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome { current: section, ..self.chrome.clone() }
    }

    pub fn fail(&self, error: atrium_domain::Error) -> PageError {
        PageError::new(&self.chrome, error)
    }
}

pub fn request_meta(parts: &Parts) -> RequestMeta {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::new_v4);
    RequestMeta { ip, user_agent, request_id }
}

/// The session cookie's value, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').find_map(|pair| {
            pair.trim()
                .strip_prefix("coder_session_token=")
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    })
}

/// `Set-Cookie` for a session (an empty token with age 0 clears it). `Secure` is added by the
/// server's guard when the access URL is https.
pub fn set_cookie(token: &str, max_age: u64) -> HeaderValue {
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    HeaderValue::from_str(&cookie)
        .unwrap_or(HeaderValue::from_static("coder_session_token=; Path=/"))
}

/// A redirect that also sets or clears the session cookie.
pub fn redirect_with_cookie(to: &str, cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// Whether `path` stays on this site: it starts with one `/`, holds no backslash and no control
/// character (browsers drop tabs and newlines from a URL, so `/<tab>/evil.example` would leave
/// as `//evil.example`).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains(char::is_control)
}

/// Where to go back after signing in: a local path only (never `//host` or a URL).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_owned(),
        _ => "/workspaces".to_owned(),
    }
}

fn to_sign_in(parts: &Parts, reason: Option<&str>) -> Response {
    let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // A form post's own path is no page to come back to.
    let next = if parts.method == axum::http::Method::GET { here } else { "/workspaces" };
    let mut to = format!("/login?next={}", encode(next));
    if let Some(reason) = reason {
        to.push_str("&reason=");
        to.push_str(&encode(reason));
    }
    redirect_with_cookie(&to, set_cookie("", 0))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Paths a user with a reset password may still reach.
const WHILE_RESET: &[&str] = &["/password/change", "/logout"];

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(to_sign_in(parts, None));
        };
        let meta = request_meta(parts);
        let caller = match atrium_domain::caller::authenticate(state, &token, meta).await {
            Ok(c) => c,
            Err(e) if e.status() == 401 => {
                let message = e.into_body().message;
                return Err(to_sign_in(parts, Some(&message)));
            }
            Err(e) => return Err(PageError::new(&Chrome::signed_out(), e).into_response()),
        };
        let fail = |e| PageError::new(&Chrome::signed_out(), e).into_response();
        if !WHILE_RESET.contains(&parts.uri.path())
            && atrium_domain::password_reset::must_change(state, &caller).await.map_err(fail)?
        {
            return Err(Redirect::to("/password/change").into_response());
        }
        let nav = atrium_domain::offers::sections(state, &caller).await.map_err(fail)?;
        let username =
            atrium_domain::users::get(state, &caller, "me").await.map_err(fail)?.username;
        Ok(Signed { caller, chrome: Chrome { username: Some(username), nav, current: "" } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/users?q=status%3Aactive")), "/users?q=status%3Aactive");
        for outside in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "users",
            "",
        ] {
            assert_eq!(local_path(Some(outside)), "/workspaces", "{outside}");
        }
        assert_eq!(local_path(None), "/workspaces");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("/users?q=a b&c"), "/users%3Fq%3Da%20b%26c");
        assert_eq!(encode("plain-Name_1.~"), "plain-Name_1.~");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers
            .append(header::COOKIE, HeaderValue::from_static("a=1; coder_session_token=abc-def"));
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc-def"));
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("coder_session_token="));
        assert_eq!(session_cookie(&empty), None);
        let cookie = set_cookie("t", 60);
        assert_eq!(cookie, "coder_session_token=t; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    }
}
