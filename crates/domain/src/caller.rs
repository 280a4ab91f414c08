//! The authenticated caller: resolving a session token to an active user and their compiled
//! subject (refusing suspended users and revoked or expired keys, reactivating dormant users,
//! recording activity), and the checks every operation asks of it. A [`Caller`] can only be
//! made here, from a live session, or by [`crate::Domain::system`] for the server's own work.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use atrium_engine::stored::{CustomRole, Membership, SubjectInput};
use atrium_engine::{Action, Object, ResourceType, RoleOptions, Scope, ScopeName, Subject};
use atrium_store::{DbTime, OrgId, UserId, UserStatus, api_keys, roles, users};
use uuid::Uuid;

use crate::error::{Error, Kind};
use crate::{Domain, audit, tokens};

/// Where a request came from, for audit rows and rate limits.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub ip: IpAddr,
    pub user_agent: String,
    pub request_id: Uuid,
}

impl RequestMeta {
    /// The server acting on its own (sweeps, jobs): loopback, named by `agent`.
    pub fn internal(agent: &str) -> Self {
        RequestMeta {
            ip: IpAddr::from([127, 0, 0, 1]),
            user_agent: agent.to_owned(),
            request_id: Uuid::new_v4(),
        }
    }
}

/// An authenticated, active user with their compiled subject. Non-exhaustive, so no code
/// outside the domain can assemble one: a caller is made by [`authenticate`] and nothing else.
#[derive(Clone)]
#[non_exhaustive]
pub struct Caller {
    pub(crate) user: users::User,
    pub(crate) key_id: String,
    pub(crate) subject: Arc<Subject>,
    pub(crate) own: Arc<OwnFacts>,
    pub(crate) meta: RequestMeta,
}

/// What `GET /users/me` shows besides the user row, kept with the session (the subject is
/// compiled from the same reads), so it costs no statement while the session is cached.
pub(crate) struct OwnFacts {
    /// The site roles, sorted.
    pub(crate) site_roles: Vec<String>,
    /// The organizations the user belongs to, sorted.
    pub(crate) orgs: Vec<OrgId>,
}

impl OwnFacts {
    fn of(input: &SubjectInput) -> OwnFacts {
        let mut site_roles = input.site_roles.clone();
        site_roles.sort();
        let mut orgs: Vec<OrgId> = input.memberships.iter().map(|m| OrgId(m.org)).collect();
        orgs.sort();
        OwnFacts { site_roles, orgs }
    }
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }
    pub(crate) fn user(&self) -> &users::User {
        &self.user
    }
    pub fn subject(&self) -> &Subject {
        &self.subject
    }
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }

    /// Whether the caller may do `action` on `object`.
    pub fn can(&self, action: Action, object: &Object<'_>) -> bool {
        self.subject.authorize(action, object).allowed
    }

    /// `can`, or 403 `Forbidden.` carrying the engine's reasons (for objects the caller may
    /// read).
    pub fn require(&self, action: Action, object: &Object<'_>) -> Result<(), Error> {
        self.check(action, object, Error::forbidden())
    }

    /// `can`, or 404 (for objects whose existence must not leak), still carrying the reasons
    /// for the audit row and the log.
    pub fn require_or_404(&self, action: Action, object: &Object<'_>) -> Result<(), Error> {
        self.check(action, object, Error::not_found())
    }

    fn check(&self, action: Action, object: &Object<'_>, refusal: Error) -> Result<(), Error> {
        let decision = self.subject.authorize(action, object);
        if decision.allowed {
            Ok(())
        } else {
            Err(refusal.because(self.subject.explain(&decision, action, object)))
        }
    }

    /// The user object of `user` (org-less, owned by itself), as the engine sees users.
    pub fn user_object(user: UserId) -> Object<'static> {
        Object::of(ResourceType::User).with_id(user.uuid()).with_owner(user.uuid())
    }
}

/// How often activity is written: at most once per min(1 minute, a tenth of the dormancy
/// period), so the sweep never sees an active user as idle.
pub fn activity_interval(dormancy: Duration) -> Duration {
    std::cmp::min(Duration::from_secs(60), dormancy / 10)
}

