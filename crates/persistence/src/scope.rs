//! Units of work with a database identity: [`TenantScope`] (row-level security for one
//! tenant) and [`PlatformScope`] (the `BYPASSRLS` platform role).
//!
//! Each scope opens a transaction and switches role and settings *transaction-locally* in the
//! same round trip as `BEGIN`:
//!
//! ```sql
//! BEGIN;
//! SELECT set_config('role', 'alphapulse_tenant', true),
//!        set_config('app.current_tenant_id', '<uuid>', true),
//!        set_config('app.current_user_id', '<uuid or empty>', true);
//! ```
//!
//! `set_config(.., true)` is `SET LOCAL`: at COMMIT or ROLLBACK the connection returns to the
//! owner role with no tenant, so a pooled connection can never carry one tenant's context
//! into the next request. Values are UUIDs rendered by the `uuid` crate (hex and dashes only),
//! so inlining them in the batch cannot inject SQL.

use std::fmt::Write as _;

use alphapulse_domain::ports::Actor;
use diesel::{
    connection::{AnsiTransactionManager, TransactionManager},
    pg::PgConnection,
};
use uuid::Uuid;

use crate::{
    error::Result,
    pool::{Db, PgPooled},
    Error,
};

/// The role every tenant transaction runs as: subject to row-level security.
pub const TENANT_ROLE: &str = "alphapulse_tenant";
/// The role platform transactions run as: `BYPASSRLS`.
pub const PLATFORM_ROLE: &str = "alphapulse_platform";

/// A transaction as `alphapulse_tenant` with `app.current_tenant_id` set to one tenant.
///
/// Repositories additionally filter by `tenant_id` (defence in depth, and what a sharded
/// deployment routes by); RLS is the net under them.
#[derive(Debug)]
pub struct TenantScope<'a> {
    db: &'a Db,
    actor: Actor,
}

impl<'a> TenantScope<'a> {
    pub(crate) fn new(db: &'a Db, actor: Actor) -> Self {
        Self { db, actor }
    }

    /// The tenant and user this scope acts for.
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// Runs `f` in the scope's transaction: commits on `Ok`, rolls back on `Err`.
    ///
    /// # Errors
    /// Whatever `f` returns, or the pool/database failures of opening and committing.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Error>,
    {
        let user = self.actor.user_id.map(|u| u.as_uuid());
        let begin = begin_sql(
            TENANT_ROLE,
            Some(self.actor.tenant_id.as_uuid()),
            user,
            self.db.statement_timeout_ms(),
        );
        run_in_transaction(self.db, &begin, f)
    }
}

/// A transaction as `alphapulse_platform` (`BYPASSRLS`), for platform operations only:
/// tenant administration, login lookups, provisioning, and owner/staff cross-tenant reads.
#[derive(Debug)]
pub struct PlatformScope<'a> {
    db: &'a Db,
    user: Option<Uuid>,
}

impl<'a> PlatformScope<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db, user: None }
    }

    /// Records the acting platform user in `app.current_user_id`.
    pub fn as_user(mut self, user: Uuid) -> Self {
        self.user = Some(user);
        self
    }

    /// Runs `f` in the scope's transaction: commits on `Ok`, rolls back on `Err`.
    ///
    /// # Errors
    /// Whatever `f` returns, or the pool/database failures of opening and committing.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut PgConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<Error>,
    {
        let begin = begin_sql(
            PLATFORM_ROLE,
            None,
            self.user,
            self.db.statement_timeout_ms(),
        );
        run_in_transaction(self.db, &begin, f)
    }
}

fn begin_sql(
    role: &str,
    tenant: Option<Uuid>,
    user: Option<Uuid>,
    statement_timeout_ms: Option<u128>,
) -> String {
    let mut sql = format!("BEGIN; SELECT set_config('role', '{role}', true)");
    let tenant = tenant
        .map(|t| t.hyphenated().to_string())
        .unwrap_or_default();
    let user = user.map(|u| u.hyphenated().to_string()).unwrap_or_default();
    // Writing to a String cannot fail.
    let _ = write!(
        sql,
        ", set_config('app.current_tenant_id', '{tenant}', true), \
         set_config('app.current_user_id', '{user}', true)"
    );
    if let Some(ms) = statement_timeout_ms {
        let _ = write!(sql, ", set_config('statement_timeout', '{ms}', true)");
    }
    sql
}

/// A connection with the transaction begun. A pooled connection can be dead without the pool
/// knowing (the database restarted since it was opened); nothing has run on it yet, so the
/// next one is tried (the dead one is marked broken and discarded), as many times as the pool
/// can hold connections. A checkout that fails ends the attempts.
fn begin_on_live_connection(db: &Db, begin: &str) -> Result<PgPooled> {
    let mut attempts = db.max_size();
    loop {
        let mut conn = db.checkout()?;
        match AnsiTransactionManager::begin_transaction_sql(&mut *conn, begin).map_err(Error::from)
        {
            Ok(()) => {
                db.mark_reachable();
                return Ok(conn);
            }
            Err(Error::Unavailable(why)) => {
                tracing::debug!(error = %why, "dead pooled connection discarded");
                // Until a connection works, checkouts fail fast: a restarted database gets
                // fresh connections at once, an absent one answers 503 at once.
                db.mark_unreachable(&why);
                if attempts == 0 {
                    return Err(Error::Unavailable(why));
                }
                attempts -= 1;
            }
            Err(other) => return Err(other),
        }
    }
}

fn run_in_transaction<T, E>(
    db: &Db,
    begin: &str,
    f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    let mut conn = begin_on_live_connection(db, begin).map_err(E::from)?;
    let conn: &mut PgConnection = &mut conn;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)
                .map_err(|e| E::from(Error::from(e)))?;
            Ok(value)
        }
        Err(err) => {
            // A failed rollback leaves the connection marked broken; r2d2 then drops it.
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn) {
                tracing::warn!(error = %rollback, "rollback failed; connection discarded");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_batch_sets_everything_transaction_locally() {
        let t = Uuid::nil();
        let sql = begin_sql(TENANT_ROLE, Some(t), None, Some(1500));
        assert!(sql.starts_with("BEGIN; SELECT set_config('role', 'alphapulse_tenant', true)"));
        assert!(sql.contains(&format!("set_config('app.current_tenant_id', '{t}', true)")));
        assert!(sql.contains("set_config('app.current_user_id', '', true)"));
        assert!(sql.contains("set_config('statement_timeout', '1500', true)"));
        assert!(!sql.contains(", false)"), "session-level setting in {sql}");
    }
}
