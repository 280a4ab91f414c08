//! What ties replicas together besides the database: the pub/sub (PostgreSQL `LISTEN/NOTIFY`,
//! in process on SQLite) and the background tasks that act on it.
//!
//! - Changes to cached data (`atrium_store::changes`: topic `user` for sessions, `workspace`
//!   for workspace views) reach the caches three ways: the store's commit hook (this replica,
//!   at once), `atrium_<topic>_changed` notifications (every replica, at commit) and, on
//!   SQLite, a poll of the records other processes left ([`SQLITE_POLL`]).
//! - `provisioner_job_posted` notifications wake this replica's idle workers; their slow poll
//!   ([`crate::jobs::POLL`]) stays as the fallback for lost notifications.
//! - A lost listener connection ([`Event::Dropped`]) drops every cache and wakes the workers
//!   (a job may have been posted meanwhile).
//! - Activity seen on cache hits is written every [`crate::sessions::ACTIVITY_FLUSH`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use atrium_store::changes::{self, Change, Topic};
use atrium_store::pubsub::{Event, JOB_POSTED, PubSub};
use atrium_store::{Backend, Store, StoreError};
use tokio::sync::broadcast::error::RecvError;

use crate::Domain;

/// How often a SQLite server looks for changes written by another process.
pub const SQLITE_POLL: Duration = Duration::from_millis(100);

/// The store's pub/sub, listening on the channels the domain acts on.
pub(crate) async fn open_pubsub(store: &Store) -> Result<PubSub, StoreError> {
    let mut channels: Vec<&str> = Topic::ALL.iter().map(|t| t.channel()).collect();
    channels.push(JOB_POSTED);
    PubSub::for_store(store, &channels).await
}

/// Installs the commit hook and starts the background tasks (stopped by [`stop`]).
pub(crate) fn start(domain: &Arc<Domain>) {
    let weak = Arc::downgrade(domain);
    domain.store.on_change(Arc::new(move |changes: Vec<Change>| {
        if let Some(domain) = weak.upgrade() {
            apply(&domain, &changes);
        }
    }));
    let pubsub = &domain.pubsub;
    pubsub.adopt(tokio::spawn(dispatch(Arc::downgrade(domain), pubsub.subscribe())));
    pubsub.adopt(tokio::spawn(write_activity(Arc::downgrade(domain))));
    if domain.store.backend() == Backend::Sqlite {
        pubsub.adopt(tokio::spawn(poll_sqlite_changes(Arc::downgrade(domain))));
    }
}

/// Stops the background tasks and writes the activity still queued.
pub(crate) async fn stop(domain: &Domain) {
    domain.pubsub.close();
    if let Err(e) = domain.sessions.flush_activity(&domain.store).await {
        tracing::warn!(error = %e, "cannot write the last session activity");
    }
}

/// Tells each cache what changed.
fn apply(domain: &Domain, changes: &[Change]) {
    let of =
        |topic| changes.iter().filter(move |c: &&Change| c.topic == topic).map(|c| c.id.as_str());
    domain.sessions.invalidate(&of(Topic::User).collect::<Vec<_>>());
    domain.workspace_views.invalidate(&of(Topic::Workspace).collect::<Vec<_>>());
}

/// Drops every cache (messages were lost).
fn drop_all(domain: &Domain) {
    domain.sessions.flush();
    domain.workspace_views.flush();
}

/// Publishes `payload` on `channel` to every replica (after the change committed).
pub async fn publish(domain: &Domain, channel: &str, payload: &str) -> crate::Result<()> {
    Ok(domain.pubsub.publish(channel, payload).await?)
}

/// Whether this replica's pub/sub is live (tests wait for it after a lost connection).
pub fn live(domain: &Domain) -> bool {
    domain.pubsub.live()
}

async fn dispatch(domain: Weak<Domain>, mut events: tokio::sync::broadcast::Receiver<Event>) {
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(RecvError::Lagged(_)) => Event::Dropped,
            Err(RecvError::Closed) => return,
        };
        let Some(domain) = domain.upgrade() else { return };
        match event {
            Event::Message { channel, .. } if channel == JOB_POSTED => domain.jobs.wake(),
            Event::Message { channel, payload } => {
                if let Some(topic) = Topic::of_channel(&channel) {
                    apply(&domain, &[Change { topic, id: payload }]);
                }
            }
            Event::Dropped => {
                drop_all(&domain);
                domain.jobs.wake();
            }
        }
    }
}

async fn write_activity(domain: Weak<Domain>) {
    let mut tick = tokio::time::interval(crate::sessions::ACTIVITY_FLUSH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(domain) = domain.upgrade() else { return };
        if let Err(e) = domain.sessions.flush_activity(&domain.store).await {
            tracing::warn!(error = %e, "cannot write session activity; it is dropped");
        }
    }
}

async fn poll_sqlite_changes(domain: Weak<Domain>) {
    let mut tick = tokio::time::interval(SQLITE_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(domain) = domain.upgrade() else { return };
        match changes::take_pending(&domain.store).await {
            Ok(changes) => apply(&domain, &changes),
            Err(e) => {
                // Unsure what changed: serve nothing stale.
                tracing::warn!(error = %e, "cannot read cache changes; dropping caches");
                drop_all(&domain);
            }
        }
    }
}
