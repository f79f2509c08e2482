//! Tenant reads on the request path without a blocking thread: [`AsyncReads`], pools of
//! `diesel-async` connections (`tokio-postgres` underneath) beside the r2d2 [`Db`].
//!
//! Why it exists (issue 16; figures in `docs/benchmarks.md`, reasoning in
//! `docs/architecture.md`): a [`crate::TenantScope`] read costs the server a hand-off from the
//! actix worker to the blocking pool and back, plus a thread sleep and wake-up for each of its
//! three round trips (the settings batch with `BEGIN`, the query, `COMMIT`). A read here stays
//! on the worker that received the request, and the worker serves other requests while it
//! waits:
//!
//! - [`AsyncTenantRead::run`] (any query): the settings batch and the query in one write
//!   (pipelined), then `COMMIT` once the query has answered: two round trips;
//! - [`AsyncTenantRead::load`] (a diesel query that diesel caches): the same the first time on
//!   a connection, and from then on the settings batch, the query and `COMMIT` in one write:
//!   one round trip.
//!
//! Ordering, which the isolation depends on: `tokio-postgres` sends requests in the order their
//! futures are first polled, and the settings batch is polled first (`futures_util::future::
//! join`/`join3` poll their first future first; sending the batch needs no answer first), so the
//! query always runs after `BEGIN` and the settings, inside the transaction. `COMMIT` may only
//! follow in the same write when the query's execution is certain to leave before it: a
//! statement not yet in the connection's statement cache is prepared first (a round trip of
//! its own), so its execution would leave after a `COMMIT` sent beside it, outside the
//! transaction. Hence one round trip only for a query type this connection has run before
//! (diesel cached it then, see [`AsyncTenantRead::load`]), and two otherwise.
//!
//! The floor under the ordering: every connection's *session* role is `alphapulse_tenant` with
//! no tenant (set when it opens), so a statement that ever ran outside a read's transaction
//! would find no tenant row and could not act as the owner. The tests of this module show it:
//! with the order broken on purpose, the reads come back empty, never with another tenant's
//! rows.
//!
//! Strictness is otherwise [`crate::TenantScope`]'s: the same context messages (role, tenant,
//! user and statement timeout, transaction-local, the engine's way; on Citus the settings take
//! a second message, so no pipelining there), plus `READ ONLY` (the database refuses writes in
//! these transactions, which also makes a retry on another connection harmless). A connection
//! that failed to commit or roll back is dropped, never returned to the pool. Writes and
//! everything blocking stay on r2d2.

use std::{
    any::TypeId,
    cell::RefCell,
    collections::HashSet,
    sync::{atomic::Ordering, Arc, Weak},
    time::Duration,
};

use alphapulse_domain::ports::Actor;
use deadpool::managed::ObjectId;
use diesel::{result::QueryResult, ConnectionError};
use diesel_async::{
    pooled_connection::{
        deadpool::{Object, Pool, PoolError},
        AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
    },
    AsyncPgConnection, SimpleAsyncConnection,
};
use futures_util::{future::BoxFuture, FutureExt as _};
use parking_lot::Mutex;

use crate::{
    error::Result,
    pool::{Db, Engine, PoolConfig, OUTAGE_CHECKOUT},
    scope::{Context, TENANT_ROLE},
    Error,
};

mod transaction;

pub use transaction::CachedLoad;
use transaction::{
    cache_key, load_with, over_connection, run_on, run_pipelined, Attempt, InFlight,
};

/// Pools of async connections for tenant reads, sharing the outage state of a [`Db`]: one
/// pool per thread that reads (each HTTP worker of actix is a single-threaded runtime).
///
/// Why per thread: a connection's I/O task runs on the runtime that opened it, so a request
/// on one worker using a connection opened on another hands every message across threads
/// (a wake-up each way). Measured with `--http-workers 1` (no crossing): 79 us of server CPU
/// per spot read instead of 100 us with one shared pool (docs/benchmarks.md).
///
/// Cloning is cheap. Connections are opened on first use, up to the [`PoolConfig`]'s
/// `max_size` per reading thread; a thread's pool lives as long as the thread (or until every
/// clone of this handle is dropped and the thread opens another).
#[derive(Clone)]
pub struct AsyncReads {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    max_size: usize,
    db: Db,
    engine: Engine,
    connection_timeout: Duration,
    /// The database's counters (reads, one-round-trip reads): shared by every `AsyncReads`
    /// of one [`Db`], reported in [`Db::stats`].
    counters: Arc<crate::pool::PoolCounters>,
}

