//! First-user setup, password login and logout (coder-api.md §1.1).

use atrium_store::{DbTime, LoginType, UserId, api_keys};

use crate::tokens;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};

/// Creates a session key for `user` and returns the token.
pub async fn create_session(
    db: impl Into<atrium_store::Db<'_>>,
    user: UserId,
    login_type: LoginType,
    lifetime: std::time::Duration,
    token_name: &str,
    scope: &str,
) -> Result<String> {
    let new = tokens::generate().map_err(Error::internal)?;
    let now = DbTime::now();
    api_keys::insert(
        db,
        &api_keys::NewApiKey {
            id: &new.id,
            hashed_secret: &new.hashed_secret,
            user_id: user,
            login_type,
            scope,
            token_name,
            lifetime_seconds: i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX),
            expires_at: now + lifetime,
            created_at: now,
            ip_address: "",
        },
    )
    .await?;
    Ok(new.token())
}
