//! Session keys and API tokens of a user (coder-api.md §1.2, "API keys / tokens"). Every
//! operation resolves `{user}` as [`resolve_user`] does, then authorizes on the user's API-key
//! object; keys the caller may not act on are not found.

use std::time::Duration;

use atrium_api::users::{ApiKey, ApiKeyWithOwner, CreateTokenRequest, GenerateApiKeyResponse};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{DbTime, LoginType, StoreError, UserId, api_keys};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::auth::create_session;
use crate::convert::time;
use crate::users::resolve_user;
use crate::{Caller, Domain, Error, Kind, Result, validate};

/// A new session key for the user (the CLI's `login --token` flow). Authorizes creating the
/// user's API keys (else not found).
pub async fn create_session_key(
    d: &Domain,
    caller: &Caller,
    user: &str,
) -> Result<GenerateApiKeyResponse> {
    let mut entry = Entry::new("create", "api_key").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        caller.require_or_404(Action::Create, &key_object(user.id))?;
        let mut tx = d.store().begin().await?;
        let key =
            create_session(&mut tx, user.id, user.login_type, d.config.session_duration, "", "all")
                .await?;
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Ok(GenerateApiKeyResponse { key })
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// A named API token with a lifetime (at most the configured maximum) and scope. Authorizes
/// creating the user's API keys (else not found); a taken name is a conflict.
pub async fn create_token(
    d: &Domain,
    caller: &Caller,
    user: &str,
    req: &CreateTokenRequest,
) -> Result<GenerateApiKeyResponse> {
    let mut entry = Entry::new("create", "api_key").by(caller);
    let result = async {
        let user = resolve_user(d, caller, user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        caller.require_or_404(Action::Create, &key_object(user.id))?;
        let scope = match req.scope.as_str() {
            "" | "all" => "all",
            "application_connect" => "application_connect",
            other => {
                return Err(Error::bad_request("Failed to validate create API key request.")
                    .validation("scope", format!("unknown scope \"{other}\"")));
            }
        };
        let max = d.config.max_token_lifetime;
        let lifetime = match u64::try_from(req.lifetime) {
            Ok(0) => max,
            Ok(ns) => Duration::from_nanos(ns),
            Err(_) => {
                return Err(Error::bad_request("Failed to validate create API key request.")
                    .detail("lifetime must be positive"));
            }
        };
        if lifetime > max {
            return Err(Error::bad_request("Failed to validate create API key request.")
                .detail(format!("lifetime must be less than {}s", max.as_secs())));
        }
        validate::token_name(&req.token_name)?;
        let name = if req.token_name.is_empty() {
            format!("token-{}", DbTime::now().unix_micros())
        } else {
            req.token_name.clone()
        };
        entry.additional_fields = json!({"token_name": name});
        let mut tx = d.store().begin().await?;
        let key = create_session(&mut tx, user.id, LoginType::Token, lifetime, &name, scope)
            .await
            .map_err(|e| {
                if e.kind == Kind::Conflict {
                    Error::conflict(format!("A token with name \"{name}\" already exists."))
                } else {
                    e
                }
            })?;
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Ok(GenerateApiKeyResponse { key })
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The user's API tokens (never their secrets), expired ones too when asked. Authorizes
/// reading the user's API keys (else not found).
pub async fn list_tokens(
    d: &Domain,
    caller: &Caller,
    user: &str,
    include_expired: bool,
    include_all: bool,
) -> Result<Vec<ApiKeyWithOwner>> {
    let user = resolve_user(d, caller, user).await?;
    caller.require_or_404(Action::Read, &key_object(user.id))?;
    let now = DbTime::now();
    let keys = if include_all {
        // Coder's `include_all`: every user's tokens the caller may read.
        let all = api_keys::list_all_tokens(d.store(), include_expired, now).await?;
        all.into_iter().filter(|k| caller.can(Action::Read, &key_object(k.user_id))).collect()
    } else {
        api_keys::list_tokens(d.store(), user.id, include_expired, now).await?
    };
    let mut usernames = std::collections::HashMap::new();
    usernames.insert(user.id, user.username.clone());
    let mut out = Vec::with_capacity(keys.len());
    for k in &keys {
        let username = match usernames.get(&k.user_id) {
            Some(name) => name.clone(),
            None => {
                let name = atrium_store::users::get(d.store(), k.user_id).await?.username;
                usernames.insert(k.user_id, name.clone());
                name
            }
        };
        out.push(ApiKeyWithOwner { key: api_key(k), username });
    }
    Ok(out)
}

/// A token of the user by name. Authorizes reading the user's API keys (else not found).
pub async fn get_token_by_name(
    d: &Domain,
    caller: &Caller,
    user: &str,
    name: &str,
) -> Result<ApiKey> {
    let user = resolve_user(d, caller, user).await?;
    caller.require_or_404(Action::Read, &key_object(user.id))?;
    let key = api_keys::get_token_by_name(d.store(), user.id, name).await?;
    Ok(api_key(&key))
}

/// A key of the user by id. Authorizes reading the user's API keys (else not found).
pub async fn get(d: &Domain, caller: &Caller, user: &str, id: &str) -> Result<ApiKey> {
    let key = owned_key(d, caller, user, id, Action::Read).await?;
    Ok(api_key(&key))
}

/// Deletes a key of the user: its token stops working at once. Authorizes deleting the
/// user's API keys (else not found).
pub async fn delete(d: &Domain, caller: &Caller, user: &str, id: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "api_key").by(caller);
    let result = async {
        let key = owned_key(d, caller, user, id, Action::Delete).await?;
        entry.resource(key.user_id.uuid(), key.token_name.clone());
        let mut tx = d.store().begin().await?;
        api_keys::delete(&mut tx, &key.id).await?;
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Expires a key of the user now, keeping its row. Authorizes updating the user's API keys
/// (else not found).
pub async fn expire(d: &Domain, caller: &Caller, user: &str, id: &str) -> Result<()> {
    let mut entry = Entry::new("write", "api_key").by(caller);
    let result = async {
        let key = owned_key(d, caller, user, id, Action::Update).await?;
        entry.resource(key.user_id.uuid(), key.token_name.clone());
        let mut tx = d.store().begin().await?;
        api_keys::expire(&mut tx, &key.id, DbTime::now()).await?;
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

fn key_object(owner: UserId) -> Object<'static> {
    Object::of(ResourceType::ApiKey).with_owner(owner.uuid())
}

fn api_key(k: &api_keys::ApiKey) -> ApiKey {
    ApiKey {
        id: k.id.clone(),
        user_id: k.user_id.uuid(),
        last_used: time(k.last_used),
        expires_at: time(k.expires_at),
        created_at: time(k.created_at),
        updated_at: time(k.updated_at),
        login_type: k.login_type.as_str().to_owned(),
        scope: k.scope.clone(),
        token_name: k.token_name.clone(),
        lifetime_seconds: k.lifetime_seconds,
    }
}

/// The key `id` of the user `param`, if the caller may do `action` on the user's keys; a key
/// of another user is not found.
async fn owned_key(
    d: &Domain,
    caller: &Caller,
    param: &str,
    id: &str,
    action: Action,
) -> Result<api_keys::ApiKey> {
    let user = resolve_user(d, caller, param).await?;
    let key = match api_keys::get(d.store(), id).await {
        Ok(k) if k.user_id == user.id => k,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    caller.require_or_404(action, &key_object(user.id))?;
    Ok(key)
}
