//! Checks every request passes before any route sees it, as router layers so no route can
//! forget them:
//!
//! - [`stamp`]: every request gets a server-generated `X-Request-Id` (audit rows and logs
//!   use it); a client's own value is dropped, so it cannot choose the audit row's id.
//! - [`guard`]: a path or query carrying a NUL character (`%00`) is a 400 (PostgreSQL cannot
//!   store one), and so is a path whose percent-decoding is not UTF-8 (`%FF`), in Coder's JSON
//!   body rather than the router's plain-text rejection; cross-site requests authenticated by the session cookie are refused (below);
//!   the session cookie is `Secure` when the access URL is https; a request unanswered after
//!   [`REQUEST_TIMEOUT`] is a 408.
//!
//! **Cross-site requests.** A browser attaches the `coder_session_token` cookie to requests any
//! site makes (a form `POST`, a `fetch` with `no-cors`), but a page on another site cannot set the
//! `Coder-Session-Token` header. So a request that carries the cookie and not the header, and that
//! changes state (any method but GET, HEAD, OPTIONS) or upgrades to a WebSocket, must come from the
//! same site: its `Origin` (or, without one, `Sec-Fetch-Site`, else `Referer`) must say so, else
//! 403. Same site means the access URL's origin, or the request's own `Host` when no access URL is
//! set. Such a request with a body must also be `application/json` (415 otherwise; file uploads
//! keep their archive types): forms and `text/plain` are what a cross-site page can send without
//! asking — except on the dashboard's own pages (outside `/api/`), whose forms pass the same-site
//! check like any other write. Requests with the header token are unaffected (any content type, as
//! `curl -d` sends).

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use uuid::Uuid;

use crate::Shared;
use crate::error::ApiError;

/// The session cookie's name.
const SESSION_COOKIE: &str = "coder_session_token";

/// The request id header.
const REQUEST_ID: &str = "x-request-id";

/// The outermost layer. On the way in, replaces any client `X-Request-Id` with a fresh
/// server-generated one; on the way out, the response carries that id (unless a route set its
/// own) and says which server answered: `X-Coder-Build-Version`, Atrium's own semver as
/// `GET /buildinfo` gives it (`coder login` reads it, even from a 404). One layer rather than
/// three: each layer is a boxed service clone per request.
pub async fn stamp(mut req: Request, next: Next) -> Response {
    let id = request_id_value(next_request_id());
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        "x-coder-build-version",
        HeaderValue::from_static(concat!("v", env!("CARGO_PKG_VERSION"))),
    );
    if !headers.contains_key(REQUEST_ID) {
        headers.insert(REQUEST_ID, id);
    }
    response
}

/// A fresh request id without a system call: a random half drawn once per process (so
/// replicas and restarts do not collide) and a counter, shaped as a version 4 UUID (audit rows
/// store it as one). Request ids identify, they are not secrets.
fn next_request_id() -> Uuid {
    static PROCESS: LazyLock<u64> = LazyLock::new(|| Uuid::new_v4().as_u64_pair().0);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The low half's top two bits are the RFC 4122 variant (10); the random half keeps the
    // version nibble `new_v4` set.
    Uuid::from_u64_pair(*PROCESS, (n & (u64::MAX >> 2)) | (1 << 63))
}

fn request_id_value(id: Uuid) -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// How long a request may take before it is answered 408 (its handler is dropped).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The NUL, cross-site and content-type checks, the request timeout, and the cookie's `Secure`
/// flag.
pub async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    if let Err(e) = check(&state, &req) {
        return e.into_response();
    }
    let mut response = within(deadline, next.run(req)).await;
    if https(state.config.access_url.as_deref()) {
        secure_session_cookie(response.headers_mut());
    }
    response
}

/// `handler`'s response, or an empty 408 once `deadline` passes. The timer is armed only if
/// the handler does not answer on its first poll: a request served from memory never touches
/// the timer wheel (a timeout layer registers and removes a timer per request).
async fn within(deadline: Instant, handler: impl Future<Output = Response>) -> Response {
    let mut handler = std::pin::pin!(handler);
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(response) = handler.as_mut().poll(cx) {
            return Poll::Ready(response);
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| StatusCode::REQUEST_TIMEOUT.into_response())
    })
    .await
}

/// Routes that start a browser session: a cross-site form must not sign a victim's browser in
/// to the attacker's account (login CSRF), cookie or not.
/// The dashboard's sign-in and first-run setup forms are such routes too.
const SESSION_STARTS: &[&str] = &["/api/v2/users/login", "/api/v2/users/first", "/login", "/setup"];

fn cross_site() -> ApiError {
    ApiError::forbidden_with("Cross-site request refused.").detail(
        "Requests authenticated by the session cookie must come from the same site. \
         Use the Coder-Session-Token header from other clients.",
    )
}

