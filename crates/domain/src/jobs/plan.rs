//! What a template would create: `terraform plan` into a plan file, then `terraform show
//! -json` of it, keeping the managed resources (type, name) in the plan's order. An import
//! plans the start and stop transitions (Coder's "Template Preview" in `templates push`); a
//! dry-run plans the start of one named workspace (what `coder create` lists before building).
//! `plan` changes nothing and runs no provisioner, so the workspaces directory is untouched.

use std::path::Path;

use atrium_store::job_resources;
use atrium_store::value::BuildTransition;
use serde_json::Value;

use super::Failure;
use super::provisioner::Run;
use super::sandbox::JobDir;
use super::terraform::{terraform_command, terraform_output};

/// The workspace a plan is for: the `TF_VAR_atrium_*` values a build of it would get.
pub(super) struct Planned<'a> {
    pub transition: BuildTransition,
    pub workspace_name: &'a str,
    pub workspace_id: uuid::Uuid,
    pub owner: &'a str,
}

/// Plans each of `workspaces` in turn (terraform already initialized in `job`, `env` holding
/// the template's variables) and records the resources of all of them on the job.
pub(super) async fn plan_resources(
    run: &Run<'_>,
    terraform: &Path,
    job: &JobDir,
    stage: &str,
    env: &[(String, String)],
    workspaces: &[Planned<'_>],
) -> Result<(), Failure> {
    let mut found = Vec::new();
    for planned in workspaces {
        let mut env = env.to_vec();
        let mut vars = vec![
            ("atrium_transition", planned.transition.as_str().to_owned()),
            ("atrium_workspace_name", planned.workspace_name.to_owned()),
            ("atrium_workspace_id", planned.workspace_id.to_string()),
            ("atrium_workspace_owner", planned.owner.to_owned()),
        ];
        if let Some(dir) = run.sandbox.workspaces_dir() {
            vars.push(("atrium_workspaces_dir", dir.display().to_string()));
        }
        env.extend(vars.into_iter().map(|(k, v)| (format!("TF_VAR_{k}"), v)));
        let plan = ["plan", "-input=false", "-no-color", "-out=atrium.tfplan"];
        terraform_command(run, terraform, job, stage, &plan, &env).await?;
        let show = ["show", "-json", "atrium.tfplan"];
        let shown = terraform_output(run, terraform, job, stage, &show, &env).await?;
        let plan: Value = serde_json::from_str(&shown)
            .map_err(|e| Failure::job(format!("terraform show printed no plan: {e}")))?;
        let mut resources = Vec::new();
        managed_resources(&plan["planned_values"]["root_module"], &mut resources);
        found.extend(resources.into_iter().map(|(t, n)| (planned.transition, t, n)));
    }
    job_resources::replace(run.store, run.job.id, &found).await?;
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
