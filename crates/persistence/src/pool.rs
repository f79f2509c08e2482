//! The connection pool: r2d2 over diesel's `PgConnection`.
//!
//! `test_on_check_out` is off: r2d2 would otherwise send a `SELECT 1` before every checkout
//! (a round trip per request). Diesel marks a connection broken when a query fails at the
//! connection level or a transaction was left open, and r2d2 then discards it.
//!
//! Outages: when a checkout times out because no connection could be opened, the database is
//! taken as unreachable and later checkouts wait [`OUTAGE_CHECKOUT`] at most instead of the
//! full timeout, so requests answer 503 at once instead of piling up for seconds each; r2d2
//! keeps reconnecting in the background and the first checkout that succeeds ends the outage.
//! A pool that is merely busy (every connection open and in use) is not an outage.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

use alphapulse_domain::ports::{Actor, DatabaseHealth, DatabaseStats, PoolStats};
use diesel::{
    pg::PgConnection,
    r2d2::{ConnectionManager, Pool, PooledConnection},
};

use crate::{
    error::Result,
    reads::AsyncReads,
    scope::{PlatformScope, TenantScope},
    Error,
};

/// A pooled connection.
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

/// Pool settings (parsed from configuration by the binary).
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections kept open.
    pub max_size: u32,
    /// Connections opened at start and kept idle (`None` = `max_size`).
    pub min_idle: Option<u32>,
    /// How long a checkout waits before the request fails as unavailable (503).
    pub connection_timeout: Duration,
    /// `statement_timeout` applied to every scoped transaction (`None` = server default).
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from) as u32;
        Self {
            max_size: 2 * cores + 4,
            min_idle: None,
            connection_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// The database engine behind a [`Db`]: decides how scopes set their context (see
/// [`crate::scope`]). Detected once, on the pool's first scoped connection: the `citus`
/// extension present in the database means Citus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Plain PostgreSQL.
    Postgres,
    /// Citus (the coordinator of a distributed cluster).
    Citus,
}

/// The longest a checkout waits while the database is known to be unreachable.
pub const OUTAGE_CHECKOUT: Duration = Duration::from_millis(100);

/// The database handle shared by repositories: a pool plus the scope settings.
///
/// Cloning is cheap (the pool is reference-counted).
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
    statement_timeout_ms: Option<u128>,
    /// Set while the database is unreachable (see the module documentation).
    unreachable: Arc<AtomicBool>,
    counters: Arc<PoolCounters>,
    engine: Arc<OnceLock<Engine>>,
    /// Where and how it connected: [`Db::async_reads`] opens its pool alike.
    url: Arc<str>,
    config: PoolConfig,
}

/// Checkout counters, fed by r2d2's event handler, and the async reads' counters (fed by
/// [`AsyncReads`] of this database).
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    checkouts: AtomicU64,
    waits: AtomicU64,
    wait_micros: AtomicU64,
    timeouts: AtomicU64,
    /// Reads committed on async connections.
    pub(crate) async_reads: AtomicU64,
    /// Of which in one round trip.
    pub(crate) async_pipelined: AtomicU64,
}

/// A checkout that took this long or more counts as a wait (an idle connection is handed over
/// in microseconds).
const WAIT_THRESHOLD: Duration = Duration::from_millis(1);

#[derive(Debug)]
struct CountEvents(Arc<PoolCounters>);

impl diesel::r2d2::HandleEvent for CountEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        let c = &self.0;
        c.checkouts.fetch_add(1, Ordering::Relaxed);
        if event.duration() >= WAIT_THRESHOLD {
            c.waits.fetch_add(1, Ordering::Relaxed);
            let micros = u64::try_from(event.duration().as_micros()).unwrap_or(u64::MAX);
            c.wait_micros.fetch_add(micros, Ordering::Relaxed);
        }
    }

    fn handle_timeout(&self, event: diesel::r2d2::event::TimeoutEvent) {
        let c = &self.0;
        c.timeouts.fetch_add(1, Ordering::Relaxed);
        c.waits.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(event.timeout().as_micros()).unwrap_or(u64::MAX);
        c.wait_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("state", &self.pool.state())
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .finish()
    }
}

