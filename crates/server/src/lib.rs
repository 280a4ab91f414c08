//! Atrium's HTTP server: Coder's `/api/v2` over the engine (every decision) and the store
//! (every read and write).
//!
//! - [`config`]: the `atrium server` flags.
//! - [`error`]: the one mapping from errors to Coder's JSON body.
//! - [`actor`]: resolving a session token to an authenticated, authorized subject.
//! - [`routes`]: one module per resource, handlers that only coordinate.
//! - [`audit`]: one audit row per state-changing request.
//! - [`jobs`]: the provisioner job queue's workers (template imports, later builds).
//! - [`listener`]: the accept loop (header-read and idle timeouts, connection cap).
//! - [`guard`]: the request checks every route gets (cross-site requests, NUL characters).

pub mod actor;
pub mod audit;
pub mod config;
pub mod convert;
pub mod dormancy;
pub mod error;
pub mod extract;
pub mod guard;
pub mod jobs;
pub mod listener;
pub mod passwords;
pub mod ratelimit;
pub mod redact;
pub mod routes;
pub mod subject;
pub mod tokens;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use atrium_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::ratelimit::RateLimiter;

/// Shared by every handler.
pub struct AppState {
    pub store: Store,
    pub config: Config,
    pub login_limiter: RateLimiter,
    /// Checks of a user's current password outside login (per user).
    pub password_limiter: RateLimiter<atrium_store::UserId>,
    /// The URL clients reach the server at.
    pub access_url: String,
    /// Wakes the provisioner workers when a job is queued (the queue itself is in the store).
    pub jobs: jobs::Queue,
}

pub type Shared = Arc<AppState>;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] atrium_store::StoreError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// A server running in the background (tests, embedding).
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), ServerError>>,
    state: Shared,
}

impl RunningServer {
    /// Stops accepting, drains in-flight requests, stops background tasks (running provisioner
    /// jobs are marked failed), closes the store.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "server task failed");
        }
        self.state.store.close().await;
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(self) -> Result<(), ServerError> {
        let result = match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ServerError::Serve(std::io::Error::other(e))),
        };
        self.state.store.close().await;
        result
    }

    /// Asks the server to shut down gracefully.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the store, binds the listener and serves in the background.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let store = match &config.postgres_url {
        Some(url) => Store::open_postgres(&url.0).await?,
        None => Store::open_sqlite_exclusive(config.resolved_data_dir()).await?,
    };
    let listener = TcpListener::bind(config.address)
        .await
        .map_err(|source| ServerError::Listen { address: config.address, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let access_url = config.access_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let state = Arc::new(AppState {
        store,
        login_limiter: RateLimiter::new(config.login_rate_limit, Duration::from_secs(60)),
        password_limiter: RateLimiter::new(config.login_rate_limit, Duration::from_secs(60)),
        config,
        access_url,
        jobs: jobs::Queue::new(),
    });
    let (shutdown, stopped) = watch::channel(false);
    let sweep = dormancy::spawn(state.clone(), shutdown.subscribe());
    // The workers stop after the listener has drained (and also if serving fails).
    let (stop_workers, workers_stop) = watch::channel(false);
    let workers = jobs::spawn(state.clone(), workers_stop);
    let app = routes::router(state.clone());
    let limits = state.config.listener_limits();
    let task = tokio::spawn(async move {
        let served =
            listener::serve(listener, app, limits, stopped).await.map_err(ServerError::Serve);
        sweep.abort();
        // Requests have drained; the workers end their jobs before the store closes.
        let _ = stop_workers.send(true);
        workers.join().await;
        served
    });
    tracing::info!(%addr, "atrium server listening");
    Ok(RunningServer { addr, shutdown, task, state })
}

/// Runs until SIGINT or SIGTERM, then shuts down cleanly.
pub async fn serve(config: Config) -> Result<(), ServerError> {
    for var in Config::unknown_env() {
        tracing::warn!(variable = %var, "unknown ATRIUM_* environment variable ignored");
    }
    let server = start(config).await?;
    let shutdown = server.shutdown_handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown.send(true);
    });
    server.wait().await
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