/// Resolves a session token (`<id>-<secret>`) to its caller, or 401 in Coder's words.
pub async fn authenticate(state: &Domain, token: &str, meta: RequestMeta) -> Result<Caller, Error> {
    let (id, secret) = tokens::split(token)
        .map_err(|e| Error::unauthorized(format!("Invalid API key format: {e}")))?;
    let interval = activity_interval(state.config.user_dormancy_period);
    if let Some(entry) = state.sessions.lookup(id)
        && tokens::secret_matches(secret, &entry.key.hashed_secret)
        && let Some(hit) = state.sessions.hit(&entry, DbTime::now(), interval, meta.ip)
    {
        return Ok(Caller {
            user: hit.user,
            key_id: entry.key.id.clone(),
            subject: hit.subject,
            own: hit.own,
            meta,
        });
    }
    // A miss: read everything, and cache it unless something was invalidated meanwhile.
    let epoch = state.sessions.epoch();
    let key = match api_keys::get(&state.store, id).await {
        Ok(k) => k,
        Err(atrium_store::StoreError::NotFound { .. }) => {
            return Err(Error::unauthorized("API key is invalid."));
        }
        Err(e) => return Err(e.into()),
    };
    if !tokens::secret_matches(secret, &key.hashed_secret) {
        return Err(Error::unauthorized("API key secret is invalid."));
    }
    let now = DbTime::now();
    if key.expires_at < now {
        let at = crate::convert::time(key.expires_at);
        return Err(Error::unauthorized(format!("API key expired at \"{at}\".")));
    }
    let mut user = match users::get(&state.store, key.user_id).await {
        Ok(u) if !u.deleted => u,
        Ok(_) | Err(atrium_store::StoreError::NotFound { .. }) => {
            return Err(Error::unauthorized("API key is invalid."));
        }
        Err(e) => return Err(e.into()),
    };
    if user.status == UserStatus::Dormant {
        user = match audit::reactivate_dormant(state, &user, &meta).await {
            Ok(u) => u,
            Err(e) if e.is_not_found() => {
                return Err(Error::unauthorized("API key is invalid."));
            }
            Err(e) => return Err(e),
        };
    }
    if user.status != UserStatus::Active {
        return Err(Error::new(
            Kind::Unauthorized,
            format!(
                "User is not active (status = \"{}\"). Contact an admin to reactivate your account.",
                user.status.as_str()
            ),
        ));
    }
    let stale = |t: Option<DbTime>| t.is_none_or(|t| t + interval < now);
    if stale(user.last_seen_at) {
        users::update_last_seen(&state.store, user.id, now).await?;
        user.last_seen_at = Some(now);
    }
    let mut key = key;
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
        if touched {
            key.last_used = now;
            key.expires_at = expires_at;
        }
        // Not touched: the key was expired, revoked or refreshed since it was read. Only a
        // refresh by a concurrent request lets this request through.
        if !touched {
            match api_keys::get(&state.store, &key.id).await {
                Ok(k) if k.expires_at > now => {}
                Ok(k) => {
                    let at = crate::convert::time(k.expires_at);
                    return Err(Error::unauthorized(format!("API key expired at \"{at}\".")));
                }
                Err(atrium_store::StoreError::NotFound { .. }) => {
                    return Err(Error::unauthorized("API key is invalid."));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let input = load_subject_input(state, user.id).await?;
    let scope = key_scope(&key.scope);
    let subject = Arc::new(atrium_engine::stored::build(&input, scope, RoleOptions::default()));
    let own = Arc::new(OwnFacts::of(&input));
    let key_id = key.id.clone();
    state.sessions.insert(epoch, key, user.clone(), subject.clone(), own.clone());
    Ok(Caller { user, key_id, subject, own, meta })
}

/// The subject of an already-authenticated session as a new request would see it now, without
/// a new request's side effects (no reactivation, no refresh): `None` once the key is gone or
/// expired, or its user deleted or suspended. Long-lived streams re-judge their reader with it.
pub async fn current_subject(state: &Domain, key_id: &str) -> Result<Option<Subject>, Error> {
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
    Ok(Some(atrium_engine::stored::build(&input, key_scope(&key.scope), RoleOptions::default())))
}

/// The engine scope of an API key's stored scope name.
fn key_scope(scope: &str) -> Scope {
    match scope {
        "application_connect" => Scope::named(ScopeName::ApplicationConnect),
        _ => Scope::ALL,
    }
}

/// Everything needed to compile a user's subject, read from the store.
pub async fn load_subject_input(state: &Domain, user: UserId) -> Result<SubjectInput, Error> {
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
    // Site-wide custom and restriction roles, read only when a site role is not built in.
    let site_custom =
        if facts.site_roles.iter().any(|r| atrium_engine::BuiltinRole::parse(r).is_none()) {
            atrium_store::site_roles::list(&state.store)
                .await?
                .iter()
                .map(crate::site_roles::engine_role)
                .collect()
        } else {
            Vec::new()
        };
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
        site_custom_roles: site_custom,
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
