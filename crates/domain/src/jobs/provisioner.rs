//! The provisioners: what a job does with a template's source. Jobs store the provisioner by
//! name (Coder's `ProvisionerType`); the enum is the one place that maps names to behaviour.
//!
//! A template version import checks the source ([`Provisioner::import`]). Workspace builds
//! (issue 8) add `build`: the same [`Run`] context plus the transition and the previous
//! state, returning the new state, with a fresh working directory per job as imports have.

use atrium_store::jobs::ProvisionerJob;
use atrium_store::{Store, files};

use super::sandbox::{JobDir, Sandbox};
use super::{Failure, JobLog, archive, terraform};

/// A provisioner Atrium runs in-process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provisioner {
    /// Provisions nothing and succeeds at once: for tests and templates without
    /// infrastructure.
    Echo,
    /// Runs the `terraform` found on PATH.
    Terraform,
}

impl Provisioner {
    pub const ALL: [Provisioner; 2] = [Provisioner::Echo, Provisioner::Terraform];

    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Provisioner::Echo => "echo",
            Provisioner::Terraform => "terraform",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Checks a template version's source.
    pub async fn import(self, run: &Run<'_>) -> Result<(), Failure> {
        match self {
            Provisioner::Echo => {
                run.log.info(STAGE_PARSE, "Parsing template (echo provisioner)").await;
                run.log.info(STAGE_PARSE, "Import complete").await;
                Ok(())
            }
            Provisioner::Terraform => terraform::import(run).await,
        }
    }
}

pub(super) const STAGE_PARSE: &str = "Parsing template";

/// What a provisioner gets to run a job with.
pub struct Run<'a> {
    pub store: &'a Store,
    pub job: &'a ProvisionerJob,
    pub log: &'a JobLog,
    pub sandbox: &'a Sandbox,
    /// The job's time limit (`--provisioner-job-timeout`) and when it runs out: commands
    /// still running then are killed and the job fails with [`Failure::TimedOut`].
    pub limit: std::time::Duration,
    pub deadline: tokio::time::Instant,
}

impl Run<'_> {
    /// The job's template source, as uploaded.
    pub async fn source(&self) -> Result<Vec<u8>, Failure> {
        let id =
            self.job.file_id.ok_or_else(|| Failure::job("the job has no template source file"))?;
        Ok(files::get(self.store, id).await?.data)
    }

    /// A fresh job directory holding the unpacked source in `src/`; removed when dropped.
    pub async fn workdir(&self, stage: &str) -> Result<JobDir, Failure> {
        let data = self.source().await?;
        let unpacked = tokio::task::spawn_blocking(move || {
            let job = JobDir::new()
                .map_err(|e| Failure::job(format!("cannot create a working directory: {e}")))?;
            let unpacked =
                archive::unpack(&data, &job.src()).map_err(|e| Failure::job(e.to_string()))?;
            Ok::<_, Failure>((job, unpacked))
        })
        .await
        .map_err(|e| Failure::job(format!("unpacking failed: {e}")))?;
        let (job, unpacked) = unpacked?;
        let files = unpacked.files.len();
        self.log.info(stage, &format!("Unpacked {files} file(s) from the template source")).await;
        for skipped in &unpacked.skipped {
            let line = format!("Skipped `{skipped}`: only regular files and directories are used");
            self.log.line(atrium_store::LogLevel::Warn, stage, &line).await;
        }
        Ok(job)
    }
}