/// Which statements each connection of a pool has prepared and cached: (connection, query
/// type). Diesel caches a statement of a query type with a static query id, safe to cache,
/// after its first successful run, and never evicts it (the cache is unbounded).
type Warm = Arc<Mutex<HashSet<(ObjectId, TypeId)>>>;

/// One thread's pool and what its connections have prepared.
#[derive(Clone)]
struct ThreadPool {
    pool: Pool<AsyncPgConnection>,
    warm: Warm,
}

thread_local! {
    /// This thread's pool of each live [`AsyncReads`] (usually one).
    static POOLS: RefCell<Vec<(Weak<Inner>, ThreadPool)>> = const { RefCell::new(Vec::new()) };
}

impl std::fmt::Debug for AsyncReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncReads")
            .field("max_size_per_thread", &self.inner.max_size)
            .field("engine", &self.inner.engine)
            .finish_non_exhaustive()
    }
}

impl AsyncReads {
    /// Pools of at most `config.max_size` async connections per thread to `url` (the owner
    /// URL the [`Db`] was opened with), for reads in `db`'s engine and outage state. Opens
    /// nothing yet; detects the engine on `db` if not known (one blocking round trip: call it
    /// at start-up).
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the engine cannot be detected.
    pub fn new(url: &str, config: &PoolConfig, db: &Db) -> Result<Self> {
        let engine = db.detect_engine()?;
        Ok(Self {
            inner: Arc::new(Inner {
                url: url.to_owned(),
                max_size: usize::try_from(config.max_size).unwrap_or(usize::MAX),
                db: db.clone(),
                engine,
                connection_timeout: config.connection_timeout,
                counters: db.counters(),
            }),
        })
    }

    /// A read-only transaction as `alphapulse_tenant` for `actor`'s tenant.
    pub fn tenant(&self, actor: Actor) -> AsyncTenantRead<'_> {
        AsyncTenantRead { reads: self, actor }
    }

    /// Reads committed since start, and how many of them in one round trip (see
    /// [`AsyncTenantRead::load`]).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.inner.counters.async_reads.load(Ordering::Relaxed),
            self.inner.counters.async_pipelined.load(Ordering::Relaxed),
        )
    }

    /// This thread's pool, built on first use.
    fn pool(&self) -> Result<ThreadPool> {
        POOLS.with_borrow_mut(|pools| {
            if let Some((_, pool)) = pools
                .iter()
                .find(|(owner, _)| std::ptr::eq(owner.as_ptr(), Arc::as_ptr(&self.inner)))
            {
                return Ok(pool.clone());
            }
            pools.retain(|(owner, _)| owner.strong_count() > 0);
            let mut manager_config = ManagerConfig::default();
            // `Verified` would send a query at every checkout: one more round trip per
            // request. `Fast` refuses only closed connections (and transactions diesel itself
            // began, which these reads never do): a connection whose read did not end its
            // transaction is never returned to the pool in the first place (`InFlight`).
            manager_config.recycling_method = RecyclingMethod::Fast;
            manager_config.custom_setup = Box::new(|url| establish_as_tenant(url).boxed());
            let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                &self.inner.url,
                manager_config,
            );
            let pool = ThreadPool {
                pool: Pool::builder(manager)
                    .max_size(self.inner.max_size)
                    .build()
                    .map_err(|e| Error::Unavailable(e.to_string()))?,
                warm: Warm::default(),
            };
            pools.push((Arc::downgrade(&self.inner), pool.clone()));
            Ok(pool)
        })
    }

    async fn checkout(&self) -> Result<(Object<AsyncPgConnection>, Warm)> {
        let db = &self.inner.db;
        let wait = if db.is_unreachable() {
            OUTAGE_CHECKOUT
        } else {
            self.inner.connection_timeout
        };
        let ThreadPool { pool, warm } = self.pool()?;
        match tokio::time::timeout(wait, pool.get()).await {
            Ok(Ok(conn)) => Ok((conn, warm)),
            Ok(Err(err)) => {
                let why = pool_error(&err);
                db.mark_unreachable(&why);
                Err(Error::Unavailable(why))
            }
            Err(_) => {
                let status = pool.status();
                let why = format!("no database connection within {wait:?}");
                // Fewer connections than allowed and none opened in time: unreachable (a full
                // pool only means the server is busy).
                if status.size < status.max_size {
                    db.mark_unreachable(&why);
                }
                Err(Error::Unavailable(why))
            }
        }
    }
}

