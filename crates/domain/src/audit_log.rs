//! `GET /audit`: rows filtered by `read` on `audit_log` like any list (coder-api.md §1.8).

#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::users::User as ApiUser;
use atrium_store::users;

/// The actor of a row for a reader who may not read that user (an org auditor, say): only
/// what Coder's `MinimalUser` carries (id, username, avatar); everything else empty.
pub fn minimal_user(u: &users::User) -> ApiUser {
    ApiUser {
        id: u.id.uuid(),
        username: u.username.clone(),
        name: String::new(),
        email: String::new(),
        avatar_url: u.avatar_url.clone(),
        created_at: ::time::OffsetDateTime::UNIX_EPOCH,
        updated_at: ::time::OffsetDateTime::UNIX_EPOCH,
        last_seen_at: None,
        status: String::new(),
        login_type: String::new(),
        theme_preference: String::new(),
        organization_ids: Vec::new(),
        roles: Vec::new(),
    }
}
