//! The per-tenant regime service: reads the tenant's configuration and the stored candles,
//! fits the model, records history and change alerts, and caches the snapshot per tenant so
//! requests never refit. The cache key is the configuration's `updated_at` plus the market
//! data's version (newest candle, row count): new candles or a new configuration refit on
//! the next request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alphapulse_domain::{
    ports::{Actor, MarketDataRepo, RegimeAlert, RegimeConfig, RegimeDay, RegimeStore},
    Regime, RepoError, Symbol, TenantId,
};
use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::{ModelConfig, RegimeError, RegimeModel, RegimeSnapshot};

/// How long a cached snapshot is served without asking whether data or configuration
/// changed: daily candles change at most daily, so requests within this window never touch
/// the database.
pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Extra candles loaded before the lookback so the rolling features are warm.
const WARMUP_DAYS: u32 = 60;

/// Failures of the service.
#[derive(Debug, Error)]
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

type CacheKey = (DateTime<Utc>, Option<DateTime<Utc>>, i64);
/// A cached snapshot: its data version, when that version was last checked, the snapshot.
type CacheEntry = (CacheKey, std::time::Instant, Arc<Fitted>);

/// A fitted snapshot and when it was fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The model's answer.
    pub snapshot: RegimeSnapshot,
    /// When the model was fitted.
    pub trained_at: DateTime<Utc>,
}

/// The service (share it as `Arc<RegimeService>`).
pub struct RegimeService {
    market: Arc<dyn MarketDataRepo>,
    store: Arc<dyn RegimeStore>,
    defaults: ModelConfig,
    fresh_for: std::time::Duration,
    cache: Mutex<HashMap<TenantId, CacheEntry>>,
}

impl std::fmt::Debug for RegimeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegimeService").finish_non_exhaustive()
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
    /// A service over the market data and the regime store, with model defaults.
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
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Sets how long a snapshot is served without checking for new data ([`FRESH_FOR`] by
    /// default; zero checks on every request).
    #[must_use]
    pub fn with_freshness(mut self, fresh_for: std::time::Duration) -> Self {
        self.fresh_for = fresh_for;
        self
    }

    /// The tenant's current snapshot, fitted now if the data or configuration changed.
    ///
    /// # Errors
    /// Storage failures, no data, or a model that cannot be fitted.
    pub fn current(&self, actor: &Actor) -> Result<Arc<Fitted>, RegimeServiceError> {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&actor.tenant_id).cloned());
        if let Some((_, checked, snapshot)) = &cached {
            if checked.elapsed() < self.fresh_for {
                return Ok(snapshot.clone());
            }
        }
        let config = self.store.config(actor)?.unwrap_or_else(default_config);
        let (newest, rows) = self.market.version(actor)?;
        let key = (config.updated_at, newest, rows);
        if let Some((cached_key, _, snapshot)) = cached {
            if cached_key == key {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(
                        actor.tenant_id,
                        (key, std::time::Instant::now(), snapshot.clone()),
                    );
                }
                return Ok(snapshot);
            }
        }
        let snapshot = Arc::new(Fitted {
            snapshot: self.fit(actor, &config)?,
            trained_at: Utc::now(),
        });
        self.record(actor, &snapshot.snapshot)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                actor.tenant_id,
                (key, std::time::Instant::now(), snapshot.clone()),
            );
        }
        Ok(snapshot)
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
mod tests {
    use alphapulse_domain::{
        ports::{MockMarketDataRepo, MockRegimeStore},
        Symbol,
    };
    use chrono::TimeZone;

    use super::*;
    use crate::synthetic;

    fn candles() -> Vec<alphapulse_domain::Candle> {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let start = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
        synthetic::regime_switching_walk(7, &symbol, 500, 30_000.0, start).0
    }

    fn fast() -> ModelConfig {
        ModelConfig {
            restarts: 2,
            ..ModelConfig::default()
        }
    }

    #[test]
    fn fits_once_per_data_version_and_records_history_and_alerts() {
        let data = candles();
        let mut market = MockMarketDataRepo::new();
        market.expect_version().returning(|_| Ok((None, 500)));
        market
            .expect_daily_candles()
            .times(1)
            .returning(move |_, _, _| Ok(data.clone()));
        let mut store = MockRegimeStore::new();
        store.expect_config().returning(|_| {
            Ok(Some(RegimeConfig {
                n_states: 3,
                lookback_days: 365,
                ..default_config()
            }))
        });
        store
            .expect_record()
            .times(1)
            .withf(|_, days, changes| days.len() == 365 && !changes.is_empty())
            .returning(|_, _, changes| Ok(changes.len()));
        let service = RegimeService::new(Arc::new(market), Arc::new(store), fast());
        let actor = Actor::system(TenantId::new_random());
        let first = service.current(&actor).unwrap();
        let second = service.current(&actor).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "second call must come from the cache"
        );
        assert_eq!(first.snapshot.n_states, 3);
    }

    #[test]
    fn new_market_data_refits() {
        let data = candles();
        let mut market = MockMarketDataRepo::new();
        let mut version = 0;
        market.expect_version().returning(move |_| {
            version += 1;
            Ok((None, version))
        });
        market
            .expect_daily_candles()
            .times(2)
            .returning(move |_, _, _| Ok(data.clone()));
        let mut store = MockRegimeStore::new();
        store.expect_config().returning(|_| Ok(None));
        store.expect_record().times(2).returning(|_, _, _| Ok(0));
        let service = RegimeService::new(Arc::new(market), Arc::new(store), fast())
            .with_freshness(std::time::Duration::ZERO);
        let actor = Actor::system(TenantId::new_random());
        service.current(&actor).unwrap();
        service.current(&actor).unwrap();
    }

    #[test]
    fn no_candles_is_no_data() {
        let mut market = MockMarketDataRepo::new();
        market.expect_version().returning(|_| Ok((None, 0)));
        market
            .expect_daily_candles()
            .returning(|_, _, _| Ok(vec![]));
        let mut store = MockRegimeStore::new();
        store.expect_config().returning(|_| Ok(None));
        let service = RegimeService::new(Arc::new(market), Arc::new(store), fast());
        let err = service
            .current(&Actor::system(TenantId::new_random()))
            .unwrap_err();
        assert!(matches!(err, RegimeServiceError::NoData), "{err}");
    }
}
