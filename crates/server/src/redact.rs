//! Credentials never reach the log: the request span shows the URI with secret query values
//! replaced, and headers (at trace level only) with secret values replaced.

use axum::http::{HeaderMap, Request, Uri};
use tower_http::trace::MakeSpan;
use tracing::{Level, Span};

/// What replaces a secret value.
pub const REDACTED: &str = "REDACTED";

/// Query parameters whose values are credentials (compared without case).
const SECRET_PARAMS: &[&str] = &[
    "coder_session_token",
    "session_token",
    "token",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "password",
    "secret",
    "code",
    "state",
    "signature",
];

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "coder-session-token",
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
    "coder-provisioner-daemon-psk",
    "coder-provisioner-daemon-key",
    "x-api-key",
];

/// The path and query, with the values of credential parameters replaced.
pub fn uri(uri: &Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else { return path.to_owned() };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_param(key) => format!("{key}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn is_secret_param(key: &str) -> bool {
    // Percent-encoded names (`coder%5Fsession%5Ftoken`) are compared decoded.
    let decoded = key.replace("%5F", "_").replace("%5f", "_");
    SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(&decoded))
}

/// Headers as `name: value` pairs, with credential values replaced.
pub fn headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// The request span: method, redacted URI, version, request id; headers (redacted) at trace
/// level.
#[derive(Clone, Copy, Debug, Default)]
pub struct RedactedSpan;

impl<B> MakeSpan<B> for RedactedSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok());
        // Headers are recorded only at trace level (redacted even then).
        let span = tracing::debug_span!(
            "request",
            method = %request.method(),
            // Built only when the span is enabled.
            uri = %uri(request.uri()),
            version = ?request.version(),
            request_id = id,
            headers = tracing::field::Empty,
        );
        if tracing::enabled!(Level::TRACE) {
            span.record("headers", tracing::field::debug(headers(request.headers())));
        }
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_query_credentials() {
        let u: Uri = "/api/v2/users/me?coder_session_token=abc-def&q=x%3Dy&Token=t&flag"
            .parse()
            .unwrap_or_default();
        assert_eq!(
            uri(&u),
            "/api/v2/users/me?coder_session_token=REDACTED&q=x%3Dy&Token=REDACTED&flag"
        );
        let u: Uri = "/healthz".parse().unwrap_or_default();
        assert_eq!(uri(&u), "/healthz");
    }

    #[test]
    fn redacts_credential_headers() {
        let mut h = HeaderMap::new();
        h.insert("coder-session-token", axum::http::HeaderValue::from_static("abc-def"));
        h.insert("cookie", axum::http::HeaderValue::from_static("coder_session_token=abc-def"));
        h.insert("authorization", axum::http::HeaderValue::from_static("Bearer abc-def"));
        h.insert("user-agent", axum::http::HeaderValue::from_static("curl"));
        let shown = format!("{:?}", headers(&h));
        assert!(!shown.contains("abc-def"), "{shown}");
        assert!(shown.contains("curl"));
    }
}
