//! Singleton duties: the stale-job sweep and the purge of delivered cache-change records. Every replica runs this loop whatever its `--provisioner-daemons` (an API-only
//! replica still fails a dead replica's jobs); each pass takes its duty's advisory lock
//! (`atrium_store::singleton`) and is skipped while another replica holds it. The dormancy
//! sweep ([`crate::dormancy`]) takes its own lock the same way.
//!
//! A job's worker refreshes its `updated_at` every [`crate::jobs::HEARTBEAT`]; a running job
//! not refreshed for [`crate::jobs::STALE_AFTER`] lost its worker (its replica died) and is
//! failed. With a pass every [`TICK`], that happens within STALE_AFTER + TICK of the death
//! (40 s; Coder waits 5 minutes).

use std::time::Duration;

use atrium_store::singleton::{self, Duty};
use atrium_store::{DbTime, changes, jobs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Domain, Result, Shared};

/// How often each replica tries the duties.
pub const TICK: Duration = Duration::from_secs(10);
/// How long a delivered authorization-change record is kept.
pub const CHANGE_RECORDS_KEPT: Duration = Duration::from_secs(600);

pub fn spawn(state: Shared, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            match fail_stale_jobs(&state).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(failed = n, "failed jobs whose worker stopped heartbeating")
                }
                Err(e) => tracing::warn!(error = %e, "cannot sweep stale jobs; will retry"),
            }
            if let Err(e) = purge(&state).await {
                tracing::warn!(error = %e, "cannot purge old records; will retry");
            }
        }
    })
}

fn before(now: DbTime, age: Duration) -> DbTime {
    let age = i64::try_from(age.as_micros()).unwrap_or(i64::MAX);
    DbTime::from_unix_micros(now.unix_micros().saturating_sub(age))
}

/// Fails running jobs whose worker stopped heartbeating, unless another replica is doing it
/// right now; returns how many this pass failed.
pub async fn fail_stale_jobs(state: &Domain) -> Result<u64> {
    let now = DbTime::now();
    let mut tx = state.store.begin().await?;
    if !singleton::try_lock(&mut tx, Duty::StaleJobSweep).await? {
        return Ok(0);
    }
    let failed = jobs::fail_stale(&mut tx, before(now, crate::jobs::STALE_AFTER), now).await?;
    tx.commit().await?;
    Ok(failed)
}

/// Deletes cache-change records old enough to have been delivered.
pub async fn purge(state: &Domain) -> Result<u64> {
    let mut tx = state.store.begin().await?;
    if !singleton::try_lock(&mut tx, Duty::Purge).await? {
        return Ok(0);
    }
    let purged = changes::purge(&mut tx, before(DbTime::now(), CHANGE_RECORDS_KEPT)).await?;
    tx.commit().await?;
    Ok(purged)
}
