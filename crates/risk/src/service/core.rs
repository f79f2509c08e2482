//! What the services share: the ports, the clock and the caches.

use std::{future::Future, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{
        Actor, AlertRepo, AuditRepo, Clock, IdempotencyRepo, MarketDataRepo, PortfolioSnapshotRepo,
        RegimeDay, RegimeStore, RiskBudgetRepo, RiskLimits, RiskLimitsRepo, SystemClock, TradeRepo,
    },
    ExchangeClient, Regime, TenantId,
};
use chrono::{DateTime, Utc};
use moka::sync::Cache;

use super::{
    alerts,
    book::Book,
    series::{self, PortfolioSeries},
    ServiceError,
};

/// Entries each cache holds at most.
pub const CACHE_CAPACITY: u64 = 10_000;

/// How long a computed series or matrix is kept for its exact inputs (they are keyed by the
/// data versions, so this only bounds memory, never staleness).
pub const CACHE_TTL: Duration = Duration::from_secs(120);

/// How long a data version (market data; a tenant's snapshots) is used before it is read
/// again: a candle import, or a snapshot written by another process, shows within this time;
/// this process's own snapshots show at once (it forgets the tenant's version when it writes).
pub const VERSION_FRESH_FOR: Duration = Duration::from_secs(2);

type Version = (Option<DateTime<Utc>>, i64);

/// The ports the risk services use. `alerts` is optional: without an alert store the rules
/// still report their findings in the answers, but raise nothing.
#[derive(Clone)]
pub struct RiskPorts {
    /// The tenant's exchange account (holdings, prices, cash).
    pub exchange: Arc<dyn ExchangeClient>,
    /// Shared daily market data.
    pub market: Arc<dyn MarketDataRepo>,
    /// The tenant's portfolio snapshots.
    pub snapshots: Arc<dyn PortfolioSnapshotRepo>,
    /// The tenant's fills.
    pub trades: Arc<dyn TradeRepo>,
    /// The tenant's risk limits.
    pub limits: Arc<dyn RiskLimitsRepo>,
    /// The tenant's risk budgets.
    pub budgets: Arc<dyn RiskBudgetRepo>,
    /// Idempotency keys (the rebalance route).
    pub idempotency: Arc<dyn IdempotencyRepo>,
    /// The audit log (writes that change no row but still answer, e.g. a skipped rebalance).
    pub audit: Arc<dyn AuditRepo>,
    /// The tenant's regime history (written by the regime model).
    pub regimes: Arc<dyn RegimeStore>,
    /// Where alert rules raise their alerts (`None`: nowhere yet).
    pub alerts: Option<Arc<dyn AlertRepo>>,
    /// Wall-clock time.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RiskPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskPorts")
            .field("alerts", &self.alerts.is_some())
            .finish_non_exhaustive()
    }
}

impl RiskPorts {
    /// Ports with the system clock and no alert store.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        exchange: Arc<dyn ExchangeClient>,
        market: Arc<dyn MarketDataRepo>,
        snapshots: Arc<dyn PortfolioSnapshotRepo>,
        trades: Arc<dyn TradeRepo>,
        limits: Arc<dyn RiskLimitsRepo>,
        budgets: Arc<dyn RiskBudgetRepo>,
        idempotency: Arc<dyn IdempotencyRepo>,
        audit: Arc<dyn AuditRepo>,
        regimes: Arc<dyn RegimeStore>,
    ) -> Self {
        Self {
            exchange,
            market,
            snapshots,
            trades,
            limits,
            budgets,
            idempotency,
            audit,
            regimes,
            alerts: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the alert store the rules raise into.
    #[must_use]
    pub fn with_alerts(mut self, alerts: Option<Arc<dyn AlertRepo>>) -> Self {
        self.alerts = alerts;
        self
    }

    /// Sets the clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// The inputs a portfolio return series depends on: equal keys, equal series.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SeriesKey {
    tenant: TenantId,
    market: (Option<DateTime<Utc>>, i64),
    snapshots: (Option<DateTime<Utc>>, i64),
    book: u64,
    lookback: usize,
    day: chrono::NaiveDate,
}

/// The ports and caches every risk service shares (one per process, behind an `Arc`).
pub struct RiskCore {
    pub(crate) ports: RiskPorts,
    series: Cache<SeriesKey, Arc<PortfolioSeries>>,
    pub(crate) metrics: Cache<(SeriesKey, u64), Arc<super::risk::RiskMetrics>>,
    pub(crate) matrices:
        Cache<super::correlation::MatrixKey, Arc<super::correlation::MatrixAnswer>>,
    market_version: Cache<(), Version>,
    snapshot_versions: Cache<TenantId, Version>,
}

impl std::fmt::Debug for RiskCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskCore")
            .field("ports", &self.ports)
            .field("cached_series", &self.series.entry_count())
            .finish_non_exhaustive()
    }
}

/// A shared computation's error, for every caller that waited for it.
pub(crate) fn unshare(shared: Arc<ServiceError>) -> ServiceError {
    Arc::unwrap_or_clone(shared)
}

