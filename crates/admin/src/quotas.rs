//! The daily API quota (`max_api_calls_per_day`) and the burst limit of each tenant.
//!
//! **Daily quota.** Every authenticated request counts. Counts live in PostgreSQL
//! (`UsageRepo`), so several server processes share one count and a restart loses none, but
//! the hot path never waits for the database: each process keeps, per tenant, the total it
//! last read back (`known`, every process's calls) and its own calls since (`pending`), and
//! admits a request while `known + pending < limit`. [`Quotas::flush`] (a job, every second)
//! adds each tenant's `pending` to the database in one statement and reads the new totals
//! back; a failed flush keeps the counts for the next one. A process can therefore overshoot
//! by what the other processes did within one flush interval, never more.
//!
//! **Burst limit.** A token bucket per tenant (`governor`), sized by the tenant's plan.
//!
//! **Alerts.** Crossing 80 % and 100 % of the quota raises one alert each per tenant and day
//! (source `quota`), from the flush job, when an alert sink is configured.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use alphapulse_domain::{
    ports::{Actor, AlertRepo, AlertSeverity, AlertSource, Clock, NewAlert, TenantRepo, UsageRepo},
    RepoError, SubscriptionTier, TenantId,
};
use chrono::{DateTime, Days, NaiveDate, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use moka::sync::Cache;

/// How long a tenant's limits (plan and daily quota) are trusted before re-reading them.
pub const LIMITS_TTL: Duration = Duration::from_secs(30);

/// A token bucket: sustained requests per second and the burst on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Sustained rate (tokens per second).
    pub per_second: NonZeroU32,
    /// Bucket size.
    pub burst: NonZeroU32,
}

impl Bucket {
    const fn new(per_second: u32, burst: u32) -> Self {
        match (NonZeroU32::new(per_second), NonZeroU32::new(burst)) {
            (Some(per_second), Some(burst)) => Self { per_second, burst },
            _ => Self {
                per_second: NonZeroU32::MIN,
                burst: NonZeroU32::MIN,
            },
        }
    }

    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }

    fn scaled(self, factor: NonZeroU32) -> Self {
        Self {
            per_second: self.per_second.saturating_mul(factor),
            burst: self.burst.saturating_mul(factor),
        }
    }
}

/// The burst limit of each plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstLimits {
    /// `starter`.
    pub starter: Bucket,
    /// `pro`.
    pub pro: Bucket,
    /// `enterprise`.
    pub enterprise: Bucket,
}

impl Default for BurstLimits {
    /// 20/s (burst 40), 100/s (200), 500/s (1000).
    fn default() -> Self {
        Self {
            starter: Bucket::new(20, 40),
            pro: Bucket::new(100, 200),
            enterprise: Bucket::new(500, 1000),
        }
    }
}

impl BurstLimits {
    /// Every plan's rate and burst multiplied by `factor` (load tests, large deployments).
    #[must_use]
    pub fn scaled(self, factor: NonZeroU32) -> Self {
        Self {
            starter: self.starter.scaled(factor),
            pro: self.pro.scaled(factor),
            enterprise: self.enterprise.scaled(factor),
        }
    }
}

/// Where a tenant stands against its daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    /// `max_api_calls_per_day`.
    pub limit: u64,
    /// Calls left today (after this one, when admitted).
    pub remaining: u64,
    /// Seconds until the UTC day turns and the count starts again.
    pub reset_secs: u64,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead (counted).
    Allowed(QuotaState),
    /// The daily quota is used up (not counted): retry when the day turns.
    OverQuota(QuotaState),
    /// Too many requests at once (not counted): retry after this many seconds.
    Burst {
        /// Seconds until a token is back.
        retry_after_secs: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    max_calls: u64,
    tier: SubscriptionTier,
}

#[derive(Debug, Default)]
struct Counter {
    day: Option<NaiveDate>,
    known: u64,
    pending: u64,
    alerted: u8,
}

