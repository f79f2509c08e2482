//! Background jobs of `serve`, on tokio intervals.
//!
//! The portfolio snapshot job ([`alphapulse_risk::service::SnapshotJob`]): the first pass runs
//! at start-up, then one every `ALPHAPULSE_SNAPSHOT_INTERVAL_SECONDS` (missed ticks are
//! skipped, never bunched up). Each pass runs on the blocking pool; a failed pass (the
//! database down) is logged and the next tick tries again, and a panicking pass is logged
//! without stopping the loop. The guarantees of a pass (one snapshot per tenant per interval
//! across processes) are the job's.

use std::sync::Arc;

use alphapulse_risk::service::SnapshotJob;

/// Runs `job` on its interval until the runtime stops.
pub async fn run_snapshot_job(job: Arc<SnapshotJob>) {
    let mut ticker = tokio::time::interval(job.interval());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tracing::info!(
        interval_seconds = job.interval().as_secs(),
        "portfolio snapshot job started"
    );
    loop {
        ticker.tick().await;
        let pass = job.clone();
        match tokio::task::spawn_blocking(move || pass.run_once()).await {
            Ok(Ok(run)) => tracing::debug!(?run, "snapshot pass"),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "snapshot pass failed; retrying at the next interval");
            }
            Err(err) => tracing::error!(error = %err, "snapshot pass panicked"),
        }
    }
}
