//! One pass of the per-tenant portfolio snapshot job (the binary runs it on a tokio interval).
//!
//! Guarantees:
//! - **One snapshot per tenant per interval, whatever the number of processes.** The pass
//!   writes the snapshot of interval `⌊unix time / interval⌋` (the *bucket*) and the database
//!   keeps one row per tenant and bucket (a unique key, `INSERT ... ON CONFLICT DO NOTHING`):
//!   a second process, or a second pass in the same interval, writes nothing.
//! - **At most one pass at a time per process** (so one run per tenant at a time): a pass that
//!   finds another running returns at once.
//! - **Survives failures.** A tenant whose exchange or storage fails is logged and counted, and
//!   the pass goes on with the next; a failed tenant listing (database down) fails the pass,
//!   and the next tick tries again.
//!
//! After writing a tenant's snapshot, the pass runs the hook (the binary refreshes the regime
//! history with it) and, when an alert store is configured, the alert rules for that tenant
//! (risk limits, budget use, correlation spikes) so alerts are raised without anyone calling
//! the routes; only the process that wrote the snapshot runs them.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use std::time::Duration;

use alphapulse_domain::ports::{for_each_active_tenant, Actor, TenantRepo};
use chrono::{DateTime, Utc};

use super::{
    correlation::CorrelationService, BudgetService, PortfolioService, RiskCore, RiskService,
    ServiceError,
};

/// Something to run for each tenant whose snapshot a pass wrote, before its alert rules (the
/// binary refreshes the tenant's regime history with it, for the budgets and the rules).
pub type TenantHook = Arc<dyn Fn(&Actor) + Send + Sync>;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotRun {
    /// The interval number written.
    pub bucket: i64,
    /// Active tenants seen.
    pub tenants: usize,
    /// Snapshots this pass wrote.
    pub written: usize,
    /// Tenants whose snapshot of this interval existed already.
    pub existing: usize,
    /// Tenants that failed (logged).
    pub failed: usize,
    /// Whether another pass was running (this one did nothing).
    pub overlapped: bool,
}

/// The snapshot job.
pub struct SnapshotJob {
    core: Arc<RiskCore>,
    tenants: Arc<dyn TenantRepo>,
    interval: Duration,
    portfolio: PortfolioService,
    risk: RiskService,
    budgets: BudgetService,
    correlation: CorrelationService,
    before_rules: Option<TenantHook>,
    running: AtomicBool,
}

impl std::fmt::Debug for SnapshotJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotJob")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Clears the running flag when a pass ends, however it ends.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl SnapshotJob {
    /// A job writing one snapshot per tenant per `interval` (at least one second).
    pub fn new(core: Arc<RiskCore>, tenants: Arc<dyn TenantRepo>, interval: Duration) -> Self {
        Self {
            portfolio: PortfolioService::new(core.clone()),
            risk: RiskService::new(core.clone()),
            budgets: BudgetService::new(core.clone()),
            correlation: CorrelationService::new(core.clone()),
            core,
            tenants,
            interval: interval.max(Duration::from_secs(1)),
            before_rules: None,
            running: AtomicBool::new(false),
        }
    }

    /// Runs `hook` for each tenant whose snapshot this pass wrote, before its alert rules
    /// (whether or not an alert store is configured).
    #[must_use]
    pub fn with_before_rules(mut self, hook: TenantHook) -> Self {
        self.before_rules = Some(hook);
        self
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The interval number of `at`: `⌊unix seconds / interval seconds⌋`.
    pub fn bucket(&self, at: DateTime<Utc>) -> i64 {
        let secs = i64::try_from(self.interval.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        at.timestamp().div_euclid(secs)
    }

    /// One pass over every active firm (the platform's own tenant holds no book and is left
    /// out of the listing).
    ///
    /// # Errors
    /// Only when the tenants cannot be listed; per-tenant failures are counted and logged.
    pub fn run_once(&self) -> Result<SnapshotRun, ServiceError> {
        if self
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            tracing::warn!("snapshot pass still running: this one is skipped");
            return Ok(SnapshotRun {
                overlapped: true,
                ..SnapshotRun::default()
            });
        }
        let _running = Running(&self.running);
        let mut run = SnapshotRun {
            bucket: self.bucket(self.core.now()),
            ..SnapshotRun::default()
        };
        for_each_active_tenant(self.tenants.as_ref(), |tenant| {
            run.tenants += 1;
            let actor = Actor::system(tenant.id);
            let span = tracing::info_span!("snapshot", tenant_id = %tenant.id);
            let _entered = span.enter();
            match self.portfolio.job_snapshot(&actor, run.bucket) {
                Ok(Some(snapshot)) => {
                    run.written += 1;
                    tracing::debug!(snapshot_id = %snapshot.id, "portfolio snapshot written");
                    self.rules(&actor);
                }
                Ok(None) => run.existing += 1,
                Err(err) => {
                    run.failed += 1;
                    tracing::warn!(error = %err, "portfolio snapshot failed");
                }
            }
        })?;
        tracing::info!(
            bucket = run.bucket,
            tenants = run.tenants,
            written = run.written,
            existing = run.existing,
            failed = run.failed,
            "snapshot pass done"
        );
        Ok(run)
    }

    /// The alert rules of one tenant (only with an alert store: without one they would find
    /// and discard).
    fn rules(&self, actor: &Actor) {
        if let Some(hook) = &self.before_rules {
            hook(actor);
        }
        if self.core.ports.alerts.is_none() {
            return;
        }
        if let Err(err) = self.risk.limits(actor) {
            tracing::warn!(error = %err, "risk limit rule failed");
        }
        if let Err(err) = self.budgets.check(actor) {
            tracing::warn!(error = %err, "risk budget rule failed");
        }
        match self
            .correlation
            .alerts(actor, super::DEFAULT_ALERT_THRESHOLD)
        {
            Ok(_) | Err(ServiceError::TooFewObservations { .. }) => {}
            Err(err) => tracing::warn!(error = %err, "correlation rule failed"),
        }
    }
}