/// Opens a connection whose *session* role is `alphapulse_tenant` (no tenant set): outside a
/// read's transaction it can see no tenant row and cannot act as the owner. Every read sets
/// the role and tenant again, transaction-locally; this is the floor under an ordering
/// mistake, which would then find nothing rather than another tenant's rows.
async fn establish_as_tenant(url: &str) -> diesel::ConnectionResult<AsyncPgConnection> {
    use diesel_async::AsyncConnection as _;
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("SET ROLE {TENANT_ROLE}"))
        .await
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

fn pool_error(err: &PoolError) -> String {
    match err {
        PoolError::Backend(diesel_async::pooled_connection::PoolError::ConnectionError(
            ConnectionError::BadConnection(why),
        )) => why.clone(),
        other => other.to_string(),
    }
}

#[cfg(feature = "test-support")]
impl AsyncReads {
    /// Test support: runs `query` on a pooled connection with no transaction and no context,
    /// to show what a statement sent outside a read's transaction would see.
    ///
    /// # Errors
    /// The query's failure, or [`Error::Unavailable`].
    pub async fn outside_any_scope<T, F>(&self, query: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
    {
        let (conn, _) = self.checkout().await?;
        Ok(query(&conn).await?)
    }
}

/// One read-only tenant transaction on an async connection: see the module documentation.
#[derive(Debug)]
pub struct AsyncTenantRead<'a> {
    reads: &'a AsyncReads,
    actor: Actor,
}

