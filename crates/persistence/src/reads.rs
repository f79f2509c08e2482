//! Tenant reads on the request path without a blocking thread: [`AsyncReads`], a pool of
//! `diesel-async` connections (`tokio-postgres` underneath) beside the r2d2 [`Db`].
//!
//! Why it exists (issue 16; figures in `docs/benchmarks.md`, reasoning in
//! `docs/architecture.md`): a [`crate::TenantScope`] read costs the server a hand-off from the
//! actix worker to the blocking pool and back, plus a thread sleep and wake-up for each of its
//! three round trips (the settings batch with `BEGIN`, the query, `COMMIT`). A read through
//! [`AsyncTenantRead::run`] stays on the worker that received the request, and sends the
//! settings batch and the query in one write (pipelined), then `COMMIT`: two round trips, no
//! thread hand-off, and the worker serves other requests while it waits.
//!
//! Ordering, which the isolation depends on: `tokio-postgres` sends requests in the order their
//! futures are first polled, and [`AsyncTenantRead::run`] polls the settings batch before the
//! query (`futures_util::future::join` polls its first future first; sending the batch needs no answer
//! first), so the query always runs after `BEGIN` and the settings, inside the transaction.
//! `COMMIT` is *not* pipelined with them: a statement not yet in the connection's statement
//! cache is prepared first (a round trip of its own), so its execution would leave after a
//! `COMMIT` sent beside it, outside the transaction. It is sent once the query has answered.
//!
//! Strictness is the same as [`crate::TenantScope`]'s: the same context messages (role, tenant,
//! user and statement timeout, transaction-local, the engine's way), plus `READ ONLY` (the
//! database refuses writes in these transactions, which also makes a retry on another
//! connection harmless). A connection that failed to commit or roll back is dropped, never
//! returned to the pool. Writes and everything blocking stay on r2d2.

use std::{
    cell::RefCell,
    sync::{Arc, Weak},
    time::Duration,
};

use alphapulse_domain::ports::Actor;
use diesel::{result::QueryResult, ConnectionError};
use diesel_async::{
    pooled_connection::{
        deadpool::{Object, Pool, PoolError},
        AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
    },
    AsyncPgConnection, SimpleAsyncConnection,
};
use futures_util::{future::BoxFuture, FutureExt as _};

use crate::{
    error::Result,
    pool::{Db, Engine, PoolConfig, OUTAGE_CHECKOUT},
    scope::{Context, TENANT_ROLE},
    Error,
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
}

