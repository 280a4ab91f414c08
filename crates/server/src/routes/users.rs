//! Users: create, list, get, profile, password, delete, suspend and activate
//! (coder-api.md §1.2, §3). The work is in [`atrium_domain::users`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, Page, QueryParams};
use atrium_api::Response as Message;
use atrium_api::users::{
    CreateUserRequest, GetUsersResponse, UpdateUserPasswordRequest, UpdateUserProfileRequest,
    User as ApiUser,
};
use atrium_domain::users;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, delete_user))
        .routes(routes!(update_profile))
        .routes(routes!(suspend_user))
        .routes(routes!(activate_user))
        .routes(routes!(update_password))
}

/// Creates a user (in the default org unless orgs are given).
#[utoipa::path(post, path = "/api/v2/users", tag = "Users", request_body = CreateUserRequest,
    responses((status = 201, body = ApiUser), (status = 400, body = Message), (status = 409, body = Message)))]
async fn create_user(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CreateUserRequest>,
) -> ApiResult<Response> {
    let user = users::create(&state, &actor, &req).await?;
    Ok(json_response(StatusCode::CREATED, &user))
}

/// Lists the users the caller may read, filtered by `q` (coder-api.md §2.2).
#[utoipa::path(get, path = "/api/v2/users", tag = "Users",
    params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
        ("after_id" = Option<uuid::Uuid>, Query)),
    responses((status = 200, body = GetUsersResponse), (status = 400, body = Message)))]
async fn list_users(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let q = params.single("q")?.unwrap_or_default();
    let page = Page::from_query(&params)?;
    let listed = users::list(&state, &actor, q, page.limits(), page.after_id).await?;
    Ok(json_response(StatusCode::OK, &listed))
}

/// A user by id, username or `me`.
#[utoipa::path(get, path = "/api/v2/users/{user}", tag = "Users",
    params(("user" = String, Path, description = "id, username or `me`")),
    responses((status = 200, body = ApiUser), (status = 400, body = Message)))]
async fn get_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &users::get(&state, &actor, &user).await?))
}

/// Soft-deletes a user; refused for yourself and while the user owns workspaces.
#[utoipa::path(delete, path = "/api/v2/users/{user}", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = Message), (status = 417, body = Message)))]
async fn delete_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    users::delete(&state, &actor, &user).await?;
    Ok(json_response(StatusCode::OK, &Message::message("User has been deleted!")))
}

/// Updates username and display name.
#[utoipa::path(put, path = "/api/v2/users/{user}/profile", tag = "Users", request_body = UpdateUserProfileRequest,
    params(("user" = String, Path)), responses((status = 200, body = ApiUser), (status = 409, body = Message)))]
async fn update_profile(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<UpdateUserProfileRequest>,
) -> ApiResult<Response> {
    let user = users::update_profile(&state, &actor, &user, &req).await?;
    Ok(json_response(StatusCode::OK, &user))
}

/// Suspends a user: their sessions and tokens stop working at once.
#[utoipa::path(put, path = "/api/v2/users/{user}/status/suspend", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = ApiUser), (status = 400, body = Message)))]
async fn suspend_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &users::suspend(&state, &actor, &user).await?))
}

/// Reactivates a user.
#[utoipa::path(put, path = "/api/v2/users/{user}/status/activate", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = ApiUser)))]
async fn activate_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &users::activate(&state, &actor, &user).await?))
}

/// Changes a password and revokes every session and token of that user.
#[utoipa::path(put, path = "/api/v2/users/{user}/password", tag = "Users", request_body = UpdateUserPasswordRequest,
    params(("user" = String, Path)), responses((status = 204), (status = 400, body = Message)))]
async fn update_password(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<UpdateUserPasswordRequest>,
) -> ApiResult<Response> {
    users::update_password(&state, &actor, &user, &req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