impl RiskCore {
    /// The core over `ports`, with empty caches.
    pub fn new(ports: RiskPorts) -> Self {
        fn cache<K, V>() -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(CACHE_TTL)
                .build()
        }
        fn versions<K: std::hash::Hash + Eq + Send + Sync + 'static>() -> Cache<K, Version> {
            Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(VERSION_FRESH_FOR)
                .build()
        }
        Self {
            ports,
            series: cache(),
            metrics: cache(),
            matrices: cache(),
            market_version: versions(),
            snapshot_versions: versions(),
        }
    }

    /// The market data version, read at most every `VERSION_FRESH_FOR` (2 s) (single flight).
    ///
    /// # Errors
    /// Storage failures.
    pub fn market_version(&self, actor: &Actor) -> Result<Version, ServiceError> {
        self.market_version
            .try_get_with((), || {
                self.ports.market.version(actor).map_err(ServiceError::from)
            })
            .map_err(unshare)
    }

    /// The tenant's snapshot version, read at most every `VERSION_FRESH_FOR` (2 s).
    ///
    /// # Errors
    /// Storage failures.
    pub fn snapshot_version(&self, actor: &Actor) -> Result<Version, ServiceError> {
        self.snapshot_versions
            .try_get_with(actor.tenant_id, || {
                self.ports
                    .snapshots
                    .version(actor)
                    .map_err(ServiceError::from)
            })
            .map_err(unshare)
    }

    /// Forgets the tenant's snapshot version (after this process wrote a snapshot).
    pub(crate) fn forget_snapshots(&self, tenant: TenantId) {
        self.snapshot_versions.invalidate(&tenant);
    }

    /// The key of the tenant's series for `book` over `lookback` days.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) fn series_key(
        &self,
        actor: &Actor,
        book: &Book,
        lookback: usize,
    ) -> Result<SeriesKey, ServiceError> {
        Ok(SeriesKey {
            tenant: actor.tenant_id,
            market: self.market_version(actor)?,
            snapshots: self.snapshot_version(actor)?,
            book: book.fingerprint(),
            lookback,
            day: self.now().date_naive(),
        })
    }

    /// The key of [`RiskCore::series_key`] from the cached versions only (no read): `None`
    /// when either version is not cached (older than `VERSION_FRESH_FOR`).
    pub(crate) fn cached_series_key(
        &self,
        actor: &Actor,
        book: &Book,
        lookback: usize,
    ) -> Option<SeriesKey> {
        Some(SeriesKey {
            tenant: actor.tenant_id,
            market: self.market_version.get(&())?,
            snapshots: self.snapshot_versions.get(&actor.tenant_id)?,
            book: book.fingerprint(),
            lookback,
            day: self.now().date_naive(),
        })
    }

    /// The series [`RiskCore::series`] would answer, when it is cached under fresh versions
    /// (no database read, nothing computed); `None`: call [`RiskCore::series`].
    pub(crate) fn cached_series(
        &self,
        actor: &Actor,
        book: &Book,
        lookback: usize,
    ) -> Option<Arc<PortfolioSeries>> {
        self.series
            .get(&self.cached_series_key(actor, book, lookback)?)
    }

    /// Now, by the ports' clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// The tenant's book now.
    ///
    /// # Errors
    /// The exchange's.
    pub fn book(&self, actor: &Actor) -> Result<Book, ServiceError> {
        Ok(Book::read(self.ports.exchange.as_ref(), actor, self.now())?)
    }

    /// [`RiskCore::book`] without blocking a thread, when the exchange client can serve it so
    /// (see [`Book::read_nonblocking`]); `None`: call [`RiskCore::book`] on a blocking thread.
    pub fn book_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<impl Future<Output = Result<Book, ServiceError>> + Send + 'static> {
        let read = Book::read_nonblocking(self.ports.exchange.as_ref(), actor, self.now())?;
        Some(async move { Ok(read.await?) })
    }

    /// The tenant's limits (the defaults when it set none).
    ///
    /// # Errors
    /// Storage failures.
    pub fn limits(&self, actor: &Actor) -> Result<RiskLimits, ServiceError> {
        Ok(self.ports.limits.get(actor)?)
    }

    /// The latest day of the tenant's regime history, if the regime model has run.
    ///
    /// # Errors
    /// Storage failures.
    pub fn current_regime(&self, actor: &Actor) -> Result<Option<RegimeDay>, ServiceError> {
        Ok(self.ports.regimes.history(actor, 1)?.pop())
    }

    /// The regime of the latest day of history.
    pub(crate) fn regime_of(day: &Option<RegimeDay>) -> Option<Regime> {
        day.as_ref().map(|d| d.regime)
    }

    /// The tenant's daily portfolio returns over (at most) `lookback` days, for `book`.
    ///
    /// Computed once per exact inputs (market data version, snapshot version, book
    /// fingerprint, lookback, UTC day) and shared by concurrent callers (single flight); a
    /// failure is not cached.
    ///
    /// # Errors
    /// Storage failures; a held symbol without market data
    /// ([`ServiceError::TooFewObservations`]).
    pub fn series(
        &self,
        actor: &Actor,
        book: &Book,
        lookback: usize,
    ) -> Result<Arc<PortfolioSeries>, ServiceError> {
        let key = self.series_key(actor, book, lookback)?;
        self.series_by_key(actor, book, key)
    }

    /// The series of `key` (computed once per key, single flight).
    ///
    /// # Errors
    /// As [`RiskCore::series`].
    pub(crate) fn series_by_key(
        &self,
        actor: &Actor,
        book: &Book,
        key: SeriesKey,
    ) -> Result<Arc<PortfolioSeries>, ServiceError> {
        let lookback = key.lookback;
        self.series
            .try_get_with(key, || {
                series::portfolio_series(&self.ports, actor, book, lookback, self.now())
                    .map(Arc::new)
            })
            .map_err(unshare)
    }

    /// Raises an alert if an alert store is configured (failures are logged, never
    /// returned).
    pub(crate) fn raise(&self, actor: &Actor, alert: alphapulse_domain::ports::NewAlert) {
        alerts::raise(self.ports.alerts.as_deref(), actor, &alert);
    }
}