thread_local! {
    /// This thread's pool of each live [`AsyncReads`] (usually one).
    static POOLS: RefCell<Vec<(Weak<Inner>, Pool<AsyncPgConnection>)>> =
        const { RefCell::new(Vec::new()) };
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
            }),
        })
    }

    /// A read-only transaction as `alphapulse_tenant` for `actor`'s tenant.
    pub fn tenant(&self, actor: Actor) -> AsyncTenantRead<'_> {
        AsyncTenantRead { reads: self, actor }
    }

    /// This thread's pool: its open and idle connections, and the most allowed.
    pub fn status(&self) -> (usize, usize, usize) {
        self.pool().map_or((0, 0, self.inner.max_size), |p| {
            let s = p.status();
            (s.size, s.available, s.max_size)
        })
    }

    /// This thread's pool, built on first use.
    fn pool(&self) -> Result<Pool<AsyncPgConnection>> {
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
            // request. A broken connection (closed, or left in a failed transaction) is
            // still refused.
            manager_config.recycling_method = RecyclingMethod::Fast;
            manager_config.custom_setup = Box::new(|url| establish_as_tenant(url).boxed());
            let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                &self.inner.url,
                manager_config,
            );
            let pool = Pool::builder(manager)
                .max_size(self.inner.max_size)
                .build()
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            pools.push((Arc::downgrade(&self.inner), pool.clone()));
            Ok(pool)
        })
    }

    async fn checkout(&self) -> Result<Object<AsyncPgConnection>> {
        let db = &self.inner.db;
        let wait = if db.is_unreachable() {
            OUTAGE_CHECKOUT
        } else {
            self.inner.connection_timeout
        };
        let pool = self.pool()?;
        match tokio::time::timeout(wait, pool.get()).await {
            Ok(Ok(conn)) => Ok(conn),
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
        let conn = self.checkout().await?;
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
    /// query in one write, `COMMIT` after the answer.
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
        let inner = &self.reads.inner;
        let mut context = Context::tenant(self.actor, inner.db.statement_timeout_ms());
        context.read_only = true;
        let messages = context.begin_messages(inner.engine);
        // A pooled connection can be dead without the pool knowing (the database restarted
        // since it was opened): read-only, so the read is tried on the next one.
        let mut attempts = inner.max_size;
        loop {
            let conn = self.reads.checkout().await?;
            match run_on(&conn, &messages, &query).await {
                Ok(value) => {
                    inner.db.mark_reachable();
                    tracing::trace!(tenant_id = %self.actor.tenant_id, "tenant read on an async connection");
                    return Ok(value);
                }
                Err(Attempt::Dead(why)) => {
                    tracing::debug!(error = %why, "dead async connection discarded");
                    drop(Object::take(conn));
                    inner.db.mark_unreachable(&why);
                    if attempts == 0 {
                        return Err(Error::Unavailable(why));
                    }
                    attempts -= 1;
                }
                Err(Attempt::Failed { error, discard }) => {
                    if discard {
                        drop(Object::take(conn));
                    }
                    return Err(error);
                }
            }
        }
    }
}

/// Why one attempt failed.
enum Attempt {
    /// The connection is dead: nothing ran; try another.
    Dead(String),
    /// The read failed; `discard` when the connection's state is unknown.
    Failed { error: Error, discard: bool },
}

async fn run_on<T, F>(
    conn: &AsyncPgConnection,
    messages: &[String],
    query: &F,
) -> Result<T, Attempt>
where
    F: for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
{
    let (first, rest) = messages.split_first().ok_or_else(|| Attempt::Failed {
        error: Error::Unavailable("no transaction context".into()),
        discard: false,
    })?;
    let begin = async {
        let mut c = conn;
        c.batch_execute(first).await?;
        for message in rest {
            c.batch_execute(message).await?;
        }
        QueryResult::Ok(())
    };
    let (begun, answer) = if rest.is_empty() {
        // Plain PostgreSQL: one batch, then the query, in one write.
        futures_util::future::join(begin, query(conn)).await
    } else {
        // Citus sends its settings in a second message that must follow the first one's
        // answer; the query waits for both (no pipelining there).
        let begun = begin.await;
        match begun {
            Ok(()) => (Ok(()), query(conn).await),
            Err(e) => (Err(e), Err(diesel::result::Error::RollbackTransaction)),
        }
    };
    if let Err(err) = begun {
        return Err(match Error::from(err) {
            Error::Unavailable(why) => Attempt::Dead(why),
            error => Attempt::Failed {
                discard: !end(conn, "ROLLBACK").await,
                error,
            },
        });
    }
    match answer {
        Ok(value) => {
            let mut c = conn;
            match c.batch_execute("COMMIT").await {
                Ok(()) => Ok(value),
                Err(err) => Err(Attempt::Failed {
                    error: Error::from(err),
                    discard: true,
                }),
            }
        }
        Err(err) => Err(Attempt::Failed {
            error: Error::from(err),
            discard: !end(conn, "ROLLBACK").await,
        }),
    }
}

/// Ends the transaction with `sql`; whether the connection is clean again.
async fn end(conn: &AsyncPgConnection, sql: &str) -> bool {
    let mut c = conn;
    match c.batch_execute(sql).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(error = %err, "{sql} failed; async connection discarded");
            false
        }
    }
}
