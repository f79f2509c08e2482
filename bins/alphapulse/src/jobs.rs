//! Background jobs of `serve`, on the server's runtime: each runs its blocking work on the
//! blocking pool, survives a database outage (a failed round is logged and retried at the
//! next tick), and stops with the server.
//!
//! The rules-mining job mines every active tenant's decision history on its interval.
//!
//! The portfolio snapshot job ([`alphapulse_risk::service::SnapshotJob`]): the first pass runs
//! at start-up, then one every `ALPHAPULSE_SNAPSHOT_INTERVAL_SECONDS` (missed ticks are
//! skipped, never bunched up). A panicking pass is logged without stopping the loop. The
//! guarantees of a pass (one snapshot per tenant per interval across processes) are the job's.

use std::{sync::Arc, time::Duration};

use alphapulse_admin::Quotas;
use alphapulse_console::{MiningThresholds, RulesService};
use alphapulse_domain::ports::{for_each_active_tenant, Actor, TenantRepo};
use alphapulse_risk::service::SnapshotJob;
use anyhow::Result;
use tokio::time::MissedTickBehavior;

/// How often each process adds its API call counts to the shared daily counts.
pub const QUOTA_FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often idle burst buckets and past days' counters are forgotten.
pub const QUOTA_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Flushes the quota counts every second and prunes them every minute.
pub fn spawn_quota_jobs(quotas: Arc<Quotas>) {
    actix_web::rt::spawn(async move {
        let mut flush = tokio::time::interval(QUOTA_FLUSH_EVERY);
        flush.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut prune = tokio::time::interval(QUOTA_PRUNE_EVERY);
        prune.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    let q = quotas.clone();
                    match actix_web::web::block(move || q.flush()).await {
                        Ok(Ok(_)) if failing => {
                            failing = false;
                            tracing::info!("quota counts are written again");
                        }
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) if !failing => {
                            failing = true;
                            tracing::warn!(error = %err, "quota counts not written; kept for the next round");
                        }
                        Ok(Err(_)) => {}
                        Err(err) => tracing::error!(error = %err, "quota flush task failed"),
                    }
                }
                _ = prune.tick() => quotas.prune(),
            }
        }
    });
}

/// How often idle login counters (per address, per account) are forgotten.
pub const LOGIN_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Prunes the login limiters every minute, so a flood from many addresses cannot grow them
/// without bound.
pub fn spawn_login_pruning(state: alphapulse_api::AppState) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(LOGIN_PRUNE_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            state.prune_login_limits();
        }
    });
}

/// Lets the Prometheus recorder drain its histograms every few seconds (its documented upkeep
/// when it runs without its own HTTP listener), and samples the database pool into gauges at
/// the same pace (at start-up first).
pub fn spawn_metrics_upkeep(
    handle: metrics_exporter_prometheus::PrometheusHandle,
    db: alphapulse_persistence::Db,
) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            record_pool(&db);
            handle.run_upkeep();
        }
    });
}

/// The pool's state as gauges and its checkout counters as counters (r2d2's own numbers; no
/// database round trip).
fn record_pool(db: &alphapulse_persistence::Db) {
    let stats = db.stats();
    #[allow(clippy::cast_precision_loss)] // pool sizes and counts far below 2^52
    {
        metrics::gauge!("db_pool_max_size").set(f64::from(stats.max_size));
        metrics::gauge!("db_pool_connections").set(f64::from(stats.connections));
        metrics::gauge!("db_pool_idle_connections").set(f64::from(stats.idle));
        metrics::gauge!("db_unreachable").set(if db.is_unreachable() { 1.0 } else { 0.0 });
    }
    metrics::counter!("db_pool_checkouts_total").absolute(stats.checkouts);
    metrics::counter!("db_pool_waits_total").absolute(stats.waits);
    metrics::counter!("db_pool_wait_milliseconds_total").absolute(stats.wait_ms_total);
    metrics::counter!("db_pool_timeouts_total").absolute(stats.timeouts);
    metrics::counter!("db_async_reads_total").absolute(stats.async_reads);
    metrics::counter!("db_async_reads_one_round_trip_total").absolute(stats.async_one_round_trip);
}

/// Runs `job` on its interval until the runtime stops.
pub async fn run_snapshot_job(job: Arc<SnapshotJob>) {
    let mut ticker = tokio::time::interval(job.interval());
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
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

/// Mines every active tenant's decision history once; the number of pending candidates found
/// or refreshed.
///
/// # Errors
/// Listing the tenants failed (a tenant's own failure is logged and skipped).
pub fn mine_rules_once(
    tenants: &dyn TenantRepo,
    rules: &RulesService,
    thresholds: &MiningThresholds,
) -> Result<usize> {
    let mut found = 0;
    for_each_active_tenant(tenants, |tenant| {
        match rules.mine_tenant(&Actor::system(tenant.id), thresholds) {
            Ok(candidates) => found += candidates.len(),
            Err(err) => tracing::warn!(tenant = %tenant.id, error = %err, "rule mining failed"),
        }
    })?;
    Ok(found)
}

/// Starts the mining job on the running actix system: first after one interval, then every
/// interval; each run on the blocking pool.
pub fn spawn_rule_mining(
    tenants: Arc<dyn TenantRepo>,
    rules: RulesService,
    thresholds: MiningThresholds,
    every: Duration,
) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(every);
        interval.tick().await;
        loop {
            interval.tick().await;
            let (tenants, rules) = (tenants.clone(), rules.clone());
            let outcome = actix_web::web::block(move || {
                mine_rules_once(tenants.as_ref(), &rules, &thresholds)
            })
            .await;
            match outcome {
                Ok(Ok(found)) => tracing::info!(candidates = found, "rule mining done"),
                Ok(Err(err)) => tracing::warn!(error = %err, "rule mining failed"),
                Err(err) => tracing::warn!(error = %err, "rule mining job panicked"),
            }
        }
    });
}
