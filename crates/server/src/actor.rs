//! The authenticated caller as an extractor: the session token from the request, resolved by
//! the domain ([`atrium_domain::caller::authenticate`]) once per request.

use std::net::{IpAddr, SocketAddr};

use atrium_domain::Caller;
pub use atrium_domain::RequestMeta;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::Shared;
use crate::error::ApiError;

pub fn request_meta(parts: &Parts) -> RequestMeta {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let user_agent = header(&parts.headers, "user-agent").unwrap_or_default().to_owned();
    let request_id = header(&parts.headers, "x-request-id")
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::new_v4);
    RequestMeta { ip, user_agent, request_id }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The session token from the header, the cookie or the query parameter (Coder's order).
pub fn session_token(parts: &Parts) -> Option<String> {
    if let Some(t) = header(&parts.headers, "coder-session-token").filter(|t| !t.is_empty()) {
        return Some(t.to_owned());
    }
    for cookies in parts.headers.get_all("cookie") {
        let Ok(cookies) = cookies.to_str() else { continue };
        for pair in cookies.split(';') {
            if let Some(v) =
                pair.trim().strip_prefix("coder_session_token=").filter(|v| !v.is_empty())
            {
                return Some(v.to_owned());
            }
        }
    }
    parts.uri.query().and_then(|q| {
        q.split('&').find_map(|p| p.strip_prefix("coder_session_token=").map(str::to_owned))
    })
}

/// The authenticated caller of this request.
#[derive(Clone)]
pub struct Actor(pub Caller);

impl std::ops::Deref for Actor {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

/// Where the request came from (for routes that need no session, such as login).
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts)))
    }
}

impl FromRequestParts<Shared> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(actor.clone());
        }
        let meta = request_meta(parts);
        let token = session_token(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "Cookie \"coder_session_token\" or query parameter must be provided.",
            )
        })?;
        let actor = Actor(atrium_domain::caller::authenticate(&state.domain, &token, meta).await?);
        parts.extensions.insert(actor.clone());
        Ok(actor)
    }
}
