//! The dormancy sweep: users with no activity for the dormancy period become `dormant` (they
//! take no seat); with `--dormant-suspend-after`, dormant accounts unseen that long are
//! suspended and their running workspaces stopped (never owners, never headless accounts).
//! Each change is audited. Every replica runs the loop; a pass takes the sweep's advisory lock
//! (`atrium_store::singleton`) and is skipped while another replica holds it, and within a
//! pass one conditional UPDATE decides which rows change, so each change is written once.

use atrium_store::singleton::{self, Duty};
use atrium_store::{DbTime, users};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::{self, Entry};
use crate::caller::RequestMeta;
use crate::{Domain, Result, Shared};

pub fn spawn(state: Shared, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.user_dormancy_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "dormancy sweep failed; will retry");
            }
        }
    })
}

/// One pass now: flips idle active users to dormant and audits each.
pub async fn sweep(state: &Domain) -> Result<usize> {
    sweep_at(state, DbTime::now()).await
}

/// One pass as if the time were `now` (tests drive the sweep through time with it): users
/// with no activity since `now` minus the dormancy period become dormant, then (with the
/// policy on) dormant users unseen since `now` minus `--dormant-suspend-after` are suspended
/// and their workspaces stopped; every change audited. Returns how many users changed.
pub async fn sweep_at(state: &Domain, now: DbTime) -> Result<usize> {
    let cutoff = DbTime::from_unix_micros(now.unix_micros().saturating_sub(
        i64::try_from(state.config.user_dormancy_period.as_micros()).unwrap_or(i64::MAX),
    ));
    let mut tx = state.store.begin().await?;
    if !singleton::try_lock(&mut tx, Duty::DormancySweep).await? {
        return Ok(0);
    }
    let flipped = users::mark_dormant(&mut tx, cutoff, now).await?;
    let meta = RequestMeta::internal("atrium dormancy sweep");
    for user in &flipped {
        let mut entry = Entry::new("write", "user");
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({"status": "active"}), &json!({"status": "dormant"}));
        entry.additional_fields = json!({"automatic_subsystem": "dormancy"});
        audit::write(&mut tx, &meta, &entry, 200).await?;
    }
    let mut changed = flipped.len();
    let mut stopped = 0;
    if let Some(after) = state.config.dormant_suspend_after {
        let policy = format!("dormant-suspend-after={}", crate::config::format_duration(after));
        let cutoff = DbTime::from_unix_micros(
            now.unix_micros().saturating_sub(i64::try_from(after.as_micros()).unwrap_or(i64::MAX)),
        );
        let suspended = users::suspend_long_dormant(&mut tx, cutoff, now).await?;
        for user in &suspended {
            // The user is the stop builds' initiator: the policy acts on their behalf.
            stopped += crate::builds::stop_running_workspaces(&mut tx, user.id, user.id).await?;
            let mut entry = Entry::new("write", "user");
            entry.resource(user.id.uuid(), user.username.clone());
            entry.changed(&json!({"status": "dormant"}), &json!({"status": "suspended"}));
            entry.additional_fields = json!({"automatic_subsystem": "dormancy", "policy": policy});
            audit::write(&mut tx, &meta, &entry, 200).await?;
        }
        changed += suspended.len();
    }
    tx.commit().await?;
    if stopped > 0 {
        state.jobs.wake();
    }
    Ok(changed)
}
