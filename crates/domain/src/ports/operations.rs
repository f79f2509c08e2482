//! What the operations routes read about the running process: its caches and its database
//! pool.

use serde::{Deserialize, Serialize};

/// One cache of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CacheStat {
    /// Which cache (e.g. `principal_verdicts`).
    pub name: String,
    /// Entries held now (moka counts lazily: pending evictions may not be applied yet).
    pub entries: u64,
    /// Most entries it holds.
    pub capacity: u64,
    /// Lookups answered from the cache, where counted.
    pub hits: Option<u64>,
    /// Lookups that had to load, where counted.
    pub misses: Option<u64>,
}

impl CacheStat {
    /// `hits / (hits + misses)`, `None` when not counted or nothing was looked up.
    pub fn hit_rate(&self) -> Option<f64> {
        let (hits, misses) = (self.hits?, self.misses?);
        let total = hits.checked_add(misses)?;
        #[allow(clippy::cast_precision_loss)] // a ratio of counters
        (total > 0).then(|| hits as f64 / total as f64)
    }
}

/// Something that holds caches (a service, the exchange router).
pub trait CacheStatsSource: Send + Sync {
    /// The statistics of each of its caches.
    fn cache_stats(&self) -> Vec<CacheStat>;
}

/// The connection pool's state and counters since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolStats {
    /// Most connections.
    pub max_size: u32,
    /// Connections open now.
    pub connections: u32,
    /// Of which idle.
    pub idle: u32,
    /// Checkouts since start.
    pub checkouts: u64,
    /// Checkouts that waited 1 ms or more for a connection.
    pub waits: u64,
    /// Total time checkouts waited, milliseconds.
    pub wait_ms_total: u64,
    /// Checkouts that gave up (no connection within the pool's timeout).
    pub timeouts: u64,
    /// Reads served on the request path's async connections since start (they use their own
    /// small pools per HTTP worker, not this pool).
    pub async_reads: u64,
    /// Of which in one round trip (context, statements and commit in one write).
    pub async_one_round_trip: u64,
}

/// The database as seen from the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseHealth {
    /// Whether a round trip succeeded.
    pub reachable: bool,
    /// Its duration, milliseconds.
    pub latency_ms: Option<f64>,
    /// `server_version`.
    pub server_version: Option<String>,
    /// Size of the database, bytes.
    pub size_bytes: Option<i64>,
    /// Why it is not reachable (no internals).
    pub error: Option<String>,
}

/// The database pool and server, for the operations routes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait DatabaseStats: Send + Sync {
    /// The pool's state and counters.
    fn pool_stats(&self) -> PoolStats;

    /// A round trip with the server's version and the database size (never fails: an
    /// unreachable database is reported as such).
    fn health(&self) -> DatabaseHealth;
}
