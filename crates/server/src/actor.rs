//! The authenticated caller. The extractor resolves the session token, refuses suspended users
//! and revoked or expired tokens before the handler runs, reactivates dormant users, records
//! activity, and compiles the engine subject once for the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use atrium_engine::{Action, Object, ResourceType, RoleOptions, Scope, ScopeName, Subject};
use atrium_store::{DbTime, UserId, UserStatus, api_keys, roles, users};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use uuid::Uuid;

use crate::error::ApiError;
use crate::subject::{CustomRole, Membership, SubjectInput};
use crate::{Shared, audit, tokens};

/// Where a request came from, for audit rows and rate limits.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub ip: IpAddr,
    pub user_agent: String,
    pub request_id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(request_meta(parts))
    }
}

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

/// An authenticated, active user with their compiled subject.
#[derive(Clone)]
pub struct Actor {
    pub user: users::User,
    pub key_id: String,
    pub subject: Arc<Subject>,
    pub input: Arc<SubjectInput>,
    pub meta: RequestMeta,
}

impl Actor {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    /// Whether the actor may do `action` on `object`.
    pub fn can(&self, action: Action, object: &Object<'_>) -> bool {
        self.subject.authorize(action, object).allowed
    }

    /// `can`, or 403 `Forbidden.` (for objects the actor may read).
    pub fn require(&self, action: Action, object: &Object<'_>) -> Result<(), ApiError> {
        if self.can(action, object) { Ok(()) } else { Err(ApiError::forbidden()) }
    }

    /// `can`, or 404 (for objects whose existence must not leak).
    pub fn require_or_404(&self, action: Action, object: &Object<'_>) -> Result<(), ApiError> {
        if self.can(action, object) { Ok(()) } else { Err(ApiError::not_found()) }
    }

    /// The user object of `user` (org-less, owned by itself), as the engine sees users.
    pub fn user_object(user: UserId) -> Object<'static> {
        Object::of(ResourceType::User).with_id(user.uuid()).with_owner(user.uuid())
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
        let actor = authenticate(state, &token, meta).await?;
        parts.extensions.insert(actor.clone());
        Ok(actor)
    }
}

/// How often activity is written: at most once per min(1 minute, a tenth of the dormancy
/// period), so the sweep never sees an active user as idle.
pub fn activity_interval(dormancy: Duration) -> Duration {
    std::cmp::min(Duration::from_secs(60), dormancy / 10)
}

