//! Session keys and API tokens of a user (coder-api.md §1.2, "API keys / tokens").

use crate::convert::time;
use crate::users::resolve_user;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::users::ApiKey;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{StoreError, UserId, api_keys};

pub fn key_object(owner: UserId) -> Object<'static> {
    Object::of(ResourceType::ApiKey).with_owner(owner.uuid())
}

pub fn api_key(k: &api_keys::ApiKey) -> ApiKey {
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

pub async fn owned_key(
    state: &Domain,
    actor: &Caller,
    param: &str,
    id: &str,
    action: Action,
) -> Result<api_keys::ApiKey> {
    let user = resolve_user(state, actor, param).await?;
    let key = match api_keys::get(state.legacy_store(), id).await {
        Ok(k) if k.user_id == user.id => k,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    actor.require_or_404(action, &key_object(user.id))?;
    Ok(key)
}
