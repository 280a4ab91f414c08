//! Workspace builds (coder-api.md §1.7): start, stop and delete as provisioner jobs, the build
//! list, cancel, and logs with a follow mode that streams until the job ends.
//!
//! Authorization as Coder decides it, with one deliberate difference: start and stop need only
//! the `start` / `stop` actions (Coder's builder also pre-checks `update`), so a role that grants
//! start/stop alone works. Delete needs `delete`.

use crate::audit::{self, Entry};
use crate::convert::time;
pub use crate::job_logs::{FOLLOW_POLL, FOLLOW_RECHECK, Follow};
use crate::job_logs::{Guarded, JobLog};
use crate::template_versions::job_view;
use crate::workspaces::{WorkspaceAuthz, resolve_workspace};
use crate::{Caller, Domain, Error, Kind, Page, Result};
use atrium_api::Response as Message;
use atrium_api::templates::ProvisionerJobMetadata;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, WorkspaceBuild};
use atrium_engine::Action;
use atrium_store::jobs::{self, JobStatus, ProvisionerJob};
use atrium_store::{
    BuildReason, BuildTransition, DbTime, JobId, JobKind, StoreError, TemplateVersionId, Tx,
    UserId, WorkspaceBuildId, templates, users, workspaces,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Coder's workspace status: the job's status refined by the transition.
pub fn workspace_status(job: JobStatus, transition: BuildTransition) -> &'static str {
    use BuildTransition as T;
    match (job, transition) {
        (JobStatus::Pending, _) => "pending",
        (JobStatus::Running, T::Start) => "starting",
        (JobStatus::Running, T::Stop) => "stopping",
        (JobStatus::Running, T::Delete) => "deleting",
        (JobStatus::Succeeded, T::Start) => "running",
        (JobStatus::Succeeded, T::Stop) => "stopped",
        (JobStatus::Succeeded, T::Delete) => "deleted",
        (JobStatus::Failed, _) => "failed",
        (JobStatus::Canceling, _) => "canceling",
        (JobStatus::Canceled, _) => "canceled",
    }
}

/// Queues a build and its job in the caller's transaction (call `state.jobs.wake()` after
/// commit). The job runs the provisioner the template version was imported with, on its source.
pub async fn queue_build(
    tx: &mut Tx<'_>,
    ws: &workspaces::Workspace,
    version_id: TemplateVersionId,
    transition: BuildTransition,
    reason: BuildReason,
    initiator: UserId,
    state_blob: Option<&[u8]>,
) -> Result<workspaces::WorkspaceBuild> {
    let version = templates::get_version(&mut *tx, version_id).await?;
    let import = jobs::get(&mut *tx, version.job_id).await?;
    check_imported(&version, &import)?;
    // Lock the workspace and check it is live and idle before writing anything: one active
    // build per workspace, decided inside this transaction.
    workspaces::lock_idle(&mut *tx, ws.id).await.map_err(build_refused)?;
    let build_id = WorkspaceBuildId::new_v4();
    let job_id = JobId::new_v4();
    let now = DbTime::now();
    let input = json!({"workspace_build_id": build_id, "transition": transition.as_str()});
    jobs::insert(
        &mut *tx,
        &jobs::NewJob {
            id: job_id,
            org_id: ws.org_id,
            initiator_id: initiator,
            kind: JobKind::WorkspaceBuild,
            provisioner: &import.provisioner,
            file_id: version.file_id,
            input: &input,
            created_at: now,
        },
    )
    .await?;
    workspaces::insert_build(
        &mut *tx,
        &workspaces::NewBuild {
            id: build_id,
            workspace_id: ws.id,
            transition,
            reason,
            initiator_id: initiator,
            job_id,
            template_version_id: version_id,
            state: state_blob,
            created_at: now,
        },
    )
    .await
    .map_err(build_refused)
}

/// A build the store refused: the workspace is deleted, or another build is active.
fn build_refused(e: StoreError) -> Error {
    match e {
        StoreError::Unique { constraint } if constraint == workspaces::ACTIVE_BUILD => {
            Error::conflict("A workspace build is already active.")
        }
        e => e.into(),
    }
}

