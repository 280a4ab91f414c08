//! Template version dry-runs (Coder's `template_version_dry_run` jobs): what a workspace built
//! from the version would be, without building it. `coder create` and `coder start` run one
//! before every build and read its status, log and resources.
//!
//! The echo provisioner plans nothing and succeeds. The terraform provisioner runs `init` then
//! `plan` on the version's source with the `TF_VAR_atrium_*` variables a start build would get
//! (the planned workspace's name, the initiator as owner, Go's zero UUID as its id, since no
//! workspace exists yet); `plan` changes nothing, so the workspaces directory is not touched.
//! The plan's managed resources (`terraform show -json`) are kept as the dry-run's resources,
//! which `coder create` shows before it builds.

use atrium_store::value::BuildTransition;
use atrium_store::{job_resources, users};
use serde_json::Value;

use super::Failure;
use super::provisioner::{Provisioner, Run};
use super::terraform::{find_terraform, prepare, terraform_command, terraform_output};

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
    let mut vars = vec![
        ("atrium_transition", "start".to_owned()),
        ("atrium_workspace_name", name.to_owned()),
        ("atrium_workspace_id", uuid::Uuid::nil().to_string()),
        ("atrium_workspace_owner", owner.to_owned()),
    ];
    if let Some(dir) = run.sandbox.workspaces_dir() {
        vars.push(("atrium_workspaces_dir", dir.display().to_string()));
    }
    let mut env = super::variables::env(run, super::variables::job_version(run)?).await?;
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
    let plan = ["plan", "-input=false", "-no-color", "-out=atrium.tfplan"];
    terraform_command(run, &terraform, &job, STAGE, &plan, &env).await?;
    let shown =
        terraform_output(run, &terraform, &job, STAGE, &["show", "-json", "atrium.tfplan"], &env)
            .await?;
    let plan: Value = serde_json::from_str(&shown)
        .map_err(|e| Failure::job(format!("terraform show printed no plan: {e}")))?;
    let mut planned = Vec::new();
    managed_resources(&plan["planned_values"]["root_module"], &mut planned);
    job_resources::replace(run.store, run.job.id, BuildTransition::Start, &planned).await?;
    Ok(())
}

/// The managed resources (type, name) of a plan's module and its child modules, in order; data
/// sources are read, not created, so they are not the workspace's resources.
fn managed_resources(module: &Value, found: &mut Vec<(String, String)>) {
    for resource in module["resources"].as_array().into_iter().flatten() {
        if resource["mode"] == "managed" {
            let field = |k: &str| resource[k].as_str().unwrap_or_default().to_owned();
            found.push((field("type"), field("name")));
        }
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        managed_resources(child, found);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::managed_resources;

    #[test]
    fn managed_resources_come_from_every_module_and_skip_data_sources() {
        let plan = json!({
            "resources": [
                {"mode": "managed", "type": "local_file", "name": "home"},
                {"mode": "data", "type": "external", "name": "env"},
            ],
            "child_modules": [{"resources": [{"mode": "managed", "type": "terraform_data", "name": "x"}]}],
        });
        let mut found = Vec::new();
        managed_resources(&plan, &mut found);
        let names: Vec<_> = found.iter().map(|(t, n)| format!("{t}.{n}")).collect();
        assert_eq!(names, ["local_file.home", "terraform_data.x"]);
    }
}
