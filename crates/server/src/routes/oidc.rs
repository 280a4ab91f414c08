//! Sign-in through the OpenID Connect provider, on Coder's route: `GET
//! /api/v2/users/oidc/callback` without a code starts the flow (state cookie, PKCE and nonce
//! saved in the database, 307 to the provider); with the provider's code it finishes it (the
//! relying party in `crate::oidc` checks the answer, `atrium_domain::oidc` signs in) and sets
//! the same `coder_session_token` cookie password login sets.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::actor::Meta;
use crate::error::{ApiError, ApiResult};
use atrium_api::Response as Message;
use atrium_domain::oidc;

/// Coder's cookie names for the flow.
const STATE_COOKIE: &str = "oauth_state";
const REDIRECT_COOKIE: &str = "oauth_redirect";

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(callback))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    /// The provider's authorization code (absent: start a sign-in).
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    /// Where to go after signing in (a path on this server).
    #[serde(default)]
    redirect: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_uri: String,
}

/// Starts or finishes an OpenID Connect sign-in.
#[utoipa::path(get, path = "/api/v2/users/oidc/callback", tag = "Users", params(CallbackQuery),
    responses((status = 307, description = "To the provider, or back to the redirect signed in"),
        (status = 400, body = Message), (status = 401, body = Message), (status = 403, body = Message)))]
async fn callback(
    State(state): State<Shared>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let Some(rp) = state.oidc.as_ref() else {
        return Err(ApiError::bad_request("The oauth2 method requested is not configured!"));
    };
    if !q.error.is_empty() {
        let detail = match (q.error_description.is_empty(), q.error_uri.is_empty()) {
            (true, false) => format!("error_uri: {}", q.error_uri),
            (false, false) => format!("{}, error_uri: {}", q.error_description, q.error_uri),
            _ => q.error_description.clone(),
        };
        return Err(ApiError::bad_request(format!(
            "Encountered error in oidc process: {}",
            q.error
        ))
        .detail(detail));
    }
    if q.code.is_empty() {
        let (url, csrf, pending) = rp.start(local_path(&q.redirect));
        oidc::begin(&state, &csrf, &pending).await?;
        let mut response = redirect_to(&url);
        add_cookie(&mut response, STATE_COOKIE, &csrf, 600);
        add_cookie(&mut response, REDIRECT_COOKIE, &pending.redirect, 600);
        return Ok(response);
    }
    if q.state.is_empty() {
        return Err(ApiError::bad_request("State must be provided."));
    }
    let Some(cookie) = cookie(&headers, STATE_COOKIE) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("Cookie \"{STATE_COOKIE}\" must be provided."),
        ));
    };
    if cookie != q.state {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "State mismatched."));
    }
    let pending = oidc::take(&state, &q.state).await?;
    let identity = rp.finish(&q.code, &pending).await.map_err(|f| {
        let status =
            if f.server_side { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
        ApiError::new(status, f.message).detail(f.detail)
    })?;
    let session = oidc::sign_in(&state, &meta, &identity).await?;
    let target = if pending.redirect.is_empty() { "/" } else { pending.redirect.as_str() };
    let mut response = redirect_to(target);
    add_cookie(&mut response, "coder_session_token", &session.token, session.lifetime.as_secs());
    add_cookie(&mut response, STATE_COOKIE, "", 0);
    add_cookie(&mut response, REDIRECT_COOKIE, "", 0);
    Ok(response)
}

fn redirect_to(url: &str) -> Response {
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn add_cookie(response: &mut Response, name: &str, value: &str, max_age: u64) {
    let cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|all| {
        all.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    })
}

/// Only a path on this server (Coder strips the host so a sign-in cannot send the browser
/// elsewhere); cookie-unsafe characters make it `/`.
fn local_path(redirect: &str) -> String {
    let safe = atrium_web::session::is_local_path(redirect) && !redirect.contains([';', ',', ' ']);
    if safe { redirect.to_owned() } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(local_path("/workspaces"), "/workspaces");
        assert_eq!(local_path("/cli-auth?x=1"), "/cli-auth?x=1");
        assert_eq!(local_path("https://evil.example/"), "");
        assert_eq!(local_path("//evil.example/"), "");
        assert_eq!(local_path("/a;b"), "");
        assert_eq!(local_path("/\t/evil.example/"), "");
    }
}