/// A version whose import has not succeeded cannot be built (Coder's wsbuilder texts): 406
/// while it is still importing, 400 once it failed or was canceled.
fn check_imported(
    version: &templates::TemplateVersion,
    import: &jobs::ProvisionerJob,
) -> Result<()> {
    let status = import.status();
    match status {
        JobStatus::Succeeded => Ok(()),
        JobStatus::Pending | JobStatus::Running | JobStatus::Canceling => Err(Error::new(
            Kind::NotAcceptable,
            format!(
                "The provided template version is {}. Wait for it to complete importing!",
                crate::template_versions::status_str(status)
            ),
        )),
        JobStatus::Failed | JobStatus::Canceled => Err(Error::bad_request(format!(
            "The provided template version {} has failed to import: {}. You cannot build \
             workspaces with it!",
            go_quote(&version.name),
            go_quote(import.error.as_deref().unwrap_or_default())
        ))),
    }
}

/// Go's `%q` for the texts Coder quotes: backslash escapes for quotes, backslashes and control
/// characters.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The wire `WorkspaceBuild`.
async fn build_to_api(
    state: &Domain,
    ws: &workspaces::Workspace,
    owner: &users::User,
    b: &workspaces::WorkspaceBuild,
) -> Result<WorkspaceBuild> {
    let template = templates::get(state.store(), ws.template_id).await?;
    build_with_template(state, ws, owner, &template, b).await
}

/// [`build_to_api`] with the workspace's template already loaded (one query fewer per view).
pub async fn build_with_template(
    state: &Domain,
    ws: &workspaces::Workspace,
    owner: &users::User,
    template: &templates::Template,
    b: &workspaces::WorkspaceBuild,
) -> Result<WorkspaceBuild> {
    BuildFacts::load(state, &[b], &[owner]).await?.view(ws, owner, template, b)
}

/// What build views need besides the builds themselves (jobs, versions, initiators' names,
/// queue positions), loaded for many builds in four statements.
pub(crate) struct BuildFacts {
    jobs: HashMap<JobId, ProvisionerJob>,
    versions: HashMap<TemplateVersionId, templates::TemplateVersion>,
    names: HashMap<UserId, String>,
    queue: HashMap<JobId, (i64, i64)>,
}

impl BuildFacts {
    /// Loads the facts of `builds`; initiators among `known` users need no lookup.
    pub(crate) async fn load(
        state: &Domain,
        builds: &[&workspaces::WorkspaceBuild],
        known: &[&users::User],
    ) -> Result<Self> {
        let store = state.store();
        let jobs: HashMap<JobId, ProvisionerJob> =
            jobs::get_many(store, &builds.iter().map(|b| b.job_id).collect::<Vec<_>>())
                .await?
                .into_iter()
                .map(|j| (j.id, j))
                .collect();
        let versions = templates::get_versions(
            store,
            &builds.iter().map(|b| b.template_version_id).collect::<Vec<_>>(),
        )
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
        let mut names: HashMap<UserId, String> =
            known.iter().map(|u| (u.id, u.username.clone())).collect();
        let unknown: Vec<UserId> =
            builds.iter().map(|b| b.initiator_id).filter(|id| !names.contains_key(id)).collect();
        names.extend(
            users::get_many(store, &unknown).await?.into_iter().map(|u| (u.id, u.username)),
        );
        let pending: Vec<JobId> =
            jobs.values().filter(|j| j.status() == JobStatus::Pending).map(|j| j.id).collect();
        let queue = jobs::queue_positions(store, &pending)
            .await?
            .into_iter()
            .map(|(id, position, size)| (id, (position, size)))
            .collect();
        Ok(BuildFacts { jobs, versions, names, queue })
    }

    /// The facts of one build read already ([`atrium_store::workspace_view`]).
    pub(crate) fn of_one(
        job: ProvisionerJob,
        version: templates::TemplateVersion,
        initiator: Option<(UserId, String)>,
        queue: (i64, i64),
    ) -> Self {
        BuildFacts {
            queue: HashMap::from([(job.id, queue)]),
            jobs: HashMap::from([(job.id, job)]),
            versions: HashMap::from([(version.id, version)]),
            names: initiator.into_iter().collect(),
        }
    }

