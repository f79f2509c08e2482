//! Background jobs of `serve`: rule mining, per tenant, on an interval.

use std::time::Duration;

use alphapulse_console::{MiningThresholds, RulesService};
use alphapulse_domain::{
    ports::{Actor, TenantFilter, TenantRepo},
    PageRequest, TenantStatus,
};
use anyhow::{anyhow, Result};

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
    let mut cursor = None;
    loop {
        let page = PageRequest::new(Some(500), cursor).map_err(|e| anyhow!(e))?;
        let filter = TenantFilter {
            status: Some(TenantStatus::Active),
            ids: None,
        };
        let listed = tenants.list(&filter, &page)?;
        for tenant in &listed.items {
            match rules.mine_tenant(&Actor::system(tenant.id), thresholds) {
                Ok(candidates) => found += candidates.len(),
                Err(err) => tracing::warn!(tenant = %tenant.id, error = %err, "rule mining failed"),
            }
        }
        match listed.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(found)
}

/// Starts the mining job on the running actix system: first after one interval, then every
/// interval; each run on the blocking pool.
pub fn spawn_rule_mining(
    tenants: std::sync::Arc<dyn TenantRepo>,
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
