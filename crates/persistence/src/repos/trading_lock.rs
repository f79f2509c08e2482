//! One trading action per tenant at a time: within this process a per-tenant mutex, across
//! processes a transaction-level advisory lock on the tenant, held in a transaction of its own
//! for the length of the action.
//!
//! The mutex comes first, so requests of one process that wait for the same tenant wait on a
//! thread, not on a pooled connection: only the holder uses a connection for the database
//! lock, and the pool stays free for the work the holder does.
//!
//! Transaction-level (`pg_advisory_xact_lock`) rather than session-level, so the lock can
//! never outlive its holder: a guard dropped, a panic, a lost connection or a dead process
//! all end the transaction, and PostgreSQL releases the lock with it. Every server process
//! shares it, as they share the database. The wait is bounded by `lock_timeout`; past it the
//! caller gets a conflict ("another execution in progress").

use std::{sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{Actor, TradingGuard, TradingLocks},
    RepoError, TenantId,
};
use diesel::{
    connection::{AnsiTransactionManager, TransactionManager},
    sql_types::{BigInt, Text},
    RunQueryDsl,
};
use moka::sync::Cache;
use parking_lot::{Mutex, RawMutex};

use crate::{pool::PgPooled, Db, Error};

/// Seed of the lock key (other advisory locks use other seeds).
const TRADING_SEED: i64 = 11;
/// How long an action waits for another one of the same tenant by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

type TenantMutex = Arc<Mutex<()>>;
type MutexGuard = parking_lot::lock_api::ArcMutexGuard<RawMutex, ()>;

/// [`TradingLocks`] over a per-tenant mutex and PostgreSQL advisory locks.
#[derive(Clone)]
pub struct PgTradingLocks {
    db: Db,
    wait: Duration,
    local: Cache<TenantId, TenantMutex>,
}

impl std::fmt::Debug for PgTradingLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTradingLocks")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl PgTradingLocks {
    /// Locks over `db`, waiting at most [`DEFAULT_WAIT`].
    pub fn new(db: Db) -> Self {
        Self::with_wait(db, DEFAULT_WAIT)
    }

    /// Locks over `db`, waiting at most `wait` for another holder.
    pub fn with_wait(db: Db, wait: Duration) -> Self {
        Self {
            db,
            wait,
            // Idle tenants' mutexes are dropped; a held one is referenced by its guard.
            local: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }
}

fn busy() -> RepoError {
    RepoError::Conflict(
        "another trading action of this tenant is in progress; retry shortly".to_owned(),
    )
}

/// The open transaction that holds the database lock (rolled back, lock released, on drop),
/// then the process's mutex (released after it).
struct Held {
    conn: PgPooled,
    _local: MutexGuard,
}

impl TradingGuard for Held {}

impl Drop for Held {
    fn drop(&mut self) {
        if let Err(err) = AnsiTransactionManager::rollback_transaction(&mut *self.conn) {
            tracing::warn!(error = %err, "releasing a trading lock failed; connection discarded");
        }
    }
}

impl TradingLocks for PgTradingLocks {
    fn acquire(&self, actor: &Actor, scope: &str) -> Result<Box<dyn TradingGuard>, RepoError> {
        let mutex = self.local.get_with(actor.tenant_id, TenantMutex::default);
        let Some(local) = mutex.try_lock_arc_for(self.wait) else {
            tracing::info!(scope, "trading lock busy in this process");
            return Err(busy());
        };
        let mut conn = self.db.checkout()?;
        let wait_ms = self.wait.as_millis().max(1);
        AnsiTransactionManager::begin_transaction_sql(
            &mut *conn,
            &format!("BEGIN; SELECT set_config('lock_timeout', '{wait_ms}', true)"),
        )
        .map_err(Error::from)?;
        let key = format!("{}", actor.tenant_id);
        let locked = diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind::<Text, _>(&key)
            .bind::<BigInt, _>(TRADING_SEED)
            .execute(&mut *conn);
        let held = Held {
            conn,
            _local: local,
        };
        match locked {
            Ok(_) => Ok(Box::new(held)),
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("lock timeout") =>
            {
                tracing::info!(scope, "trading lock busy in another process");
                Err(busy())
            }
            Err(other) => Err(Error::from(other).into()),
        }
    }
}