    /// The wire build (its job and version must have been loaded: both are foreign keys).
    pub(crate) fn view(
        &self,
        ws: &workspaces::Workspace,
        owner: &users::User,
        template: &templates::Template,
        b: &workspaces::WorkspaceBuild,
    ) -> Result<WorkspaceBuild> {
        let missing = || Error::internal(format!("build {} lost its job or version", b.id));
        let job = self.jobs.get(&b.job_id).ok_or_else(missing)?;
        let version = self.versions.get(&b.template_version_id).ok_or_else(missing)?;
        let metadata = ProvisionerJobMetadata {
            template_version_name: version.name.clone(),
            template_id: template.id.uuid(),
            template_name: template.name.clone(),
            template_display_name: template.display_name.clone(),
            template_icon: template.icon.clone(),
            workspace_id: Some(ws.id.uuid()),
            workspace_name: ws.name.clone(),
        };
        let queue = self.queue.get(&job.id).copied().unwrap_or((0, 0));
        Ok(WorkspaceBuild {
            id: b.id.uuid(),
            created_at: time(b.created_at),
            updated_at: time(b.updated_at),
            workspace_id: ws.id.uuid(),
            workspace_name: ws.name.clone(),
            workspace_owner_id: owner.id.uuid(),
            workspace_owner_name: owner.username.clone(),
            template_version_id: version.id.uuid(),
            template_version_name: version.name.clone(),
            build_number: b.build_number,
            transition: b.transition.as_str().to_owned(),
            initiator_id: b.initiator_id.uuid(),
            // A deleted initiator keeps its name; one never found has none.
            initiator_name: self.names.get(&b.initiator_id).cloned().unwrap_or_default(),
            status: workspace_status(job.status(), b.transition).to_owned(),
            job: job_view(job, metadata, queue),
            reason: b.reason.as_str().to_owned(),
            resources: vec![],
            daily_cost: 0,
        })
    }
}

