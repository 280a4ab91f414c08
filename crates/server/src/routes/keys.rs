//! Session keys and API tokens of a user (coder-api.md §1.2, "API keys / tokens"). The work
//! is in [`atrium_domain::keys`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::users::{ApiKey, CreateTokenRequest, GenerateApiKeyResponse};
use atrium_domain::keys;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_session_key))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(get_token_by_name))
        .routes(routes!(get_key, delete_key))
        .routes(routes!(expire_key))
}

/// A new session key for the user (the CLI's `login --token` flow).
#[utoipa::path(post, path = "/api/v2/users/{user}/keys", tag = "Users",
    params(("user" = String, Path)), responses((status = 201, body = GenerateApiKeyResponse)))]
async fn create_session_key(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    let key = keys::create_session_key(&state, &actor, &user).await?;
    Ok(json_response(StatusCode::CREATED, &key))
}

/// A named API token with a lifetime and scope.
#[utoipa::path(post, path = "/api/v2/users/{user}/keys/tokens", tag = "Users", request_body = CreateTokenRequest,
    params(("user" = String, Path)), responses((status = 201, body = GenerateApiKeyResponse), (status = 400, body = Message)))]
async fn create_token(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    Body(req): Body<CreateTokenRequest>,
) -> ApiResult<Response> {
    let key = keys::create_token(&state, &actor, &user, &req).await?;
    Ok(json_response(StatusCode::CREATED, &key))
}

/// The user's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/tokens", tag = "Users",
    params(("user" = String, Path), ("include_expired" = Option<bool>, Query),
        ("include_all" = Option<bool>, Query, description = "Every user's tokens the caller may read.")),
    responses((status = 200, body = Vec<atrium_api::users::ApiKeyWithOwner>)))]
async fn list_tokens(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let include_expired = params.bool("include_expired")?.unwrap_or(false);
    let include_all = params.bool("include_all")?.unwrap_or(false);
    let tokens = keys::list_tokens(&state, &actor, &user, include_expired, include_all).await?;
    Ok(json_response(StatusCode::OK, &tokens))
}

/// A token by name.
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/tokens/{keyname}", tag = "Users",
    params(("user" = String, Path), ("keyname" = String, Path)), responses((status = 200, body = ApiKey)))]
async fn get_token_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = keys::get_token_by_name(&state, &actor, &user, &name).await?;
    Ok(json_response(StatusCode::OK, &key))
}

/// A key by id.
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/{keyid}", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 200, body = ApiKey)))]
async fn get_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &keys::get(&state, &actor, &user, &id).await?))
}

/// Deletes a key: its token stops working at once.
#[utoipa::path(delete, path = "/api/v2/users/{user}/keys/{keyid}", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 204)))]
async fn delete_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    keys::delete(&state, &actor, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Expires a key now, keeping its row.
#[utoipa::path(put, path = "/api/v2/users/{user}/keys/{keyid}/expire", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 204)))]
async fn expire_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    keys::expire(&state, &actor, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
