//! The terraform provisioner: runs the `terraform` on PATH in a fresh job directory per job,
//! inside the provisioner sandbox ([`super::sandbox`]), streaming its output to the job log
//! line by line (stdout as info, stderr as error).
//!
//! A template may not bring its own terraform CLI configuration or provider plugins
//! (`terraform.d/`, `.terraform/`, `.terraformrc`, `terraform.rc`): such a source is refused
//! at import and at build ([`refuse_shipped_cli_files`]). The job's own CLI configuration
//! names the plugin cache and the provider sources explicitly.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use atrium_store::LogLevel;
use atrium_store::value::BuildTransition;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::Failure;
use super::plan::{Planned, plan_resources};
use super::provisioner::{Run, STAGE_PARSE};
use super::sandbox::{GroupKiller, JobDir};

/// An import: `terraform init` then `terraform validate` on the unpacked source, its variables
/// recorded, then a plan of the start and stop transitions for the version's resources.
pub(super) async fn import(run: &Run<'_>) -> Result<(), Failure> {
    let terraform = find_terraform()?;
    let job = run.workdir(STAGE_PARSE).await?;
    prepare(run, &job)?;
    terraform_command(
        run,
        &terraform,
        &job,
        "Initializing terraform",
        &["init", "-input=false", "-no-color"],
        &[],
    )
    .await?;
    terraform_command(
        run,
        &terraform,
        &job,
        "Validating template",
        &["validate", "-no-color"],
        &[],
    )
    .await?;
    // After terraform's own check, so a syntax error is reported by terraform, and the
    // variable reader only ever sees a configuration terraform accepted.
    super::variables::import(run, &job.src()).await?;
    // What a workspace would be made of, started and stopped (`templates push` shows it): the
    // initiator as owner, no workspace yet (no name, Go's zero UUID).
    let owner = atrium_store::users::get(run.store, run.job.initiator_id).await?;
    let env = super::variables::env(run, super::variables::job_version(run)?).await?;
    let workspaces = [BuildTransition::Start, BuildTransition::Stop].map(|transition| Planned {
        transition,
        workspace_name: "",
        workspace_id: uuid::Uuid::nil(),
        owner: &owner.username,
    });
    plan_resources(run, &terraform, &job, "Planning workspace", &env, &workspaces).await?;
    run.log.info("Validating template", "Import complete").await;
    Ok(())
}

/// The `terraform` on PATH, or why there is none.
pub(super) fn find_terraform() -> Result<PathBuf, Failure> {
    find_on_path("terraform").ok_or_else(|| {
        Failure::job("terraform is not installed on this server: no `terraform` executable on PATH")
    })
}

/// Checks the unpacked source and readies the job directory for the sandbox.
pub(super) fn prepare(run: &Run<'_>, job: &JobDir) -> Result<(), Failure> {
    refuse_shipped_cli_files(&job.src())?;
    run.sandbox.prepare(job)
}

/// Fails when the source carries terraform CLI configuration or provider plugins, which
/// terraform would otherwise load from the working directory (`terraform.d/plugins` is an
/// implied provider mirror; `.terraform/` holds installed providers).
pub(super) fn refuse_shipped_cli_files(src: &Path) -> Result<(), Failure> {
    let mut found = Vec::new();
    for top in ["terraform.d", ".terraform"] {
        if src.join(top).symlink_metadata().is_ok() {
            found.push(format!("{top}/"));
        }
    }
    find_rc_files(src, src, &mut found);
    if found.is_empty() {
        return Ok(());
    }
    found.sort();
    Err(Failure::job(format!(
        "the template source carries terraform CLI configuration or provider plugins ({}); \
         they are not allowed in a template: remove them (providers come from the registry or \
         the server's provider mirror)",
        found.join(", ")
    )))
}

fn find_rc_files(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == ".terraformrc" || name == "terraform.rc" {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            found.push(rel.display().to_string());
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_rc_files(root, &path, found);
        }
    }
}

/// The first executable `name` in PATH.
pub(super) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs `terraform <args>` for the job (sandboxed, in its source directory, with `env`
/// added to the allow-listed environment), streaming both outputs to the log; a non-zero exit
/// fails the job, and so does the job's time limit running out. The process and its group are
/// killed then, or if the job is dropped (canceled, or the server shuts down).
pub(super) async fn terraform_command(
    run: &Run<'_>,
    terraform: &Path,
    job: &JobDir,
    stage: &str,
    args: &[&str],
    env: &[(String, String)],
) -> Result<(), Failure> {
    terraform_run(run, terraform, job, stage, args, env, None).await
}

/// Runs `terraform <args>` as [`terraform_command`] does, but keeps its standard output (a
/// machine-readable answer such as `show -json`) instead of logging it.
pub(super) async fn terraform_output(
    run: &Run<'_>,
    terraform: &Path,
    job: &JobDir,
    stage: &str,
    args: &[&str],
    env: &[(String, String)],
) -> Result<String, Failure> {
    let mut output = String::new();
    terraform_run(run, terraform, job, stage, args, env, Some(&mut output)).await?;
    Ok(output)
}

async fn terraform_run(
    run: &Run<'_>,
    terraform: &Path,
    job: &JobDir,
    stage: &str,
    args: &[&str],
    env: &[(String, String)],
    mut keep_stdout: Option<&mut String>,
) -> Result<(), Failure> {
    let shown = format!("terraform {}", args.join(" "));
    run.log.info(stage, &format!("$ {shown}")).await;
    let mut child = run
        .sandbox
        .command(job, terraform, args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Failure::job(format!("cannot run `{}`: {e}", terraform.display())))?;
    let _group = GroupKiller::new(child.id());
    let stdout = child.stdout.take().ok_or_else(|| Failure::job("terraform has no stdout"))?;
    let stderr = child.stderr.take().ok_or_else(|| Failure::job("terraform has no stderr"))?;
    let streamed = async {
        let mut out = BufReader::new(stdout).lines();
        let mut err = BufReader::new(stderr).lines();
        let (mut out_done, mut err_done) = (false, false);
        while !(out_done && err_done) {
            // `next_line` is cancel-safe: a line is never lost to the other branch winning.
            tokio::select! {
                line = out.next_line(), if !out_done => match line {
                    Ok(Some(line)) => match keep_stdout.as_deref_mut() {
                        Some(kept) => {
                            kept.push_str(&line);
                            kept.push('\n');
                        }
                        None => run.log.line(LogLevel::Info, stage, &line).await,
                    },
                    Ok(None) | Err(_) => out_done = true,
                },
                line = err.next_line(), if !err_done => match line {
                    Ok(Some(line)) => run.log.line(LogLevel::Error, stage, &line).await,
                    Ok(None) | Err(_) => err_done = true,
                },
            }
        }
        child.wait().await
    };
    // Past the job's time limit the command is dropped, which kills it and its group.
    let status = tokio::time::timeout_at(run.deadline, streamed)
        .await
        .map_err(|_| Failure::TimedOut(run.limit))?
        .map_err(|e| Failure::job(format!("`{shown}` failed: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::job(format!("`{shown}` failed ({status})")))
    }
}
