//! First-user setup, password login and logout (coder-api.md §1.1). The work is in
//! [`atrium_domain::auth`]; the per-IP login rate limit and the session cookie are HTTP's.

use crate::Shared;
use crate::actor::{Actor, Meta};
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::users::{
    CreateFirstUserRequest, CreateFirstUserResponse, LoginWithPasswordRequest,
    LoginWithPasswordResponse,
};
use atrium_domain::auth;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(get_first_user, post_first_user))
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// Whether setup is done.
#[utoipa::path(get, path = "/api/v2/users/first", tag = "Users",
    responses((status = 200, body = Message), (status = 404, body = Message)))]
async fn get_first_user(State(state): State<Shared>) -> ApiResult<Response> {
    auth::first_user_exists(&state).await?;
    Ok(json_response(
        StatusCode::OK,
        &Message::message("The initial user has already been created!"),
    ))
}

/// Creates the first owner, the default organization (and with it its Everyone group).
#[utoipa::path(post, path = "/api/v2/users/first", tag = "Users", request_body = CreateFirstUserRequest,
    responses((status = 201, body = CreateFirstUserResponse), (status = 409, body = Message)))]
async fn post_first_user(
    State(state): State<Shared>,
    Meta(meta): Meta,
    Body(req): Body<CreateFirstUserRequest>,
) -> ApiResult<Response> {
    let created = auth::create_first_user(&state, &meta, &req).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

fn session_cookie(token: &str, max_age: u64) -> HeaderValue {
    let cookie =
        format!("coder_session_token={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    HeaderValue::from_str(&cookie)
        .unwrap_or(HeaderValue::from_static("coder_session_token=; Path=/"))
}

/// Logs in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v2/users/login", tag = "Authorization", request_body = LoginWithPasswordRequest,
    responses((status = 201, body = LoginWithPasswordResponse), (status = 401, body = Message), (status = 429, body = Message)))]
async fn login(
    State(state): State<Shared>,
    Meta(meta): Meta,
    Body(req): Body<LoginWithPasswordRequest>,
) -> ApiResult<Response> {
    state.login_limiter.limit(meta.ip)?;
    let session = auth::login(&state, &meta, &req).await?;
    let cookie = session_cookie(&session.token, session.lifetime.as_secs());
    let mut response = json_response(
        StatusCode::CREATED,
        &LoginWithPasswordResponse { session_token: session.token },
    );
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the current session and revokes the user's `application_connect` keys (as Coder does).
#[utoipa::path(post, path = "/api/v2/users/logout", tag = "Users", responses((status = 200, body = Message)))]
async fn logout(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    auth::logout(&state, &actor).await?;
    let mut response = json_response(StatusCode::OK, &Message::message("Logged out!"));
    response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0));
    Ok(response)
}
