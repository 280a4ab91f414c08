//! The error responses every operation can return, added to the OpenAPI document in one place
//! (rather than in each route's annotation), each with Coder's `Response` body
//! (`{"message", "detail"?, "validations"?}`): `scripts/schemathesis` checks every response
//! against the document.
//!
//! Where they come from (all through [`crate::error::ApiError`], so always that body):
//! - 400: a NUL character in the path or query ([`crate::guard`]), an undecodable body or query;
//! - 401: no or an expired session ([`crate::actor`]; routes without a session never send it,
//!   listing it there is harmless);
//! - 403: a forbidden action, or a cross-site request authenticated by the cookie (guard);
//! - 404: an unknown or unreadable row;
//! - 408: the 60 s request timeout;
//! - 409: a unique name taken (requests that write);
//! - 413: a body over the 1 MiB limit (requests with a body);
//! - 415: a cookie-authenticated body that is not JSON (guard; requests with a body);
//! - 500: an internal failure (the cause is logged, never sent).
//!
//! Responses a route documents itself are kept; every response also gets a description (its
//! reason phrase), which OpenAPI requires.
//!
//! The session token is a security scheme with Coder's three carriers (the `Coder-Session-Token`
//! header, the `coder_session_token` cookie, or the query parameter of that name), required by
//! every operation but the [`PUBLIC`] ones; a test sends each operation without a token and
//! checks that exactly the secured ones answer 401.

use axum::http::StatusCode;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Every operation.
const ALL: &[u16] = &[400, 401, 403, 404, 408, 500];
/// Operations that change state (every method but GET).
const WRITES: &[u16] = &[409];
/// Operations with a request body.
const BODIES: &[u16] = &[413, 415];

/// Operations that need no session (method, path): first-run setup, signing in, and what a
/// client reads before it has a token.
pub const PUBLIC: &[(&str, &str)] = &[
    ("get", "/api/v2/buildinfo"),
    ("get", "/api/v2/updatecheck"),
    ("get", "/api/v2/users/first"),
    ("post", "/api/v2/users/first"),
    ("post", "/api/v2/users/login"),
    ("get", "/api/v2/users/authmethods"),
    ("get", "/api/v2/users/oidc/callback"),
];

/// Builds one carrier's scheme.
type Carrier = fn() -> ApiKey;

/// The session token's carriers, in the order the server reads them.
const SESSION_SCHEMES: [(&str, Carrier); 3] = [
    ("CoderSessionToken", || ApiKey::Header(ApiKeyValue::new("Coder-Session-Token"))),
    ("CoderSessionCookie", || ApiKey::Cookie(ApiKeyValue::new("coder_session_token"))),
    ("CoderSessionQuery", || ApiKey::Query(ApiKeyValue::new("coder_session_token"))),
];

/// Declares the session token and requires it (any one carrier) on every non-public operation.
pub fn add_security(spec: &mut OpenApi) {
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, key) in SESSION_SCHEMES {
        components.add_security_scheme(name, SecurityScheme::ApiKey(key()));
    }
    let any_carrier: Vec<SecurityRequirement> = SESSION_SCHEMES
        .iter()
        .map(|(name, _)| SecurityRequirement::new(*name, Vec::<String>::new()))
        .collect();
    for (path, item) in spec.paths.paths.iter_mut() {
        let ops = [
            ("get", item.get.as_mut()),
            ("put", item.put.as_mut()),
            ("post", item.post.as_mut()),
            ("delete", item.delete.as_mut()),
            ("patch", item.patch.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            if !PUBLIC.contains(&(method, path.as_str())) {
                op.security = Some(any_carrier.clone());
            }
        }
    }
}

/// Adds the shared error responses to every operation of `spec`.
pub fn add_error_responses(spec: &mut OpenApi) {
    for item in spec.paths.paths.values_mut() {
        let ops = [
            (false, item.get.as_mut()),
            (true, item.put.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.patch.as_mut()),
        ];
        for (write, op) in ops {
            let Some(op) = op else { continue };
            let body = op.request_body.is_some();
            let mut codes: Vec<u16> = ALL.to_vec();
            if write {
                codes.extend_from_slice(WRITES);
            }
            if body || write {
                codes.extend_from_slice(BODIES);
            }
            add(op, &codes);
        }
    }
}

fn add(op: &mut Operation, codes: &[u16]) {
    for code in codes {
        op.responses.responses.entry(code.to_string()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Response")))
                            .build(),
                    )
                    .build(),
            )
        });
    }
    for (code, response) in &mut op.responses.responses {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Response")
                .to_owned();
        }
    }
}