/// The quota and burst limiter of one server process.
pub struct Quotas {
    usage: Arc<dyn UsageRepo>,
    tenants: Arc<dyn TenantRepo>,
    clock: Arc<dyn Clock>,
    alerts: Option<Arc<dyn AlertRepo>>,
    limits: Cache<TenantId, Limits>,
    counters: Mutex<HashMap<TenantId, Counter>>,
    burst: [DefaultKeyedRateLimiter<TenantId>; 3],
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas")
            .field("tenants_cached", &self.limits.entry_count())
            .finish_non_exhaustive()
    }
}

fn reset_secs(now: DateTime<Utc>) -> u64 {
    let tomorrow = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc());
    tomorrow.map_or(86_400, |t| {
        u64::try_from((t - now).num_seconds()).unwrap_or(0).max(1)
    })
}

impl Quotas {
    /// A limiter over the usage and tenant repositories.
    pub fn new(
        usage: Arc<dyn UsageRepo>,
        tenants: Arc<dyn TenantRepo>,
        clock: Arc<dyn Clock>,
        burst: BurstLimits,
    ) -> Self {
        Self {
            usage,
            tenants,
            clock,
            alerts: None,
            limits: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(LIMITS_TTL)
                .build(),
            counters: Mutex::new(HashMap::new()),
            burst: [
                RateLimiter::keyed(burst.starter.quota()),
                RateLimiter::keyed(burst.pro.quota()),
                RateLimiter::keyed(burst.enterprise.quota()),
            ],
        }
    }

