//! Atrium's domain layer: the one door to the store. Every read and write of a protected
//! object is an operation here that takes the [`Caller`] and authorizes inside it — reads the
//! caller may not see are not found, lists are filtered by the engine's residual filter,
//! forbidden writes are refused with the decision's reasons — so code outside this crate
//! cannot skip a check: it has no store to skip it with. The server's own work (job workers,
//! sweeps, `atrium reset-password`) goes through [`System`], a context named at each use.
//!
//! - [`caller`]: resolving a session to an authenticated caller and its subject.
//! - [`error`]: the one error type, with Coder's statuses and texts.
//! - [`audit`]: one audit row per state-changing operation (refusals carry their reasons).
//! - [`jobs`], [`dormancy`]: the provisioner workers and the dormancy sweep.
//! - [`config`]: `atrium server`'s settings.

pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod authcheck;
pub mod builds;
pub mod caller;
pub mod clients;
pub mod config;
pub mod convert;
pub mod deployment;
pub mod dormancy;
pub mod dry_runs;
pub mod duties;
pub mod error;
pub mod files;
pub mod files_zip;
pub mod groups;
pub mod host;
pub mod idp_sync;
pub mod idp_sync_apply;
pub mod job_logs;
pub mod jobs;
pub mod keys;
pub mod members;
pub mod offers;
pub mod offers_orgs;
pub mod oidc;
pub mod oidc_config;
pub mod org_roles;
pub mod orgs;
pub mod paging;
pub mod password_reset;
pub mod passwords;
pub mod ratelimit;
pub mod replicas;
pub mod sessions;
pub mod site_roles;
pub mod system;
pub mod template_acl;
mod template_settings;
pub mod template_versions;
pub mod templates;
pub mod tokens;
pub mod user_roles;
pub mod users;
pub mod validate;
pub mod workspace_acl;
pub mod workspace_views;
pub mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use atrium_store::{Store, UserId};

/// Plain values the wire and the routes share with the store: typed ids, statuses, times.
/// Why the store could not open (start-up errors).
pub use atrium_store::StoreError;
pub use atrium_store::jobs::JobStatus;
/// `limit` / `offset` paging (limit `None` = no limit).
pub use atrium_store::lists::Page;
pub use atrium_store::{
    AuditLogId, BuildReason, BuildTransition, DbTime, FileId, GroupId, JobId, JobKind, LoginType,
    OrgId, TemplateId, TemplateVersionId, UserStatus, WorkspaceBuildId, WorkspaceId,
};
pub use caller::{Caller, RequestMeta};
pub use config::Config;
pub use error::{Error, Kind, Result};

use ratelimit::RateLimiter;

/// Shared by every operation: the store (private to this crate), the settings, the job queue.
pub struct Domain {
    store: Store,
    pub config: Config,
    /// Checks of a user's current password outside login (per user).
    pub password_limiter: RateLimiter<UserId>,
    /// Wakes the provisioner workers when a job is queued (the queue itself is in the store).
    pub jobs: jobs::Queue,
    /// Cached sessions, invalidated on every authorization change (see [`sessions`]).
    pub sessions: sessions::Sessions,
    /// Cached workspace views, invalidated the same way (see [`workspace_views`]).
    pub workspace_views: workspace_views::WorkspaceViews,
    /// Messages between replicas (see [`replicas`]).
    pub(crate) pubsub: atrium_store::pubsub::PubSub,
}

/// How the domain is passed around (background tasks hold one).
pub type Shared = Arc<Domain>;

impl Domain {
    /// Opens the configured store (PostgreSQL, or SQLite under the data directory, locked
    /// against a second server).
    pub async fn open(config: Config) -> Result<Shared, StoreError> {
        let store = match &config.postgres_url {
            Some(url) => Store::open_postgres(&url.0).await?,
            None => Store::open_sqlite_exclusive(config.resolved_data_dir()).await?,
        };
        let pubsub = replicas::open_pubsub(&store).await?;
        let domain = Arc::new(Domain {
            store,
            password_limiter: RateLimiter::new(config.login_rate_limit, Duration::from_secs(60)),
            config,
            jobs: jobs::Queue::new(),
            sessions: sessions::Sessions::new(pubsub.clone()),
            workspace_views: workspace_views::WorkspaceViews::new(pubsub.clone()),
            pubsub,
        });
        replicas::start(&domain);
        Ok(domain)
    }

    /// Writes pending activity, stops listening, closes the store (after the server has
    /// drained).
    pub async fn close(&self) {
        replicas::stop(self).await;
        self.store.close().await;
    }

    /// The raw store, for this crate's operations only.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
}
