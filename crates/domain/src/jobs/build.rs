//! Workspace build jobs: run the template version's provisioner for the build's transition,
//! with the workspace's previous state restored from the database and the new state stored
//! back; a successful delete soft-deletes the workspace.
//!
//! The terraform provisioner runs `init` then `apply` (start, stop) or `destroy` (delete) in a
//! fresh working directory holding the template source, passing the transition and names as
//! `TF_VAR_atrium_*` variables (undeclared ones are ignored by terraform, so templates declare
//! only what they use).

use atrium_store::{BuildTransition, DbTime, StoreError, WorkspaceBuildId, users, workspaces};

use super::Failure;
use super::provisioner::{Provisioner, Run};
use super::terraform::{find_terraform, prepare, terraform_command};

const STAGE: &str = "Provisioning";
const STATE_FILE: &str = "terraform.tfstate";

/// What a build needs to know, read from its rows.
struct BuildContext {
    build: workspaces::WorkspaceBuild,
    workspace: workspaces::Workspace,
    owner: users::User,
    previous_state: Option<Vec<u8>>,
}

async fn context(run: &Run<'_>) -> Result<BuildContext, Failure> {
    let id = run
        .job
        .input
        .0
        .get("workspace_build_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<WorkspaceBuildId>().ok())
        .ok_or_else(|| Failure::job("the job names no workspace build"))?;
    let build = workspaces::get_build(run.store, id).await?;
    let workspace = workspaces::get(run.store, build.workspace_id).await?;
    let owner = users::get(run.store, workspace.owner_id).await?;
    // The newest earlier build that left state behind (a failed build may have left none).
    let previous_state = workspaces::list_builds(run.store, workspace.id)
        .await?
        .into_iter()
        .filter(|b| b.build_number < build.build_number)
        .find_map(|b| b.state);
    Ok(BuildContext { build, workspace, owner, previous_state })
}

/// Runs a build job to its end.
pub(super) async fn run_build(provisioner: Provisioner, run: &Run<'_>) -> Result<(), Failure> {
    let ctx = context(run).await?;
    let transition = ctx.build.transition;
    run.log
        .info(
            STAGE,
            &format!(
                "{} workspace {}/{} (build #{})",
                verb(transition),
                ctx.owner.username,
                ctx.workspace.name,
                ctx.build.build_number
            ),
        )
        .await;
    let new_state = match provisioner {
        Provisioner::Echo => {
            run.log.info(STAGE, "echo provisioner: nothing to provision").await;
            ctx.previous_state.clone()
        }
        Provisioner::Terraform => Some(terraform_build(run, &ctx).await?),
    };
    let now = DbTime::now();
    if let Some(bytes) = &new_state {
        workspaces::set_build_state(run.store, ctx.build.id, bytes, now).await?;
    }
    if transition == BuildTransition::Delete {
        match workspaces::soft_delete(run.store, ctx.workspace.id, now).await {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    run.log.info(STAGE, &format!("{} complete", verb(transition))).await;
    Ok(())
}

fn verb(t: BuildTransition) -> &'static str {
    match t {
        BuildTransition::Start => "Starting",
        BuildTransition::Stop => "Stopping",
        BuildTransition::Delete => "Deleting",
    }
}

async fn terraform_build(run: &Run<'_>, ctx: &BuildContext) -> Result<Vec<u8>, Failure> {
    let terraform = find_terraform()?;
    let job = run.workdir(STAGE).await?;
    let state_path = job.src().join(STATE_FILE);
    if let Some(previous) = &ctx.previous_state {
        tokio::fs::write(&state_path, previous)
            .await
            .map_err(|e| Failure::job(format!("cannot restore the workspace state: {e}")))?;
        run.log.info(STAGE, "Restored the workspace's previous state").await;
    }
    prepare(run, &job)?;
    let mut vars = vec![
        ("atrium_transition", ctx.build.transition.as_str().to_owned()),
        ("atrium_workspace_name", ctx.workspace.name.clone()),
        ("atrium_workspace_id", ctx.workspace.id.to_string()),
        ("atrium_workspace_owner", ctx.owner.username.clone()),
    ];
    if let Some(dir) = run.sandbox.workspaces_dir() {
        vars.push(("atrium_workspaces_dir", dir.display().to_string()));
    }
    // The template's own variables first; the server's `atrium_*` ones are never among them.
    let mut env = super::variables::env(run, ctx.build.template_version_id).await?;
    env.extend(vars.into_iter().map(|(k, v)| (format!("TF_VAR_{k}"), v)));
    terraform_command(
        run,
        &terraform,
        &job,
        "Initializing terraform",
        &["init", "-input=false", "-no-color"],
        &env,
    )
    .await?;
    let args: &[&str] = match ctx.build.transition {
        BuildTransition::Delete => &["destroy", "-auto-approve", "-input=false", "-no-color"],
        BuildTransition::Start | BuildTransition::Stop => {
            &["apply", "-auto-approve", "-input=false", "-no-color"]
        }
    };
    let applied = terraform_command(run, &terraform, &job, STAGE, args, &env).await;
    // Whatever happened, keep the state terraform wrote: a half-applied build must not forget
    // the resources it made.
    let written = tokio::fs::read(&state_path).await.ok();
    match (applied, written) {
        (Ok(()), Some(bytes)) => Ok(bytes),
        (Ok(()), None) => Err(Failure::job("terraform wrote no state")),
        (Err(e), Some(bytes)) => {
            workspaces::set_build_state(run.store, ctx.build.id, &bytes, DbTime::now()).await?;
            Err(e)
        }
        (Err(e), None) => Err(e),
    }
}