/// Queues a stop build (reason `suspended`) for each of `owner`'s workspaces whose latest build
/// is a finished start; returns how many.
pub async fn stop_running_workspaces(
    tx: &mut Tx<'_>,
    owner: UserId,
    initiator: UserId,
) -> Result<usize> {
    let mut stopped = 0;
    for ws in workspaces::list_by_owner(&mut *tx, owner).await?.into_iter().filter(|w| !w.deleted) {
        // Lock first, so the latest build read below cannot change before the stop is queued;
        // a workspace with a build in flight is left to it.
        match workspaces::lock_idle(&mut *tx, ws.id).await {
            Ok(()) => {}
            Err(StoreError::Unique { .. } | StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
        let latest = match workspaces::latest_build(&mut *tx, ws.id).await {
            Ok(b) => b,
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let job = jobs::get(&mut *tx, latest.job_id).await?;
        if latest.transition == BuildTransition::Start && job.status() == JobStatus::Succeeded {
            queue_build(
                tx,
                &ws,
                latest.template_version_id,
                BuildTransition::Stop,
                BuildReason::Suspended,
                initiator,
                None,
            )
            .await?;
            stopped += 1;
        }
    }
    Ok(stopped)
}

/// A build whose workspace the actor may read (deleted workspaces' builds stay readable to
/// whoever could read the workspace).
pub(crate) async fn resolve_build(
    state: &Domain,
    actor: &Caller,
    param: &str,
) -> Result<(workspaces::WorkspaceBuild, workspaces::Workspace, WorkspaceAuthz)> {
    let id: WorkspaceBuildId = param.parse().map_err(|_| Error::not_found())?;
    let build = match workspaces::get_build(state.store(), id).await {
        Ok(b) => b,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let ws = workspaces::get(state.store(), build.workspace_id).await?;
    let authz = WorkspaceAuthz::load(state, &ws).await?;
    actor.require_or_404(Action::Read, &authz.object())?;
    Ok((build, ws, authz))
}

/// Starts, stops or deletes a workspace (a build and its provisioner job). Needs `read` on the
/// workspace (404), then `start`, `stop` or `delete` by the transition (403).
pub async fn create_build(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: CreateWorkspaceBuildRequest,
) -> Result<WorkspaceBuild> {
    let mut entry = Entry::new("start", "workspace_build").by(caller);
    let result = async {
        let (ws, authz) = resolve_workspace(d, caller, param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        let Some(transition) = BuildTransition::parse(&req.transition) else {
            return Err(Error::bad_request(format!(
                "Transition \"{}\" not supported.",
                req.transition
            )));
        };
        let (action, verb) = match transition {
            BuildTransition::Start => (Action::Start, "start"),
            BuildTransition::Stop => (Action::Stop, "stop"),
            BuildTransition::Delete => (Action::Delete, "delete"),
        };
        entry.action = verb;
        if !caller.can(action, &authz.object()) {
            return Err(Error::forbidden_with(format!(
                "You do not have permission to {} this workspace.",
                transition.as_str()
            )));
        }
        let version = req.template_version_id.map(TemplateVersionId);
        submit_build(d, caller, &ws, transition, version, &mut entry).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// [`create_build`] once authorized: the version checked, the build queued and audited.
async fn submit_build(
    d: &Domain,
    caller: &Caller,
    ws: &workspaces::Workspace,
    transition: BuildTransition,
    version: Option<TemplateVersionId>,
    entry: &mut Entry,
) -> Result<WorkspaceBuild> {
    let latest = workspaces::latest_build(d.store(), ws.id).await?;
    let version_id = match version {
        Some(v) => match templates::get_version(d.store(), v).await {
            Ok(tv) if tv.template_id == Some(ws.template_id) => v,
            Ok(_) => return Err(Error::bad_request("template version doesn't match template")),
            Err(StoreError::NotFound { .. }) => {
                return Err(Error::bad_request(format!("Template version \"{v}\" doesn't exist.")));
            }
            Err(e) => return Err(e.into()),
        },
        None => latest.template_version_id,
    };
    let mut tx = d.store().begin().await?;
    // One active build per workspace: `queue_build` checks it under the workspace's lock.
    let build =
        queue_build(&mut tx, ws, version_id, transition, BuildReason::Initiator, caller.id(), None)
            .await?;
    entry.changed(
        &json!({}),
        &json!({"transition": transition.as_str(), "build_number": build.build_number}),
    );
    audit::write(&mut tx, caller.meta(), entry, 201).await?;
    tx.commit().await?;
    d.jobs.wake();
    let owner = users::get(d.store(), ws.owner_id).await?;
    build_to_api(d, ws, &owner, &build).await
}

/// The workspace's builds, newest first; needs `read` on the workspace (404 otherwise).
pub async fn list_builds(
    d: &Domain,
    caller: &Caller,
    param: &str,
    page: Page,
    after_id: Option<Uuid>,
) -> Result<Vec<WorkspaceBuild>> {
    let (ws, _) = resolve_workspace(d, caller, param).await?;
    let owner = users::get(d.store(), ws.owner_id).await?;
    let template = templates::get(d.store(), ws.template_id).await?;
    let mut builds = workspaces::list_builds(d.store(), ws.id).await?;
    if let Some(after) = after_id {
        // As Coder pages them: the builds numbered after the cursor's (still newest first).
        // The cursor must be one of this workspace's builds.
        let number = builds
            .iter()
            .find(|b| b.id.uuid() == after)
            .map(|b| b.build_number)
            .ok_or_else(|| after_id_missing(after))?;
        builds.retain(|b| b.build_number > number);
    }
    let builds = crate::paging::page(builds, page);
    let refs: Vec<&workspaces::WorkspaceBuild> = builds.iter().collect();
    let facts = BuildFacts::load(d, &refs, &[&owner]).await?;
    builds.iter().map(|b| facts.view(&ws, &owner, &template, b)).collect()
}

/// Coder's 400 for an `after_id` naming no row of the list.
fn after_id_missing(after: Uuid) -> Error {
    Error::bad_request(format!("Record at \"after_id\" (\"{after}\") does not exist."))
}

/// One build; needs `read` on its workspace (404 otherwise).
pub async fn get_build(d: &Domain, caller: &Caller, param: &str) -> Result<WorkspaceBuild> {
    let (build, ws, _) = resolve_build(d, caller, param).await?;
    let owner = users::get(d.store(), ws.owner_id).await?;
    build_to_api(d, &ws, &owner, &build).await
}

/// Asks the build's job to stop (the worker ends it as canceled). Needs `read` on the
/// workspace (404) and `update` (403).
pub async fn cancel_build(d: &Domain, caller: &Caller, param: &str) -> Result<Message> {
    let mut entry = Entry::new("write", "workspace_build").by(caller);
    let result = async {
        let (build, ws, authz) = resolve_build(d, caller, param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        caller.require(Action::Update, &authz.object())?;
        crate::job_logs::cancel(d, caller, build.job_id, &mut entry).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// A build's log, opened by a caller who may read its workspace ([`open_log`]).
pub type BuildLog = JobLog;

/// Opens a build's log; needs `read` on the build's workspace (404 otherwise).
pub async fn open_log(d: &Domain, caller: &Caller, param: &str) -> Result<BuildLog> {
    let (build, ws, _) = resolve_build(d, caller, param).await?;
    Ok(JobLog::new(build.job_id, Guarded::Workspace(ws.id), caller.key_id()))
}