    /// Raises the 80 % and 100 % alerts through `alerts`.
    #[must_use]
    pub fn with_alerts(mut self, alerts: Arc<dyn AlertRepo>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Counter>> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits (and counts) one request of `tenant`, or refuses it; `None` when the tenant's
    /// limits are not loaded yet: call [`Quotas::load`] off the async workers, then again.
    /// Never blocks.
    pub fn admit(&self, tenant: TenantId) -> Option<Admission> {
        let limits = self.limits.get(&tenant)?;
        let bucket = match limits.tier {
            SubscriptionTier::Starter => &self.burst[0],
            SubscriptionTier::Pro => &self.burst[1],
            SubscriptionTier::Enterprise => &self.burst[2],
        };
        if let Err(not_until) = bucket.check_key(&tenant) {
            return Some(Admission::Burst {
                retry_after_secs: crate::retry_after_secs(&not_until),
            });
        }
        let now = self.clock.now();
        let today = now.date_naive();
        let mut counters = self.counters();
        let counter = counters.entry(tenant).or_default();
        if counter.day != Some(today) {
            *counter = Counter {
                day: Some(today),
                ..Counter::default()
            };
        }
        let used = counter.known + counter.pending;
        let state = |remaining| QuotaState {
            limit: limits.max_calls,
            remaining,
            reset_secs: reset_secs(now),
        };
        if used >= limits.max_calls {
            return Some(Admission::OverQuota(state(0)));
        }
        counter.pending += 1;
        Some(Admission::Allowed(state(limits.max_calls - used - 1)))
    }

    /// Loads `tenant`'s limits and today's total (blocking). Concurrent loads of one tenant
    /// share one (the requests that found its limits expired at the same moment); today's
    /// total is read only when this process has no count of today yet, since the flush keeps
    /// it current after that.
    ///
    /// # Errors
    /// Storage failures (an unknown tenant too).
    pub fn load(&self, tenant: TenantId) -> Result<(), RepoError> {
        self.limits
            .try_get_with(tenant, || {
                let row = self.tenants.get(tenant)?;
                let today = self.clock.now().date_naive();
                let counted_today = self
                    .counters()
                    .get(&tenant)
                    .is_some_and(|c| c.day == Some(today));
                if !counted_today {
                    let total = self.usage.total(today, tenant)?;
                    let mut counters = self.counters();
                    let counter = counters.entry(tenant).or_default();
                    if counter.day != Some(today) {
                        *counter = Counter {
                            day: Some(today),
                            ..Counter::default()
                        };
                    }
                    counter.known = counter.known.max(total);
                }
                Ok(Limits {
                    max_calls: u64::try_from(row.max_api_calls_per_day).unwrap_or(0),
                    tier: row.subscription_tier,
                })
            })
            .map(|_| ())
            .map_err(std::sync::Arc::unwrap_or_clone)
    }

    /// Adds this process's pending calls to the shared counts and reads the totals back
    /// (blocking; a job calls it every second); the tenants flushed. Counts that could not be
    /// written stay pending for the next flush.
    ///
    /// # Errors
    /// Storage failures.
    pub fn flush(&self) -> Result<usize, RepoError> {
        let mut by_day: HashMap<NaiveDate, Vec<(TenantId, u64)>> = HashMap::new();
        {
            let mut counters = self.counters();
            // Every tenant seen today, those without new calls too: their totals come back
            // with the others' calls, so this process learns what the others did.
            for (tenant, counter) in counters.iter_mut() {
                if let Some(day) = counter.day {
                    by_day
                        .entry(day)
                        .or_default()
                        .push((*tenant, counter.pending));
                    counter.pending = 0;
                }
            }
        }
        let mut flushed = 0;
        for (day, calls) in by_day {
            match self.usage.add_calls(day, &calls) {
                Ok(totals) => {
                    flushed += totals.len();
                    self.record_totals(day, &totals);
                }
                Err(err) => {
                    // Put them back: nothing is lost, the next flush tries again.
                    let mut counters = self.counters();
                    for (tenant, pending) in calls {
                        if let Some(counter) = counters.get_mut(&tenant) {
                            if counter.day == Some(day) {
                                counter.pending += pending;
                            }
                        }
                    }
                    return Err(err);
                }
            }
        }
        Ok(flushed)
    }

    fn record_totals(&self, day: NaiveDate, totals: &[(TenantId, u64)]) {
        let mut crossings = Vec::new();
        {
            let mut counters = self.counters();
            for (tenant, total) in totals {
                let Some(counter) = counters.get_mut(tenant) else {
                    continue;
                };
                if counter.day != Some(day) {
                    continue;
                }
                counter.known = *total;
                if let Some(limits) = self.limits.get(tenant) {
                    let used = counter.known + counter.pending;
                    for (level, bit) in [(80u64, 1u8), (100, 2)] {
                        if used * 100 >= limits.max_calls * level && counter.alerted & bit == 0 {
                            counter.alerted |= bit;
                            crossings.push((*tenant, level, used, limits.max_calls));
                        }
                    }
                }
            }
        }
        let Some(alerts) = &self.alerts else {
            return;
        };
        for (tenant, level, used, limit) in crossings {
            let alert = NewAlert {
                source: AlertSource::Quota,
                severity: if level >= 100 {
                    AlertSeverity::Critical
                } else {
                    AlertSeverity::Warning
                },
                title: format!("Daily API quota at {level} %"),
                message: format!("{used} of {limit} API calls used on {day} (UTC)"),
                tags: vec![format!("quota:{level}")],
                dedup_key: format!("quota:{level}:{day}"),
            };
            if let Err(err) = alerts.raise(&Actor::system(tenant), &alert) {
                tracing::warn!(error = %err, %tenant, "quota alert not raised");
            }
        }
    }

    /// Forgets idle burst buckets and the counters of past days (memory stays bounded).
    pub fn prune(&self) {
        for bucket in &self.burst {
            bucket.retain_recent();
            bucket.shrink_to_fit();
        }
        let today = self.clock.now().date_naive();
        self.counters()
            .retain(|_, c| c.day == Some(today) || c.pending > 0);
    }
}

#[cfg(test)]
#[path = "quotas_tests.rs"]
mod tests;
