//! Template version dry-runs (Coder's `template_version_dry_run` jobs): what a workspace built
//! from the version would be, without building it. `coder create` and `coder start` run one
//! before every build and read its status, log and resources.
//!
//! The echo provisioner plans nothing and succeeds. The terraform provisioner runs `init` then
//! `plan` on the version's source with the `TF_VAR_atrium_*` variables a start build would get
//! (the planned workspace's name, the initiator as owner, Go's zero UUID as its id, since no
//! workspace exists yet); the plan's resources are kept as the dry-run's ([`super::plan`]).

use atrium_store::users;
use atrium_store::value::BuildTransition;

use super::Failure;
use super::plan::{Planned, plan_resources};
use super::provisioner::{Provisioner, Run};
use super::terraform::{find_terraform, prepare, terraform_command};

const STAGE: &str = "Planning workspace";

/// Runs a dry-run job to its end.
pub(super) async fn run_dry_run(provisioner: Provisioner, run: &Run<'_>) -> Result<(), Failure> {
    let name = run.job.input.0.get("workspace_name").and_then(|v| v.as_str()).unwrap_or_default();
    let owner = users::get(run.store, run.job.initiator_id).await?;
    run.log.info(STAGE, &format!("Planning workspace {}/{name} (dry run)", owner.username)).await;
    match provisioner {
        Provisioner::Echo => run.log.info(STAGE, "echo provisioner: nothing to plan").await,
        Provisioner::Terraform => terraform_plan(run, name, &owner.username).await?,
    }
    run.log.info(STAGE, "Dry run complete").await;
    Ok(())
}

async fn terraform_plan(run: &Run<'_>, name: &str, owner: &str) -> Result<(), Failure> {
    let terraform = find_terraform()?;
    let job = run.workdir(STAGE).await?;
    prepare(run, &job)?;
    let env = super::variables::env(run, super::variables::job_version(run)?).await?;
    terraform_command(
        run,
        &terraform,
        &job,
        "Initializing terraform",
        &["init", "-input=false", "-no-color"],
        &env,
    )
    .await?;
    let workspace = Planned {
        transition: BuildTransition::Start,
        workspace_name: name,
        workspace_id: uuid::Uuid::nil(),
        owner,
    };
    plan_resources(run, &terraform, &job, STAGE, &env, &[workspace]).await
}
