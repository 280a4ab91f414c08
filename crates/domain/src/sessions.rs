//! The session cache: token id → (key, user, compiled subject), so an authenticated request
//! costs a map lookup and a hash instead of ~10 statements.
//!
//! **Invalidation does not depend on handlers remembering.** The database records every change
//! to what a subject is built from (triggers on users, site roles, memberships, org roles,
//! group members, custom roles and keys; see `atrium_store::changes`, topic `user`), whoever
//! writes it:
//!
//! - this server's transactions take their own records just before committing and call
//!   [`Sessions::invalidate`] just after (the store's commit hook), so the replica that made a
//!   change refuses the old decision at once;
//! - on PostgreSQL the triggers also notify every replica at commit (`atrium_user_changed`),
//!   which the domain's pub/sub task turns into [`Sessions::invalidate`];
//! - on SQLite, records left by other processes (`atrium reset-password`) are taken by a poll;
//! - a lost listener connection drops everything, and nothing is cached until the listener is
//!   live again.
//!
//! A filling race (a request reads the old state, the change commits and invalidates, then the
//! request caches what it read) is closed by an epoch: every invalidation bumps it, and an
//! entry is cached only if the epoch did not move since its reads began. Entries also expire
//! after [`MAX_AGE`], a backstop for anything outside the triggers' columns.
//!
//! Activity (`last_seen_at`, the key's `last_used` and sliding expiry) seen on cache hits is
//! not written on the request path: it is coalesced per key and written in one transaction by
//! [`Sessions::flush_activity`] every [`ACTIVITY_FLUSH`] (at most once per activity interval
//! per user and key, as before), so a user active on any replica never becomes dormant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use atrium_engine::Subject;

use crate::caller::OwnFacts;
use atrium_store::changes::EVERY;
use atrium_store::pubsub::PubSub;
use atrium_store::{DbTime, LoginType, Store, StoreError, UserId, api_keys, users};

/// The longest an entry is served without being rebuilt.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// How often coalesced activity is written.
pub const ACTIVITY_FLUSH: Duration = Duration::from_secs(1);
/// Entries kept at most; past it the cache is cleared (a crude bound, rarely reached).
const CAPACITY: usize = 100_000;

/// The cache. One per domain.
pub struct Sessions {
    entries: RwLock<HashMap<String, Arc<Entry>>>,
    epoch: AtomicU64,
    pending: Mutex<HashMap<String, Activity>>,
    pubsub: PubSub,
}

/// A cached session.
pub(crate) struct Entry {
    pub(crate) key: api_keys::ApiKey,
    pub(crate) user: users::User,
    pub(crate) subject: Arc<Subject>,
    pub(crate) own: Arc<OwnFacts>,
    cached_at: Instant,
    seen: Mutex<Seen>,
}

/// What this process last knows of the session's activity.
struct Seen {
    last_seen: Option<DbTime>,
    last_used: DbTime,
    expires_at: DbTime,
}

/// Activity to write for one key (and its user).
#[derive(Clone, Debug)]
struct Activity {
    user: UserId,
    user_seen: Option<DbTime>,
    key_used: Option<KeyUse>,
}

#[derive(Clone, Debug)]
struct KeyUse {
    at: DbTime,
    /// The expiry the database holds (the write is skipped if it changed meanwhile).
    stored_expires_at: DbTime,
    expires_at: DbTime,
    ip: String,
}

/// A cache hit: the user as the request sees it.
pub(crate) struct Hit {
    pub(crate) user: users::User,
    pub(crate) subject: Arc<Subject>,
    pub(crate) own: Arc<OwnFacts>,
}

impl Sessions {
    pub fn new(pubsub: PubSub) -> Sessions {
        Sessions {
            entries: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
            pubsub,
        }
    }

