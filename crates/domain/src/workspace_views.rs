//! The workspace view cache: workspace id → (its engine object, its wire view), so an
//! authorized `GET /workspaces/{id}` that hits costs no statement: the caller's subject is
//! asked about the cached object, then the cached view is returned.
//!
//! Invalidation is the database's, as for sessions ([`crate::sessions`]): the
//! `cache_changes` triggers record topic `workspace` with the workspace's id when the
//! workspace, its builds or its sharing ACL change, and `*` (every view) when something many
//! views show changes — a job's state (queue positions move too), a template, a version, an
//! organization, a user's name. The commit hook, the notifications and the SQLite poll deliver
//! them ([`crate::replicas`]); a fill racing an invalidation is discarded (epoch); a lost
//! listener drops everything; entries live at most [`MAX_AGE`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use atrium_api::workspaces::Workspace;
use atrium_store::changes::EVERY;
use atrium_store::pubsub::PubSub;
use atrium_store::workspace_view::WorkspaceViewFacts;
use atrium_store::{WorkspaceId, workspace_view};

use crate::builds::BuildFacts;
use crate::workspaces::{WorkspaceAuthz, assemble};
use crate::{Domain, Result};

/// The longest a view is served without being rebuilt.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Views kept at most; past it the cache is cleared.
const CAPACITY: usize = 100_000;

pub struct WorkspaceViews {
    entries: RwLock<HashMap<WorkspaceId, Arc<CachedView>>>,
    epoch: AtomicU64,
    pubsub: PubSub,
}

/// A cached workspace: its engine object and its wire view, serialized once (a hit copies
/// and serializes nothing).
pub(crate) struct CachedView {
    pub(crate) authz: WorkspaceAuthz,
    pub(crate) json: Arc<[u8]>,
    cached_at: Instant,
}

impl WorkspaceViews {
    pub fn new(pubsub: PubSub) -> WorkspaceViews {
        WorkspaceViews { entries: RwLock::new(HashMap::new()), epoch: AtomicU64::new(0), pubsub }
    }

    /// Read before a miss starts reading the store; pass to [`WorkspaceViews::insert`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Drops the views of these workspaces (`"*"`: all).
    pub fn invalidate<S: AsRef<str>>(&self, ids: &[S]) {
        if ids.is_empty() {
            return;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if id.as_ref() == EVERY {
                entries.clear();
                return;
            }
            if let Ok(id) = id.as_ref().parse::<WorkspaceId>() {
                entries.remove(&id);
            }
        }
    }

    /// How many invalidations there have been (a test tells a late one from a cache miss).
    pub fn invalidations(&self) -> u64 {
        self.epoch()
    }

    /// Drops every view.
    pub fn flush(&self) {
        self.invalidate(&[EVERY]);
    }

    /// How many views are cached.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached view, if fresh and the pub/sub is live.
    pub(crate) fn lookup(&self, id: WorkspaceId) -> Option<Arc<CachedView>> {
        if !self.pubsub.live() {
            return None;
        }
        let entry = self.entries.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()?;
        (entry.cached_at.elapsed() < MAX_AGE).then_some(entry)
    }

    /// Caches a view built from reads that began at `epoch`, unless anything was invalidated
    /// since or the pub/sub is not live.
    pub(crate) fn insert(
        &self,
        epoch: u64,
        id: WorkspaceId,
        authz: WorkspaceAuthz,
        json: Arc<[u8]>,
    ) {
        if !self.pubsub.live() {
            return;
        }
        let entry = Arc::new(CachedView { authz, json, cached_at: Instant::now() });
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the write lock: `invalidate` bumps the epoch before taking it.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(id, entry);
    }
}

/// A live workspace's engine object and wire view, read in one statement
/// ([`workspace_view::get`]); `None` when there is no live workspace `id`.
pub(crate) async fn read(
    d: &Domain,
    id: WorkspaceId,
) -> Result<Option<(WorkspaceAuthz, Workspace)>> {
    let Some(f) = workspace_view::get(d.store(), id).await? else { return Ok(None) };
    Ok(Some(view_of(f)?))
}

fn view_of(f: WorkspaceViewFacts) -> Result<(WorkspaceAuthz, Workspace)> {
    let authz = WorkspaceAuthz::with_acl(&f.workspace, &f.acl);
    let initiator = f.initiator_name.map(|name| (f.latest.initiator_id, name));
    let facts = BuildFacts::of_one(f.job, f.version, initiator, f.queue);
    let build = facts.view(&f.workspace, &f.owner, &f.template, &f.latest)?;
    Ok((authz, assemble(&f.workspace, &f.owner, &f.org, &f.template, build)))
}

pub(crate) fn serialize(view: &Workspace) -> Result<Arc<[u8]>> {
    Ok(serde_json::to_vec(view)
        .map_err(|e| crate::Error::internal(format!("serialize a workspace: {e}")))?
        .into())
}

/// The serialized views of the live workspaces among `ids`, in their order: cached views where
/// warm, the rest read in one statement ([`workspace_view::get_many`]) and cached. A list page
/// costs that statement at most.
pub(crate) async fn json_many(d: &Domain, ids: &[WorkspaceId]) -> Result<Vec<Arc<[u8]>>> {
    let cache = &d.workspace_views;
    let mut found: HashMap<WorkspaceId, Arc<[u8]>> = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match cache.lookup(*id) {
            Some(hit) => {
                found.insert(*id, hit.json.clone());
            }
            None => missing.push(*id),
        }
    }
    if !missing.is_empty() {
        let epoch = cache.epoch();
        for f in workspace_view::get_many(d.store(), &missing).await? {
            let id = f.workspace.id;
            let (authz, view) = view_of(f)?;
            let json = serialize(&view)?;
            cache.insert(epoch, id, authz, json.clone());
            found.insert(id, json);
        }
    }
    // A workspace deleted since the page was read is left out.
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}