async fn authenticate(state: &Shared, token: &str, meta: RequestMeta) -> Result<Actor, ApiError> {
    let (id, secret) = tokens::split(token)
        .map_err(|e| ApiError::unauthorized(format!("Invalid API key format: {e}")))?;
    let key = match api_keys::get(&state.store, id).await {
        Ok(k) => k,
        Err(atrium_store::StoreError::NotFound { .. }) => {
            return Err(ApiError::unauthorized("API key is invalid."));
        }
        Err(e) => return Err(e.into()),
    };
    if !tokens::secret_matches(secret, &key.hashed_secret) {
        return Err(ApiError::unauthorized("API key secret is invalid."));
    }
    let now = DbTime::now();
    if key.expires_at < now {
        let at = crate::convert::time(key.expires_at);
        return Err(ApiError::unauthorized(format!("API key expired at \"{at}\".")));
    }
    let mut user = match users::get(&state.store, key.user_id).await {
        Ok(u) if !u.deleted => u,
        Ok(_) | Err(atrium_store::StoreError::NotFound { .. }) => {
            return Err(ApiError::unauthorized("API key is invalid."));
        }
        Err(e) => return Err(e.into()),
    };
    if user.status == UserStatus::Dormant {
        user = match audit::reactivate_dormant(state, &user, &meta).await {
            Ok(u) => u,
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                return Err(ApiError::unauthorized("API key is invalid."));
            }
            Err(e) => return Err(e),
        };
    }
    if user.status != UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "User is not active (status = \"{}\"). Contact an admin to reactivate your account.",
                user.status.as_str()
            ),
        ));
    }
    let interval = activity_interval(state.config.user_dormancy_period);
    let stale = |t: Option<DbTime>| t.is_none_or(|t| t + interval < now);
    if stale(user.last_seen_at) {
        users::update_last_seen(&state.store, user.id, now).await?;
        user.last_seen_at = Some(now);
    }
    if stale(Some(key.last_used)) {
        // Sessions slide: a session used within its lifetime is extended (tokens are not).
        let lifetime = Duration::from_secs(u64::try_from(key.lifetime_seconds).unwrap_or(0));
        let expires_at = if key.login_type != atrium_store::LoginType::Token {
            now + lifetime
        } else {
            key.expires_at
        };
        let ip = meta.ip.to_string();
        let touched =
            api_keys::touch(&state.store, &key.id, now, key.expires_at, expires_at, &ip).await?;
        // Not touched: the key was expired, revoked or refreshed since it was read. Only a
        // refresh by a concurrent request lets this request through.
        if !touched {
            match api_keys::get(&state.store, &key.id).await {
                Ok(k) if k.expires_at > now => {}
                Ok(k) => {
                    let at = crate::convert::time(k.expires_at);
                    return Err(ApiError::unauthorized(format!("API key expired at \"{at}\".")));
                }
                Err(atrium_store::StoreError::NotFound { .. }) => {
                    return Err(ApiError::unauthorized("API key is invalid."));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let input = load_subject_input(state, user.id).await?;
    let scope = key_scope(&key.scope);
    let subject = crate::subject::build(&input, scope, RoleOptions::default());
    Ok(Actor { user, key_id: key.id, subject: Arc::new(subject), input: Arc::new(input), meta })
}

/// The subject of an already-authenticated session as a new request would see it now, without
/// a new request's side effects (no reactivation, no refresh): `None` once the key is gone or
/// expired, or its user deleted or suspended. Long-lived streams re-judge their reader with it.
pub async fn current_subject(state: &Shared, key_id: &str) -> Result<Option<Subject>, ApiError> {
    let key = match api_keys::get(&state.store, key_id).await {
        Ok(k) => k,
        Err(atrium_store::StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if key.expires_at < DbTime::now() {
        return Ok(None);
    }
    let user = users::get(&state.store, key.user_id).await?;
    if user.deleted || user.status == UserStatus::Suspended {
        return Ok(None);
    }
    let input = load_subject_input(state, user.id).await?;
    Ok(Some(crate::subject::build(&input, key_scope(&key.scope), RoleOptions::default())))
}

/// The engine scope of an API key's stored scope name.
fn key_scope(scope: &str) -> Scope {
    match scope {
        "application_connect" => Scope::named(ScopeName::ApplicationConnect),
        _ => Scope::ALL,
    }
}

/// Everything needed to compile a user's subject, read from the store.
pub async fn load_subject_input(state: &Shared, user: UserId) -> Result<SubjectInput, ApiError> {
    let facts = atrium_store::subject_facts::load(&state.store, user).await?;
    let mut custom = Vec::new();
    // Only orgs where the member holds a non-built-in role need their custom roles read.
    for (org, _) in facts
        .memberships
        .iter()
        .filter(|(_, roles)| roles.iter().any(|r| atrium_engine::BuiltinRole::parse(r).is_none()))
    {
        custom.extend(roles::list(&state.store, *org).await?);
    }
    Ok(SubjectInput {
        user: user.uuid(),
        site_roles: facts.site_roles,
        memberships: facts
            .memberships
            .into_iter()
            .map(|(org, roles)| Membership { org: org.uuid(), roles })
            .collect(),
        custom_roles: custom
            .into_iter()
            .map(|c| CustomRole {
                org: c.org_id.uuid(),
                name: c.name,
                display_name: c.display_name,
                org_permissions: c.org_permissions.0.iter().filter_map(parse_permission).collect(),
            })
            .collect(),
        groups: facts.groups.into_iter().map(|g| g.uuid()).collect(),
    })
}

/// A stored permission in engine form; unknown types or actions (from an older or newer
/// binary) are dropped rather than failing the request.
pub fn parse_permission(
    p: &atrium_engine::custom_role::RawPermission,
) -> Option<atrium_engine::Permission> {
    Some(atrium_engine::Permission {
        negate: p.negate,
        resource_type: atrium_engine::resource::parse_wild_type(&p.resource_type)?,
        action: atrium_engine::resource::parse_wild_action(&p.action)?,
    })
}