    /// Read before a cache miss starts reading the store; pass to [`Sessions::insert`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// THE invalidation hook: the sessions of these users (`"*"`: everyone) are rebuilt on
    /// their next request. Called after commit by the store's hook, the pub/sub task and the
    /// SQLite poll; call it from anywhere else that changes authorization facts outside the
    /// tables the `cache_changes` triggers watch.
    pub fn invalidate<S: AsRef<str>>(&self, users: &[S]) {
        if users.is_empty() {
            return;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if users.iter().any(|u| u.as_ref() == EVERY) {
            entries.clear();
            return;
        }
        let ids: Vec<UserId> = users.iter().filter_map(|u| u.as_ref().parse().ok()).collect();
        entries.retain(|_, e| !ids.contains(&e.user.id));
    }

    /// Drops every entry (the pub/sub connection was lost).
    pub fn flush(&self) {
        self.invalidate(&[EVERY]);
    }

    /// How many sessions are cached (tests, metrics).
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for a key id, if cached, fresh, and the pub/sub is live.
    pub(crate) fn lookup(&self, key_id: &str) -> Option<Arc<Entry>> {
        if !self.pubsub.live() {
            return None;
        }
        let entry = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(key_id).cloned()?;
        (entry.cached_at.elapsed() < MAX_AGE).then_some(entry)
    }

    /// Caches a session built from reads that began at `epoch`; skipped if anything was
    /// invalidated since (the reads may predate the change) or the pub/sub is not live.
    pub(crate) fn insert(
        &self,
        epoch: u64,
        key: api_keys::ApiKey,
        user: users::User,
        subject: Arc<Subject>,
        own: Arc<OwnFacts>,
    ) {
        if !self.pubsub.live() {
            return;
        }
        let seen = Seen {
            last_seen: user.last_seen_at,
            last_used: key.last_used,
            expires_at: key.expires_at,
        };
        let entry = Arc::new(Entry {
            key,
            user,
            subject,
            own,
            cached_at: Instant::now(),
            seen: Mutex::new(seen),
        });
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the write lock: `invalidate` bumps the epoch before taking it.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(entry.key.id.clone(), entry);
    }

    /// Serves a cached session at `now`: `None` when the key has expired (the caller takes
    /// the slow path, which answers in Coder's words). Activity older than `interval` is
    /// queued for the next flush.
    pub(crate) fn hit(
        &self,
        entry: &Entry,
        now: DbTime,
        interval: Duration,
        ip: impl std::fmt::Display,
    ) -> Option<Hit> {
        let mut seen = entry.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.expires_at < now {
            return None;
        }
        let stale = |t: Option<DbTime>| t.is_none_or(|t| t + interval < now);
        let user_seen = stale(seen.last_seen).then(|| {
            seen.last_seen = Some(now);
            now
        });
        let key_used = stale(Some(seen.last_used)).then(|| {
            // Sessions slide: a session used within its lifetime is extended (tokens are not).
            let lifetime =
                Duration::from_secs(u64::try_from(entry.key.lifetime_seconds).unwrap_or(0));
            let expires_at = if entry.key.login_type != LoginType::Token {
                now + lifetime
            } else {
                seen.expires_at
            };
            let used = KeyUse {
                at: now,
                stored_expires_at: seen.expires_at,
                expires_at,
                // Formatted only when written (not on every hit).
                ip: ip.to_string(),
            };
            seen.last_used = now;
            seen.expires_at = expires_at;
            used
        });
        let mut user = entry.user.clone();
        user.last_seen_at = seen.last_seen;
        drop(seen);
        if user_seen.is_some() || key_used.is_some() {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let slot = pending.entry(entry.key.id.clone()).or_insert(Activity {
                user: entry.user.id,
                user_seen: None,
                key_used: None,
            });
            if user_seen.is_some() {
                slot.user_seen = user_seen;
            }
            if let Some(mut used) = key_used {
                // Still unwritten: the database holds the expiry the earlier use read.
                if let Some(earlier) = &slot.key_used {
                    used.stored_expires_at = earlier.stored_expires_at;
                }
                slot.key_used = Some(used);
            }
        }
        Some(Hit { user, subject: entry.subject.clone(), own: entry.own.clone() })
    }

    /// Writes the queued activity in one transaction. A key revoked, expired or extended by
    /// another replica meanwhile is left as it is.
    pub async fn flush_activity(&self, store: &Store) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() {
            return Ok(());
        }
        let mut tx = store.begin().await?;
        for (key, a) in &pending {
            if let Some(at) = a.user_seen {
                match users::update_last_seen(&mut tx, a.user, at).await {
                    Ok(()) | Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if let Some(u) = &a.key_used {
                api_keys::touch(&mut tx, key, u.at, u.stored_expires_at, u.expires_at, &u.ip)
                    .await?;
            }
        }
        tx.commit().await
    }
}