fn check(state: &Shared, req: &Request) -> Result<(), ApiError> {
    check_nul(req.uri())?;
    let headers = req.headers();
    if req.method() == Method::POST
        && SESSION_STARTS.contains(&req.uri().path())
        && !same_site(state.config.access_url.as_deref(), headers)
    {
        return Err(cross_site());
    }
    if !cookie_authenticated(headers, !req.uri().path().starts_with("/api/")) {
        return Ok(());
    }
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes_state && !upgrade {
        return Ok(());
    }
    if !same_site(state.config.access_url.as_deref(), headers) {
        return Err(cross_site());
    }
    if changes_state && has_body(headers) {
        let media =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = media.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        // The dashboard's pages (outside `/api/`) post forms (a file upload as multipart);
        // the same-site check above is what protects them.
        let allowed = essence == "application/json"
            || (req.uri().path() == "/api/v2/files"
                && matches!(
                    essence.as_str(),
                    "application/x-tar" | "application/zip" | "application/x-zip-compressed"
                ))
            || (!req.uri().path().starts_with("/api/")
                && matches!(
                    essence.as_str(),
                    "application/x-www-form-urlencoded" | "multipart/form-data"
                ));
        if !allowed {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type \"{media}\"."),
            )
            .detail(
                "Requests authenticated by the session cookie must send their body as application/json.",
            ));
        }
    }
    Ok(())
}

/// A NUL in the path or the query (only `%00` can carry one: the HTTP parser refuses raw
/// control bytes), or a path that does not percent-decode to UTF-8 (which the router's path
/// extractor would refuse in plain text).
fn check_nul(uri: &Uri) -> Result<(), ApiError> {
    if uri.path().contains("%00") {
        return Err(ApiError::bad_request("Invalid path.")
            .detail("The path must not contain the NUL character (%00)."));
    }
    if std::str::from_utf8(&percent_decode(uri.path())).is_err() {
        return Err(ApiError::bad_request("Invalid path.")
            .detail("The path must be valid UTF-8 once percent-decoded."));
    }
    if uri.query().is_some_and(|q| q.contains("%00")) {
        return Err(ApiError::bad_request("Query parameters have invalid values.")
            .detail("Query parameters must not contain the NUL character (%00)."));
    }
    Ok(())
}

/// The bytes a path stands for (`%XX` decoded; a `%` not followed by two hex digits is kept).
fn percent_decode(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The session comes from the cookie: the cookie is there and, for the API, the header is not
/// (the API reads the header first, and a cross-site page cannot set it). The dashboard reads
/// only the cookie, so outside `/api/` a header beside it changes nothing.
fn cookie_authenticated(headers: &HeaderMap, dashboard: bool) -> bool {
    let header_token = headers.get("coder-session-token").is_some_and(|v| !v.as_bytes().is_empty());
    (dashboard || !header_token)
        && headers.get_all(header::COOKIE).iter().any(|v| {
            v.to_str().is_ok_and(|cookies| {
                cookies.split(';').any(|pair| {
                    pair.trim()
                        .split_once('=')
                        .is_some_and(|(name, value)| name == SESSION_COOKIE && !value.is_empty())
                })
            })
        })
}

fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.to_str().map_or(true, |n| n.trim() != "0"))
}

/// Whether the browser says the request comes from this site: its `Origin`, else its
/// `Sec-Fetch-Site`, else (browsers too old for either) its `Referer`. With none of them the
/// client is not a browser that would attach cookies on its own.
fn same_site(access_url: Option<&str>, headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).map(|v: &HeaderValue| v.to_str().ok());
    if let Some(origin) = text(header::ORIGIN) {
        return origin.and_then(Origin::parse).is_some_and(|o| is_own(access_url, headers, &o));
    }
    match text(HeaderName::from_static("sec-fetch-site")) {
        // `same-site` is another origin on the same registrable domain (a workspace app on a
        // subdomain, say): not this site.
        Some(site) => matches!(site, Some("same-origin" | "none")),
        None => match text(header::REFERER) {
            Some(referer) => {
                referer.and_then(Origin::parse).is_some_and(|o| is_own(access_url, headers, &o))
            }
            None => true,
        },
    }
}

/// Whether `origin` is this site's: the access URL's origin, else the request's own `Host`.
fn is_own(access_url: Option<&str>, headers: &HeaderMap, origin: &Origin) -> bool {
    match access_url {
        Some(url) => Origin::parse(url).is_some_and(|own| own == *origin),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
            .is_some_and(|host| {
                host.host().eq_ignore_ascii_case(&origin.host)
                    && host.port_u16().unwrap_or(default_port(&origin.scheme)) == origin.port
            }),
    }
}

/// A web origin: scheme, host and port (the default port filled in).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]` (anything after the authority is ignored, so an access URL with
    /// a path works); `null` and other opaque origins are `None`.
    fn parse(s: &str) -> Option<Origin> {
        let uri: Uri = s.trim().parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let host = uri.host()?.to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(default_port(&scheme));
        Some(Origin { scheme, host, port })
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 }
}

fn https(access_url: Option<&str>) -> bool {
    access_url.is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
}

