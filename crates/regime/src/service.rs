//! The per-tenant regime service: reads the tenant's configuration and the stored candles,
//! fits the model, records history and change alerts, and caches the snapshot per tenant so
//! requests never refit.
//!
//! Caching, in two bounded `moka` caches:
//! - **served snapshots**, one per tenant: the snapshot, its data version (configuration
//!   `updated_at`, newest candle, candle count) and when that version was last checked, by the
//!   injected [`Clock`]. Within the freshness window ([`FRESH_FOR`]) of the check the snapshot
//!   is served without touching the database; after it, the data version is read again and an
//!   unchanged version only renews the check. Entries idle for [`EVICT_WHEN_IDLE`] are dropped
//!   (the next request fits again), and at most [`MAX_TENANTS`] are kept.
//! - **fits**, keyed by (tenant, data version), as a single flight
//!   (`moka::sync::Cache::try_get_with`): the first caller fits the model and records history
//!   and change alerts; concurrent callers for the same tenant and version wait and share its
//!   result, so 48 simultaneous cold requests fit once and write history once. A failure is
//!   handed to the callers that were waiting for it and is not cached: the next request tries
//!   again. A fit stays there for [`FLIGHT_TTL`], so a caller that read the version while the
//!   fit was finishing reuses it instead of fitting a second time.

use std::{sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{
        Actor, CacheStat, CacheStatsSource, Clock, MarketDataRepo, RegimeAlert, RegimeConfig,
        RegimeDay, RegimeStore, SystemClock,
    },
    Regime, RepoError, Symbol, TenantId,
};
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use thiserror::Error;

use crate::{ModelConfig, RegimeError, RegimeModel, RegimeSnapshot};

/// How long a cached snapshot is served without asking whether data or configuration
/// changed: daily candles change at most daily, so requests within this window never touch
/// the database.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// Most tenants whose snapshot is kept (and most fits kept for the single flight).
pub const MAX_TENANTS: u64 = 10_000;

/// A tenant's snapshot is dropped after this long without a request.
pub const EVICT_WHEN_IDLE: Duration = Duration::from_secs(60 * 60);

/// How long a finished fit stays keyed by its data version, for callers that read that
/// version while the fit was running.
pub const FLIGHT_TTL: Duration = Duration::from_secs(60);

/// Extra candles loaded before the lookback so the rolling features are warm.
const WARMUP_DAYS: u32 = 60;

/// Failures of the service.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum RegimeServiceError {
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The model could not be fitted (too little data, ...).
    #[error("regime model unavailable: {0}")]
    Model(#[from] RegimeError),
    /// None of the universe's symbols has market data.
    #[error("no market data for the regime universe")]
    NoData,
}

impl RegimeServiceError {
    /// The error of a shared fit: the original when this caller holds the last reference.
    fn unshare(shared: Arc<Self>) -> Self {
        Arc::unwrap_or_clone(shared)
    }
}

/// What a fit depends on besides the candles themselves: when any part changes, the next
/// check refits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DataVersion {
    config_updated_at: DateTime<Utc>,
    newest_candle: Option<DateTime<Utc>>,
    candles: i64,
}

/// The snapshot a tenant is served, its data version and when that version was checked.
#[derive(Debug)]
struct Served {
    version: DataVersion,
    checked_at: DateTime<Utc>,
    fitted: Arc<Fitted>,
}

/// A fitted snapshot and when it was fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The model's answer.
    pub snapshot: RegimeSnapshot,
    /// When the model was fitted (by the service's clock).
    pub trained_at: DateTime<Utc>,
}

/// The service (share it as `Arc<RegimeService>`).
pub struct RegimeService {
    market: Arc<dyn MarketDataRepo>,
    store: Arc<dyn RegimeStore>,
    defaults: ModelConfig,
    fresh_for: Duration,
    clock: Arc<dyn Clock>,
    served: Cache<TenantId, Arc<Served>>,
    fits: Cache<(TenantId, DataVersion), Arc<Fitted>>,
}