impl AsyncTenantRead<'_> {
    /// Runs the read `query` in the tenant's transaction and commits: the context and the
    /// query in one write, `COMMIT` after the answer (two round trips).
    ///
    /// `query` must send exactly one statement on first poll (one diesel-async `load`,
    /// `get_result` or `first`), so nothing of it can leave before the context.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when no connection works; the query's own failure otherwise.
    pub async fn run<T, F>(&self, query: F) -> Result<T>
    where
        T: Send,
        F: for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
    {
        self.execute(None, &query).await
    }

    /// Loads the rows of a diesel query in the tenant's transaction, in **one round trip**
    /// once this connection has prepared the query (context, query and `COMMIT` in one
    /// write); the first time on a connection, or for a query diesel does not cache, as
    /// [`AsyncTenantRead::run`] does (two).
    ///
    /// Why `COMMIT` may then leave right behind the query: the query type has a static query
    /// id and is safe to cache, and it ran on this connection before, so its statement is in
    /// the connection's (unbounded) cache, and a cached statement's execution is sent on the
    /// first poll of its future (run `unconstrained`, so tokio's cooperative budget cannot
    /// defer it). If that ever stopped being true, the statement would run after `COMMIT` as
    /// the connection's session role, `alphapulse_tenant` with no tenant: it would find
    /// nothing, never another tenant's rows, and the tests of this module fail.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when no connection works; the query's own failure otherwise.
    pub async fn load<Q, U>(&self, query: Q) -> Result<Vec<U>>
    where
        Q: CachedLoad<U>,
        U: Send + 'static,
    {
        let key = cache_key(&query);
        self.execute(key.as_ref().map(std::slice::from_ref), &load_with(query))
            .await
    }

    /// Loads the rows of three diesel queries in **one** tenant transaction: context, the
    /// three queries and `COMMIT` in one write (one round trip) once this connection has
    /// prepared all three, as [`AsyncTenantRead::load`] does for one; otherwise the context
    /// and the queries in one write and `COMMIT` after their answers. One transaction rather
    /// than three reads: PostgreSQL pays the transaction (context, commit) once.
    ///
    /// Why the order holds: the three loads are polled in order on the first poll of their
    /// join, each sending on that first poll when its statement is cached (diesel-async
    /// releases its statement-cache lock before sending); a load whose statement must be
    /// prepared first holds that lock over the preparation, so the loads behind it send later,
    /// but all before `COMMIT`, which in that case waits for every answer.
    ///
    /// # Errors
    /// As [`AsyncTenantRead::load`].
    pub async fn load3<Q1, U1, Q2, U2, Q3, U3>(
        &self,
        q1: Q1,
        q2: Q2,
        q3: Q3,
    ) -> Result<(Vec<U1>, Vec<U2>, Vec<U3>)>
    where
        Q1: CachedLoad<U1>,
        Q2: CachedLoad<U2>,
        Q3: CachedLoad<U3>,
        U1: Send + 'static,
        U2: Send + 'static,
        U3: Send + 'static,
    {
        // Pipelined only when all three are cacheable (and, below, warm).
        let keys = match (cache_key(&q1), cache_key(&q2), cache_key(&q3)) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let (l1, l2, l3) = (load_with(q1), load_with(q2), load_with(q3));
        let query = over_connection(move |conn| {
            futures_util::future::try_join3(l1(conn), l2(conn), l3(conn)).boxed()
        });
        self.execute(keys.as_ref().map(|k| k.as_slice()), &query)
            .await
    }

    /// The attempts of one read; `keys`: the statement keys of the queries, all of which
    /// diesel caches (`None`: some are not), which allows one round trip on connections that
    /// have run them all.
    async fn execute<T, F>(&self, keys: Option<&[TypeId]>, query: &F) -> Result<T>
    where
        T: Send,
        F: for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
    {
        let inner = &self.reads.inner;
        let mut context = Context::tenant(self.actor, inner.db.statement_timeout_ms());
        context.read_only = true;
        let messages = context.begin_messages(inner.engine);
        // A pooled connection can be dead without the pool knowing (the database restarted
        // since it was opened): read-only, so the read is tried on the next one.
        let mut attempts = inner.max_size;
        loop {
            let (conn, warm) = self.reads.checkout().await?;
            // Until the read has ended its transaction, the connection is discarded if this
            // future is dropped (a client that disconnects): never back to the pool inside a
            // transaction with this tenant's settings.
            let id = Object::id(&conn);
            let conn = InFlight {
                conn: Some(conn),
                warm,
            };
            let pipelined = match (keys, messages.as_slice()) {
                (Some(keys), [begin])
                    if {
                        let warm = conn.warm.lock();
                        keys.iter().all(|key| warm.contains(&(id, *key)))
                    } =>
                {
                    Some(begin)
                }
                _ => None,
            };
            let outcome = match pipelined {
                Some(begin) => run_pipelined(conn.get(), begin, query).await,
                None => run_on(conn.get(), &messages, query).await,
            };
            match outcome {
                Ok(value) => {
                    inner.db.mark_reachable();
                    inner.counters.async_reads.fetch_add(1, Ordering::Relaxed);
                    if pipelined.is_some() {
                        inner
                            .counters
                            .async_pipelined
                            .fetch_add(1, Ordering::Relaxed);
                    } else if let Some(keys) = keys {
                        // They ran, so diesel has them cached on this connection now.
                        conn.warm.lock().extend(keys.iter().map(|key| (id, *key)));
                    }
                    conn.release();
                    tracing::trace!(tenant_id = %self.actor.tenant_id, pipelined = pipelined.is_some(), "tenant read on an async connection");
                    return Ok(value);
                }
                Err(Attempt::Dead(why)) => {
                    tracing::debug!(error = %why, "dead async connection discarded");
                    drop(conn); // discarded
                    inner.db.mark_unreachable(&why);
                    if attempts == 0 {
                        return Err(Error::Unavailable(why));
                    }
                    attempts -= 1;
                }
                Err(Attempt::Failed { error, discard }) => {
                    if !discard {
                        conn.release();
                    }
                    return Err(error);
                }
            }
        }
    }
}
