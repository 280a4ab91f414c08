//! Atrium's HTTP server: Coder's `/api/v2` over the engine (every decision) and the store
//! (every read and write).
//!
//! - [`error`]: rendering the domain's errors as Coder's JSON body.
//! - [`actor`]: the session token of a request, resolved by the domain into its caller.
//! - [`routes`]: one module per resource, handlers that parse, call the domain, and render.
//! - [`listener`]: the accept loop (header-read and idle timeouts, connection cap).
//! - [`guard`]: the request checks every route gets (cross-site requests, NUL characters).

pub mod actor;
pub mod error;
pub mod extract;
pub mod guard;
pub mod listener;
pub mod oidc;
pub mod redact;
pub mod routes;

/// The domain layer the routes call (tests and the CLI reach its system operations here).
pub use atrium_domain as domain;

/// `atrium server`'s settings (the CLI parses them).
pub use atrium_domain::config;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use atrium_domain::Domain;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use atrium_domain::ratelimit::RateLimiter;

/// Shared by every handler: the domain (every operation) and what only HTTP needs.
pub struct AppState {
    pub domain: atrium_domain::Shared,
    pub login_limiter: Arc<RateLimiter>,
    /// The URL clients reach the server at.
    pub access_url: String,
    /// The OpenID Connect provider, when `--oidc-issuer-url` is set.
    pub oidc: Option<oidc::RelyingParty>,
}

impl std::ops::Deref for AppState {
    type Target = Domain;
    fn deref(&self) -> &Domain {
        &self.domain
    }
}

pub type Shared = Arc<AppState>;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] atrium_domain::StoreError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    /// A setting the server cannot run with (the OIDC provider, --disable-password-auth).
    #[error("{0}")]
    Config(String),
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
        self.state.domain.close().await;
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(self) -> Result<(), ServerError> {
        let result = match self.task.await {
            Ok(r) => r,
            Err(e) => Err(ServerError::Serve(std::io::Error::other(e))),
        };
        self.state.domain.close().await;
        result
    }

    /// The domain this server serves (tests drive sweeps through it).
    pub fn domain(&self) -> &atrium_domain::Shared {
        &self.state.domain
    }

    /// Asks the server to shut down gracefully.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Opens the store, binds the listener and serves in the background.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let address = config.address;
    let login_rate_limit = config.login_rate_limit;
    let configured_url = config.access_url.clone();
    let domain = Domain::open(config).await?;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServerError::Listen { address, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let access_url = configured_url.unwrap_or_else(|| format!("http://{addr}"));
    let oidc = if domain.config.oidc.enabled() {
        Some(
            oidc::RelyingParty::discover(&domain.config.oidc, &access_url)
                .await
                .map_err(ServerError::Config)?,
        )
    } else {
        None
    };
    if let Err(e) = atrium_domain::oidc::check_password_auth_safety(&domain).await {
        domain.close().await;
        return Err(ServerError::Config(e.body.message.clone()));
    }
    let state = Arc::new(AppState {
        login_limiter: Arc::new(RateLimiter::new(login_rate_limit, Duration::from_secs(60))),
        domain,
        access_url,
        oidc,
    });
    let (shutdown, stopped) = watch::channel(false);
    let sweep = atrium_domain::dormancy::spawn(state.domain.clone(), shutdown.subscribe());
    // Every replica runs the singleton duties (each pass locked to one replica at a time).
    let duties = atrium_domain::duties::spawn(state.domain.clone(), shutdown.subscribe());
    // The workers stop after the listener has drained (and also if serving fails).
    let (stop_workers, workers_stop) = watch::channel(false);
    let workers = atrium_domain::jobs::spawn(state.domain.clone(), workers_stop);
    let app = routes::router(state.clone());
    let limits = listener::Limits::from_config(&state.config);
    let task = tokio::spawn(async move {
        let served =
            listener::serve(listener, app, limits, stopped).await.map_err(ServerError::Serve);
        sweep.abort();
        duties.abort();
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
