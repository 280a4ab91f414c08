//! The terraform provisioner: runs the `terraform` on PATH in a fresh working directory per
//! job, with `TF_IN_AUTOMATION=1` and `CHECKPOINT_DISABLE=1`, streaming its output to the job
//! log line by line (stdout as info, stderr as error).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use atrium_store::LogLevel;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::Failure;
use super::provisioner::{Run, STAGE_PARSE};

/// Longest a single terraform command may run before the job fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// An import: `terraform init` then `terraform validate` on the unpacked source.
pub(super) async fn import(run: &Run<'_>) -> Result<(), Failure> {
    let terraform = find_on_path("terraform").ok_or_else(|| {
        Failure::job("terraform is not installed on this server: no `terraform` executable on PATH")
    })?;
    let dir = run.workdir(STAGE_PARSE).await?;
    terraform_command(
        run,
        &terraform,
        dir.path(),
        "Initializing terraform",
        &["init", "-input=false", "-no-color"],
    )
    .await?;
    terraform_command(
        run,
        &terraform,
        dir.path(),
        "Validating template",
        &["validate", "-no-color"],
    )
    .await?;
    run.log.info("Validating template", "Import complete").await;
    Ok(())
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

/// Runs `terraform <args>` in `dir`, streaming both outputs to the log; a non-zero exit, or
/// running past [`COMMAND_TIMEOUT`], fails the job. The process is killed if the job is
/// dropped (canceled, or the server shuts down).
pub(super) async fn terraform_command(
    run: &Run<'_>,
    terraform: &Path,
    dir: &Path,
    stage: &str,
    args: &[&str],
) -> Result<(), Failure> {
    terraform_command_env(run, terraform, dir, stage, args, &[]).await
}

/// [`terraform_command`] with extra environment variables (`TF_VAR_*` for builds).
pub(super) async fn terraform_command_env(
    run: &Run<'_>,
    terraform: &Path,
    dir: &Path,
    stage: &str,
    args: &[&str],
    env: &[(String, String)],
) -> Result<(), Failure> {
    let shown = format!("terraform {}", args.join(" "));
    run.log.info(stage, &format!("$ {shown}")).await;
    // An empty CLI config of the job's own: the server user's ~/.terraformrc (or its absence,
    // which terraform warns about on every command) must not leak into builds.
    let cli_config = dir.join(".atrium-terraformrc");
    if !cli_config.exists() {
        tokio::fs::write(&cli_config, b"")
            .await
            .map_err(|e| Failure::job(format!("cannot write the terraform CLI config: {e}")))?;
    }
    let mut child = Command::new(terraform)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Failure::job(format!("cannot run `{}`: {e}", terraform.display())))?;
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
                    Ok(Some(line)) => run.log.line(LogLevel::Info, stage, &line).await,
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
    let status = tokio::time::timeout(COMMAND_TIMEOUT, streamed)
        .await
        .map_err(|_| {
            Failure::job(format!(
                "`{shown}` did not finish within {} minutes",
                COMMAND_TIMEOUT.as_secs() / 60
            ))
        })?
        .map_err(|e| Failure::job(format!("`{shown}` failed: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::job(format!("`{shown}` failed ({status})")))
    }
}
