//! Session keys and API tokens of a user (coder-api.md §1.2, "API keys / tokens").

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::validate;
use atrium_api::Response as Message;
use atrium_api::users::{ApiKey, CreateTokenRequest, GenerateApiKeyResponse};
use atrium_domain::auth::create_session;
#[allow(unused_imports)]
use atrium_domain::keys::*;
use atrium_domain::users::resolve_user;
use atrium_engine::Action;
use atrium_store::{DbTime, LoginType, api_keys};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;
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
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "api_key").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        actor.require_or_404(Action::Create, &key_object(user.id))?;
        let mut tx = state.legacy_store().begin().await?;
        let key = create_session(
            &mut tx,
            user.id,
            user.login_type,
            state.config.session_duration,
            "",
            "all",
        )
        .await?;
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::CREATED, &GenerateApiKeyResponse { key }))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// A named API token with a lifetime and scope.
#[utoipa::path(post, path = "/api/v2/users/{user}/keys/tokens", tag = "Users", request_body = CreateTokenRequest,
    params(("user" = String, Path)), responses((status = 201, body = GenerateApiKeyResponse), (status = 400, body = Message)))]
async fn create_token(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CreateTokenRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "api_key").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        actor.require_or_404(Action::Create, &key_object(user.id))?;
        let scope = match req.scope.as_str() {
            "" | "all" => "all",
            "application_connect" => "application_connect",
            other => {
                return Err(ApiError::bad_request("Failed to validate create API key request.")
                    .validation("scope", format!("unknown scope \"{other}\"")));
            }
        };
        let max = state.config.max_token_lifetime;
        let lifetime = match u64::try_from(req.lifetime) {
            Ok(0) => max,
            Ok(ns) => Duration::from_nanos(ns),
            Err(_) => {
                return Err(ApiError::bad_request("Failed to validate create API key request.")
                    .detail("lifetime must be positive"));
            }
        };
        if lifetime > max {
            return Err(ApiError::bad_request("Failed to validate create API key request.")
                .detail(format!("lifetime must be less than {}s", max.as_secs())));
        }
        validate::token_name(&req.token_name)?;
        let name = if req.token_name.is_empty() {
            format!("token-{}", DbTime::now().unix_micros())
        } else {
            req.token_name.clone()
        };
        entry.additional_fields = json!({"token_name": name});
        let mut tx = state.legacy_store().begin().await?;
        let key = create_session(&mut tx, user.id, LoginType::Token, lifetime, &name, scope)
            .await
            .map_err(|e| {
                if e.kind == atrium_domain::Kind::Conflict {
                    ApiError::conflict(format!("A token with name \"{name}\" already exists."))
                } else {
                    ApiError(e)
                }
            })?;
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::CREATED, &GenerateApiKeyResponse { key }))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// The user's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/tokens", tag = "Users",
    params(("user" = String, Path), ("include_expired" = Option<bool>, Query)), responses((status = 200, body = Vec<ApiKey>)))]
async fn list_tokens(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let user = resolve_user(&state, &actor, &param).await?;
    actor.require_or_404(Action::Read, &key_object(user.id))?;
    let include_expired = params.bool("include_expired")?.unwrap_or(false);
    let keys = api_keys::list_tokens(state.legacy_store(), user.id, include_expired, DbTime::now())
        .await?;
    Ok(json_response(StatusCode::OK, &keys.iter().map(api_key).collect::<Vec<_>>()))
}

/// A token by name.
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/tokens/{keyname}", tag = "Users",
    params(("user" = String, Path), ("keyname" = String, Path)), responses((status = 200, body = ApiKey)))]
async fn get_token_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let user = resolve_user(&state, &actor, &param).await?;
    actor.require_or_404(Action::Read, &key_object(user.id))?;
    let key = api_keys::get_token_by_name(state.legacy_store(), user.id, &name).await?;
    Ok(json_response(StatusCode::OK, &api_key(&key)))
}

/// A key by id.
#[utoipa::path(get, path = "/api/v2/users/{user}/keys/{keyid}", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 200, body = ApiKey)))]
async fn get_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = owned_key(&state, &actor, &param, &id, Action::Read).await?;
    Ok(json_response(StatusCode::OK, &api_key(&key)))
}

/// Deletes a key: its token stops working at once.
#[utoipa::path(delete, path = "/api/v2/users/{user}/keys/{keyid}", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 204)))]
async fn delete_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "api_key").by(&actor);
    let result = async {
        let key = owned_key(&state, &actor, &param, &id, Action::Delete).await?;
        entry.resource(key.user_id.uuid(), key.token_name.clone());
        let mut tx = state.legacy_store().begin().await?;
        api_keys::delete(&mut tx, &key.id).await?;
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Expires a key now, keeping its row.
#[utoipa::path(put, path = "/api/v2/users/{user}/keys/{keyid}/expire", tag = "Users",
    params(("user" = String, Path), ("keyid" = String, Path)), responses((status = 204)))]
async fn expire_key(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "api_key").by(&actor);
    let result = async {
        let key = owned_key(&state, &actor, &param, &id, Action::Update).await?;
        entry.resource(key.user_id.uuid(), key.token_name.clone());
        let mut tx = state.legacy_store().begin().await?;
        api_keys::expire(&mut tx, &key.id, DbTime::now()).await?;
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