impl std::fmt::Debug for RegimeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegimeService")
            .field("fresh_for", &self.fresh_for)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl CacheStatsSource for RegimeService {
    fn cache_stats(&self) -> Vec<CacheStat> {
        let stat = |name: &str, entries: u64| CacheStat {
            name: name.to_owned(),
            entries,
            capacity: MAX_TENANTS,
            hits: None,
            misses: None,
        };
        vec![
            stat("regime_snapshots", self.served.entry_count()),
            stat("regime_fits", self.fits.entry_count()),
        ]
    }
}

/// The configuration used for tenants that have none: Bitcoin alone, 3 years, 5 states.
pub fn default_config() -> RegimeConfig {
    RegimeConfig {
        universe: Symbol::parse("BTCUSDT")
            .map(|s| vec![(s, 1.0)])
            .unwrap_or_default(),
        lookback_days: 1095,
        n_states: 5,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

impl RegimeService {
    /// A service over the market data and the regime store, with model defaults, the system
    /// clock and a freshness window of [`FRESH_FOR`].
    pub fn new(
        market: Arc<dyn MarketDataRepo>,
        store: Arc<dyn RegimeStore>,
        defaults: ModelConfig,
    ) -> Self {
        Self {
            market,
            store,
            defaults,
            fresh_for: FRESH_FOR,
            clock: Arc::new(SystemClock),
            served: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_idle(EVICT_WHEN_IDLE)
                .build(),
            fits: Cache::builder()
                .max_capacity(MAX_TENANTS)
                .time_to_live(FLIGHT_TTL)
                .build(),
        }
    }

    /// Sets how long a snapshot is served without checking for new data ([`FRESH_FOR`] by
    /// default; zero checks on every request).
    #[must_use]
    pub fn with_freshness(mut self, fresh_for: Duration) -> Self {
        self.fresh_for = fresh_for;
        self
    }

    /// Sets the clock that decides freshness and stamps `trained_at` ([`SystemClock`] by
    /// default; a `ManualClock` in tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The tenant's current snapshot, fitted now if the data or configuration changed.
    ///
    /// Concurrent calls for one tenant and data version share one fit (and one write of
    /// history and alerts); see the module docs.
    ///
    /// # Errors
    /// Storage failures, no data, or a model that cannot be fitted.
    pub fn current(&self, actor: &Actor) -> Result<Arc<Fitted>, RegimeServiceError> {
        let tenant = actor.tenant_id;
        let served = self.served.get(&tenant);
        if let Some(served) = &served {
            if self.is_fresh(served.checked_at) {
                return Ok(served.fitted.clone());
            }
        }
        let config = self.store.config(actor)?.unwrap_or_else(default_config);
        let (newest_candle, candles) = self.market.version(actor)?;
        let version = DataVersion {
            config_updated_at: config.updated_at,
            newest_candle,
            candles,
        };
        let fitted = match served {
            Some(served) if served.version == version => served.fitted.clone(),
            _ => self
                .fits
                .try_get_with((tenant, version), || self.fit_and_record(actor, &config))
                .map_err(RegimeServiceError::unshare)?,
        };
        self.served.insert(
            tenant,
            Arc::new(Served {
                version,
                checked_at: self.clock.now(),
                fitted: fitted.clone(),
            }),
        );
        Ok(fitted)
    }

    /// Whether a version checked at `checked_at` may still be served unchecked. A clock that
    /// went backwards counts as no time elapsed.
    fn is_fresh(&self, checked_at: DateTime<Utc>) -> bool {
        let elapsed = (self.clock.now() - checked_at)
            .to_std()
            .unwrap_or(Duration::ZERO);
        elapsed < self.fresh_for
    }

    /// The body of the single flight: fit, then record history and alerts.
    fn fit_and_record(
        &self,
        actor: &Actor,
        config: &RegimeConfig,
    ) -> Result<Arc<Fitted>, RegimeServiceError> {
        let snapshot = self.fit(actor, config)?;
        let trained_at = self.clock.now();
        self.record(actor, &snapshot)?;
        Ok(Arc::new(Fitted {
            snapshot,
            trained_at,
        }))
    }

    fn fit(
        &self,
        actor: &Actor,
        config: &RegimeConfig,
    ) -> Result<RegimeSnapshot, RegimeServiceError> {
        let limit = config.lookback_days + WARMUP_DAYS;
        let mut universe = Vec::with_capacity(config.universe.len());
        for (symbol, weight) in &config.universe {
            let candles = self.market.daily_candles(actor, symbol, limit)?;
            if !candles.is_empty() {
                universe.push((*weight, candles));
            }
        }
        if universe.is_empty() {
            return Err(RegimeServiceError::NoData);
        }
        let model = ModelConfig {
            n_states: config.n_states,
            lookback_days: config.lookback_days as usize,
            ..self.defaults
        };
        let started = std::time::Instant::now();
        let snapshot = RegimeModel::fit(&universe, &model)?;
        tracing::info!(
            tenant_id = %actor.tenant_id,
            observations = snapshot.observations,
            elapsed_ms = started.elapsed().as_millis() as u64,
            regime = %snapshot.current_regime,
            "regime model fitted"
        );
        Ok(snapshot)
    }

    fn record(&self, actor: &Actor, snapshot: &RegimeSnapshot) -> Result<(), RegimeServiceError> {
        let days: Vec<RegimeDay> = snapshot
            .history
            .iter()
            .map(|p| RegimeDay {
                date: p.date.date_naive(),
                regime: p.regime,
                confidence: p.confidence,
            })
            .collect();
        let mut changes: Vec<_> = snapshot
            .changes()
            .into_iter()
            .map(|c| (c.date.date_naive(), Some(c.from), c.to, c.confidence))
            .collect();
        if changes.is_empty() {
            // Never changed in the window: one alert for the regime seen.
            if let Some(first) = snapshot.history.first() {
                changes.push((
                    first.date.date_naive(),
                    None,
                    first.regime,
                    first.confidence,
                ));
            }
        }
        let created = self.store.record(actor, &days, &changes)?;
        if created > 0 {
            tracing::info!(tenant_id = %actor.tenant_id, created, "regime alerts recorded");
        }
        Ok(())
    }

    /// The newest `days` entries of the tenant's history, oldest first.
    ///
    /// # Errors
    /// As [`RegimeService::current`].
    pub fn history(&self, actor: &Actor, days: u32) -> Result<Vec<RegimeDay>, RegimeServiceError> {
        self.current(actor)?;
        Ok(self.store.history(actor, days)?)
    }

    /// The tenant's regime-change alerts, newest first.
    ///
    /// # Errors
    /// As [`RegimeService::current`].
    pub fn alerts(
        &self,
        actor: &Actor,
        limit: u32,
    ) -> Result<Vec<RegimeAlert>, RegimeServiceError> {
        self.current(actor)?;
        Ok(self.store.alerts(actor, limit)?)
    }

    /// The statistics of `regime` in the tenant's current history (`None` if it never
    /// occurred).
    ///
    /// # Errors
    /// As [`RegimeService::current`].
    pub fn analysis(
        &self,
        actor: &Actor,
        regime: Regime,
    ) -> Result<Option<crate::analysis::RegimeStats>, RegimeServiceError> {
        let fitted = self.current(actor)?;
        Ok(*fitted.snapshot.analysis.get(regime))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::ValidationError;

    use super::*;

    #[test]
    fn a_shared_error_is_the_same_error_for_every_caller() {
        let errors = [
            RegimeServiceError::NoData,
            RegimeServiceError::Model(RegimeError::InsufficientData {
                needed: 120,
                got: 51,
            }),
            RepoError::NotFound("regime config").into(),
            RepoError::Conflict("regime_history_tenant_id_day_key".into()).into(),
            RepoError::LimitReached("fits".into()).into(),
            RepoError::Unavailable("pool exhausted".into()).into(),
            RepoError::Internal("boom".into()).into(),
            RepoError::Invalid(ValidationError::new("n_states", "must be 2-8")).into(),
        ];
        for error in errors {
            let text = error.to_string();
            let debug = format!("{error:?}");
            let shared = Arc::new(error);
            // A second holder: the duplicate is rebuilt variant by variant.
            let copy = RegimeServiceError::unshare(shared.clone());
            assert_eq!(
                (copy.to_string(), format!("{copy:?}")),
                (text.clone(), debug.clone())
            );
            // The last holder gets the original back.
            let last = RegimeServiceError::unshare(shared);
            assert_eq!((last.to_string(), format!("{last:?}")), (text, debug));
        }
    }
}