impl Db {
    /// Opens a pool against the owner URL.
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] when the first connections cannot be made in time.
    pub fn connect(url: &str, config: &PoolConfig) -> Result<Self> {
        let manager = ConnectionManager::<PgConnection>::new(url);
        let counters = Arc::new(PoolCounters::default());
        let pool = Pool::builder()
            .event_handler(Box::new(CountEvents(counters.clone())))
            .max_size(config.max_size)
            .min_idle(config.min_idle)
            .connection_timeout(config.connection_timeout)
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Self {
            pool,
            statement_timeout_ms: config.statement_timeout.map(|d| d.as_millis()),
            unreachable: Arc::new(AtomicBool::new(false)),
            counters,
            engine: Arc::new(OnceLock::new()),
            url: Arc::from(url),
            config: config.clone(),
        })
    }

    /// A pool of async connections to the same database with the same settings, for tenant
    /// reads on the request path (see [`AsyncReads`]). Opens no connection yet; detects the
    /// engine if not known (blocking: call it at start-up).
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] when the engine cannot be detected.
    pub fn async_reads(&self) -> Result<AsyncReads> {
        AsyncReads::new(&self.url, &self.config, self)
    }

    /// A raw pooled connection, as the owner role, with no tenant context. For migrations,
    /// readiness checks and tests; tenant data goes through [`Db::tenant`].
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] when the pool times out.
    pub fn owner_connection(&self) -> Result<PgPooled> {
        self.checkout()
    }

    /// The one way into tenant data: see [`TenantScope`].
    pub fn tenant(&self, actor: Actor) -> TenantScope<'_> {
        TenantScope::new(self, actor)
    }

    /// Platform operations that bypass row-level security: see [`PlatformScope`].
    pub fn platform(&self) -> PlatformScope<'_> {
        PlatformScope::new(self)
    }

    /// Checks the database answers (`SELECT 1`), for readiness probes.
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] or a database error.
    pub fn ping(&self) -> Result<()> {
        use diesel::RunQueryDsl;
        let mut conn = self.checkout()?;
        match diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .map_err(Error::from)
        {
            Ok(_) => {
                self.mark_reachable();
                Ok(())
            }
            Err(Error::Unavailable(why)) => {
                self.mark_unreachable(&why);
                Err(Error::Unavailable(why))
            }
            Err(other) => Err(other),
        }
    }

    /// Most connections the pool holds.
    pub fn max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// Whether the database is taken as unreachable right now.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
    }

    /// A connection failed at the connection level, or none could be opened: fail fast from
    /// now on until one works again.
    pub(crate) fn mark_unreachable(&self, why: &dyn std::fmt::Display) {
        if !self.unreachable.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %why, "database unreachable: failing fast until a connection works");
        }
    }

    /// A statement succeeded on a connection: the outage, if any, is over.
    pub(crate) fn mark_reachable(&self) {
        if self.unreachable.load(Ordering::Relaxed)
            && self.unreachable.swap(false, Ordering::Relaxed)
        {
            tracing::info!("database reachable again");
        }
    }

    pub(crate) fn checkout(&self) -> Result<PgPooled> {
        let result = if self.is_unreachable() {
            self.pool.get_timeout(OUTAGE_CHECKOUT)
        } else {
            self.pool.get()
        };
        result.map_err(|err| {
            // Fewer connections than allowed, and none could be opened in time: the database
            // is unreachable (a full pool only means the server is busy).
            if self.pool.state().connections < self.pool.max_size() {
                self.mark_unreachable(&err);
            }
            err.into()
        })
    }

    /// The engine, once known (after the first scoped connection or [`Db::detect_engine`]).
    pub fn engine(&self) -> Option<Engine> {
        self.engine.get().copied()
    }

    /// The engine, detected now on a pooled connection if not known yet (the server calls
    /// this at start-up).
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] or a database error.
    pub fn detect_engine(&self) -> Result<Engine> {
        if let Some(engine) = self.engine() {
            return Ok(engine);
        }
        let mut conn = self.checkout()?;
        self.engine_on(&mut conn)
    }

    /// The engine, detected on `conn` the first time.
    pub(crate) fn engine_on(&self, conn: &mut PgConnection) -> Result<Engine> {
        use diesel::RunQueryDsl;

        #[derive(diesel::QueryableByName)]
        struct Citus {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            citus: bool,
        }
        if let Some(engine) = self.engine() {
            return Ok(engine);
        }
        let found: Citus = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus",
        )
        .get_result(conn)?;
        let engine = if found.citus {
            Engine::Citus
        } else {
            Engine::Postgres
        };
        let engine = *self.engine.get_or_init(|| engine);
        tracing::info!(?engine, "database engine detected");
        Ok(engine)
    }

    pub(crate) fn statement_timeout_ms(&self) -> Option<u128> {
        self.statement_timeout_ms
    }
}

impl Db {
    /// The pool's size, idle connections and checkout counters since start.
    pub fn stats(&self) -> PoolStats {
        let state = self.pool.state();
        let c = &self.counters;
        PoolStats {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            checkouts: c.checkouts.load(Ordering::Relaxed),
            waits: c.waits.load(Ordering::Relaxed),
            wait_ms_total: c.wait_micros.load(Ordering::Relaxed) / 1000,
            timeouts: c.timeouts.load(Ordering::Relaxed),
            async_reads: c.async_reads.load(Ordering::Relaxed),
            async_one_round_trip: c.async_pipelined.load(Ordering::Relaxed),
        }
    }

    /// The counters [`AsyncReads`] of this database feed.
    pub(crate) fn counters(&self) -> Arc<PoolCounters> {
        self.counters.clone()
    }
}

#[derive(diesel::QueryableByName)]
struct ServerFacts {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    size: i64,
}

impl DatabaseStats for Db {
    fn pool_stats(&self) -> PoolStats {
        self.stats()
    }

    fn health(&self) -> DatabaseHealth {
        use diesel::RunQueryDsl;
        let started = Instant::now();
        let facts = self.checkout().and_then(|mut conn| {
            Ok(diesel::sql_query(
                "SELECT current_setting('server_version') AS version, \
                 pg_database_size(current_database()) AS size",
            )
            .get_result::<ServerFacts>(&mut conn)?)
        });
        match facts {
            Ok(facts) => DatabaseHealth {
                reachable: true,
                latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
                server_version: Some(facts.version),
                size_bytes: Some(facts.size),
                error: None,
            },
            Err(err) => {
                tracing::warn!(error = %err, "database health check failed");
                DatabaseHealth {
                    reachable: false,
                    latency_ms: None,
                    server_version: None,
                    size_bytes: None,
                    error: Some("database unavailable".to_owned()),
                }
            }
        }
    }
}

impl alphapulse_domain::ports::Readiness for Db {
    fn ping(&self) -> std::result::Result<(), alphapulse_domain::RepoError> {
        Ok(Db::ping(self)?)
    }
}
