//! Publish/subscribe between replicas, with two implementations behind one handle:
//!
//! - **PostgreSQL**: `LISTEN/NOTIFY` through a [`PgListener`] holding one pooled connection.
//!   Payloads are ids, never objects (PostgreSQL refuses payloads near 8000 bytes). When the
//!   listener loses its connection, notifications sent meanwhile are gone: every subscriber
//!   gets [`Event::Dropped`] and must drop what it caches, and [`PubSub::live`] stays false
//!   (caches must not fill) until a notification has come through the new connection.
//! - **In process** (SQLite, one server process): a `tokio::sync::broadcast` channel.
//!
//! Publish only after the change has committed. Most publishing is done by the database itself
//! (the triggers of migration 8 notify at commit); [`PubSub::publish`] is for the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::db::{Pool, Store};
use crate::error::StoreError;

/// A new provisioner job was queued (payload: the job id).
pub const JOB_POSTED: &str = "provisioner_job_posted";
/// Sent to itself by a listener that lost its connection, to learn when it is back.
const HELLO: &str = "atrium_listener_hello";
/// Events a slow subscriber may fall behind by before it is told it lost some.
const QUEUE: usize = 2048;

/// What a subscriber receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Message {
        channel: String,
        payload: String,
    },
    /// Messages may have been lost: drop every cache.
    Dropped,
}

/// The pub/sub handle; cheap to clone.
#[derive(Clone)]
pub struct PubSub {
    inner: Arc<Inner>,
}

struct Inner {
    events: broadcast::Sender<Event>,
    live: AtomicBool,
    postgres: Option<PgPool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl PubSub {
    /// In-process pub/sub (SQLite: one server process hears everything it publishes).
    pub fn in_process() -> PubSub {
        PubSub { inner: Arc::new(Inner::new(None, true)) }
    }

    /// The store's pub/sub: `LISTEN` on `channels` for PostgreSQL, in process for SQLite.
    pub async fn for_store(store: &Store, channels: &[&str]) -> Result<PubSub, StoreError> {
        let pool = match store.pool() {
            Pool::Sqlite(_) => return Ok(PubSub::in_process()),
            Pool::Pg(p) => p.clone(),
        };
        let mut listener = PgListener::connect_with(&pool).await?;
        let mut all: Vec<&str> = channels.to_vec();
        all.push(HELLO);
        listener.listen_all(all).await?;
        let inner = Arc::new(Inner::new(Some(pool), true));
        let listening = tokio::spawn(listen(listener, inner.clone()));
        let greeting = tokio::spawn(greet(Arc::downgrade(&inner)));
        inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).extend([listening, greeting]);
        Ok(PubSub { inner })
    }

    /// A new subscription: every event from now on. A subscriber that falls behind by more
    /// than the queue gets `Lagged` from the receiver; treat it as [`Event::Dropped`].
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Whether every message published since the last [`Event::Dropped`] reaches the
    /// subscribers. False while the listener is reconnecting: caches must not fill then.
    pub fn live(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }

    /// Publishes `payload` (an id) on `channel` to every replica, this one included. Call after
    /// the change committed.
    pub async fn publish(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        match &self.inner.postgres {
            Some(pool) => {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(channel)
                    .bind(payload)
                    .execute(pool)
                    .await?;
            }
            None => {
                let _ = self.inner.events.send(Event::Message {
                    channel: channel.to_owned(),
                    payload: payload.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Ties a background task to this pub/sub: [`PubSub::close`] stops it too.
    pub fn adopt(&self, task: JoinHandle<()>) {
        self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).push(task);
    }

    /// Stops listening and the adopted tasks (the server is shutting down).
    pub fn close(&self) {
        for task in self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
    }
}

impl Inner {
    fn new(postgres: Option<PgPool>, live: bool) -> Inner {
        Inner {
            events: broadcast::channel(QUEUE).0,
            live: AtomicBool::new(live),
            postgres,
            tasks: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn dropped(&self) {
        let _ = self.events.send(Event::Dropped);
    }
}

/// Forwards notifications to the subscribers; on a lost connection tells them to drop their
/// caches (the listener has reconnected by then, so later notifications arrive).
async fn listen(mut listener: PgListener, inner: Arc<Inner>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                if !inner.live.load(Ordering::Acquire) {
                    // The first message through a new connection: from here on nothing is
                    // missed. Drop what was cached before (nothing filled while not live).
                    inner.live.store(true, Ordering::Release);
                    inner.dropped();
                    tracing::info!("pub/sub listener is back; caches dropped");
                }
                if n.channel() != HELLO {
                    let _ = inner.events.send(Event::Message {
                        channel: n.channel().to_owned(),
                        payload: n.payload().to_owned(),
                    });
                }
            }
            Ok(None) => {
                // Reconnected already (eager reconnect), but notifications sent while the
                // connection was down are lost.
                tracing::warn!("pub/sub listener lost its connection; dropping caches");
                inner.live.store(false, Ordering::Release);
                inner.dropped();
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "pub/sub listener failed; retrying");
                inner.live.store(false, Ordering::Release);
                inner.dropped();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// While the listener is not live, sends it a hello now and then, so it learns that its new
/// connection works even when nobody else publishes.
async fn greet(inner: std::sync::Weak<Inner>) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.live.load(Ordering::Acquire) {
            continue;
        }
        if let Some(pool) = &inner.postgres {
            let sent = sqlx::query("SELECT pg_notify($1, '')").bind(HELLO).execute(pool).await;
            if let Err(e) = sent {
                tracing::debug!(error = %e, "cannot greet the pub/sub listener yet");
            }
        }
    }
}