/// Adds `Secure` to the session cookie the response sets (login, logout).
fn secure_session_cookie(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    if !cookies.iter().any(|c| is_session_cookie(c) && !has_secure(c)) {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let cookie = if is_session_cookie(&cookie) && !has_secure(&cookie) {
            let text = format!("{}; Secure", cookie.to_str().unwrap_or_default());
            HeaderValue::from_str(&text).unwrap_or(cookie)
        } else {
            cookie
        };
        headers.append(header::SET_COOKIE, cookie);
    }
}

fn is_session_cookie(c: &HeaderValue) -> bool {
    c.as_bytes().starts_with(format!("{SESSION_COOKIE}=").as_bytes())
}

fn has_secure(c: &HeaderValue) -> bool {
    c.to_str().is_ok_and(|s| s.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")));
        }
        h
    }

    #[tokio::test]
    async fn a_slow_handler_is_answered_408_and_a_quick_one_passes() {
        let soon = Instant::now() + Duration::from_millis(20);
        let slow = within(soon, std::future::pending::<Response>()).await;
        assert_eq!(slow.status(), StatusCode::REQUEST_TIMEOUT);
        let quick = within(soon, async { StatusCode::OK.into_response() }).await;
        assert_eq!(quick.status(), StatusCode::OK);
        // A handler that waits, then answers before the deadline.
        let later = Instant::now() + Duration::from_secs(30);
        let waits = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            StatusCode::CREATED.into_response()
        };
        assert_eq!(within(later, waits).await.status(), StatusCode::CREATED);
    }

    #[test]
    fn request_ids_are_distinct_v4_uuids() {
        let a = next_request_id();
        let b = next_request_id();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        let text = request_id_value(b);
        assert_eq!(text.to_str().ok().and_then(|t| t.parse::<Uuid>().ok()), Some(b));
    }

    #[test]
    fn origins() {
        let own = headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]);
        assert!(same_site(None, &own));
        let evil = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")]);
        assert!(!same_site(None, &evil));
        let null = headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]);
        assert!(!same_site(None, &null));
        let default_port =
            headers(&[("host", "coder.example"), ("origin", "https://coder.example")]);
        assert!(same_site(None, &default_port));
        let access = Some("https://coder.example/");
        assert!(same_site(access, &headers(&[("origin", "https://coder.example:443")])));
        assert!(!same_site(access, &headers(&[("origin", "http://coder.example")])));
        assert!(!same_site(access, &headers(&[("origin", "https://app.coder.example")])));
        assert!(!same_site(None, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_site(None, &headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_site(None, &headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_site(None, &headers(&[])));
        // Neither Origin nor Sec-Fetch-Site: the Referer decides when there is one.
        let referer = |r: &str| headers(&[("host", "127.0.0.1:3000"), ("referer", r)]);
        assert!(same_site(None, &referer("http://127.0.0.1:3000/users?q=x")));
        assert!(!same_site(None, &referer("https://evil.example/attack.html")));
        assert!(!same_site(None, &referer("about:blank")));
        assert!(!same_site(access, &headers(&[("referer", "https://evil.example/")])));
        assert!(same_site(access, &headers(&[("referer", "https://coder.example/workspaces")])));
    }

    #[test]
    fn paths_must_decode_to_utf8() {
        let uri = |s: &str| s.parse::<Uri>().unwrap_or_default();
        assert!(check_nul(&uri("/api/v2/users/%FF")).is_err());
        assert!(check_nul(&uri("/api/v2/organizations/%C3%28/members")).is_err());
        assert!(check_nul(&uri("/api/v2/users/%E2%9C%93")).is_ok());
        assert!(check_nul(&uri("/api/v2/users/100%")).is_ok());
        assert!(check_nul(&uri("/api/v2/users/%zz")).is_ok());
        assert_eq!(percent_decode("/a%2Fb%e2%9c%93%4"), b"/a/b\xe2\x9c\x93%4");
    }

    #[test]
    fn cookie_or_header() {
        for dashboard in [false, true] {
            let cookie = headers(&[("cookie", "a=b; coder_session_token=x")]);
            assert!(cookie_authenticated(&cookie, dashboard));
            let empty = headers(&[("cookie", "coder_session_token=")]);
            assert!(!cookie_authenticated(&empty, dashboard));
            assert!(!cookie_authenticated(&headers(&[("cookie", "other=x")]), dashboard));
        }
        // A header beside the cookie: the API uses the header; the dashboard the cookie.
        let both = headers(&[("cookie", "coder_session_token=x"), ("coder-session-token", "y")]);
        assert!(!cookie_authenticated(&both, false));
        assert!(cookie_authenticated(&both, true));
    }

    #[test]
    fn secure_flag() {
        let mut h = headers(&[
            ("set-cookie", "coder_session_token=abc; Path=/; HttpOnly"),
            ("set-cookie", "other=1"),
        ]);
        secure_session_cookie(&mut h);
        let all: Vec<_> =
            h.get_all("set-cookie").iter().map(|v| v.to_str().unwrap_or("")).collect();
        assert_eq!(all, ["coder_session_token=abc; Path=/; HttpOnly; Secure", "other=1"]);
        assert!(https(Some("HTTPS://x")));
        assert!(!https(Some("http://x")));
        assert!(!https(None));
    }
}
