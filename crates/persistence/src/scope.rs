//! Units of work with a database identity: [`TenantScope`] (row-level security for one
//! tenant) and [`PlatformScope`] (the `BYPASSRLS` platform role).
//!
//! Each scope opens a transaction and switches role and settings *transaction-locally*. How
//! depends on the engine, detected once per [`Db`] (on its first connection, see
//! [`Engine`]), never per request:
//!
//! - plain PostgreSQL: one round trip, in the same batch as `BEGIN`:
//!
//!   ```sql
//!   BEGIN;
//!   SELECT set_config('role', 'alphapulse_tenant', true),
//!          set_config('app.current_tenant_id', '<uuid>', true),
//!          set_config('app.current_user_id', '<uuid or empty>', true);
//!   ```
//!
//! - Citus: `set_config()` is a function call, which Citus never forwards to the workers, and
//!   the workers evaluate the shards' policies. `SET LOCAL` statements are forwarded (to the
//!   worker connections open in the transaction and, replayed after their `BEGIN`, to those
//!   opened later) once `citus.propagate_set_commands = 'local'`. Citus forwards the text of
//!   the whole query string a `SET LOCAL` came in, so the settings travel in a message of
//!   their own, after the one that begins and switches role (two round trips):
//!
//!   ```sql
//!   BEGIN; SET LOCAL ROLE alphapulse_tenant; SET LOCAL statement_timeout = <ms>;
//!   SET LOCAL citus.propagate_set_commands = 'local'
//!   -- next message:
//!   SET LOCAL app.current_tenant_id = '<uuid>'; SET LOCAL app.current_user_id = '<uuid or empty>'
//!   ```
//!
//!   The role is not forwarded as a setting: Citus opens its worker connections *as* the
//!   current role, which therefore needs `LOGIN` and credentials on the workers.
//!
//! Either way every setting is transaction-local: at COMMIT or ROLLBACK the connection returns
//! to the owner role with no tenant, so a pooled connection can never carry one tenant's
//! context into the next request. Values are UUIDs rendered by the `uuid` crate (hex and
//! dashes only) and role names are constants, so inlining them cannot inject SQL (`SET` takes
//! no bind parameters).

use std::fmt::Write as _;

use alphapulse_domain::ports::Actor;
use diesel::{
    connection::{AnsiTransactionManager, TransactionManager},
    pg::PgConnection,
};
use uuid::Uuid;

use crate::{
    error::Result,
    pool::{Db, Engine, PgPooled},
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
        let context = Context::tenant(self.actor, self.db.statement_timeout_ms());
        run_in_transaction(self.db, &context, f)
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
        let context = Context {
            role: PLATFORM_ROLE,
            tenant: None,
            user: self.user,
            statement_timeout_ms: self.db.statement_timeout_ms(),
            read_only: false,
        };
        run_in_transaction(self.db, &context, f)
    }
}

/// Who a scope's transaction acts as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    pub(crate) role: &'static str,
    pub(crate) tenant: Option<Uuid>,
    pub(crate) user: Option<Uuid>,
    pub(crate) statement_timeout_ms: Option<u128>,
    /// `BEGIN READ ONLY`: the database refuses any write in the transaction.
    pub(crate) read_only: bool,
}

impl Context {
    /// The tenant context of `actor` on `db`'s settings.
    pub(crate) fn tenant(actor: Actor, statement_timeout_ms: Option<u128>) -> Self {
        Self {
            role: TENANT_ROLE,
            tenant: Some(actor.tenant_id.as_uuid()),
            user: actor.user_id.map(|u| u.as_uuid()),
            statement_timeout_ms,
            read_only: false,
        }
    }

    fn begin(&self) -> &'static str {
        if self.read_only {
            "BEGIN READ ONLY"
        } else {
            "BEGIN"
        }
    }

    fn tenant_text(&self) -> String {
        self.tenant
            .map(|t| t.hyphenated().to_string())
            .unwrap_or_default()
    }

    fn user_text(&self) -> String {
        self.user
            .map(|u| u.hyphenated().to_string())
            .unwrap_or_default()
    }

    /// The messages that begin the transaction and set the context, in order (the first one
    /// holds `BEGIN`).
    pub(crate) fn begin_messages(&self, engine: Engine) -> Vec<String> {
        match engine {
            Engine::Postgres => vec![self.postgres_batch()],
            Engine::Citus => self.citus_messages(),
        }
    }

    fn postgres_batch(&self) -> String {
        let role = self.role;
        let begin = self.begin();
        let mut sql = format!("{begin}; SELECT set_config('role', '{role}', true)");
        // Writing to a String cannot fail.
        let _ = write!(
            sql,
            ", set_config('app.current_tenant_id', '{}', true), \
             set_config('app.current_user_id', '{}', true)",
            self.tenant_text(),
            self.user_text()
        );
        if let Some(ms) = self.statement_timeout_ms {
            let _ = write!(sql, ", set_config('statement_timeout', '{ms}', true)");
        }
        sql
    }

    fn citus_messages(&self) -> Vec<String> {
        let role = self.role;
        let begin = self.begin();
        let mut first = format!("{begin}; SET LOCAL ROLE {role}");
        if let Some(ms) = self.statement_timeout_ms {
            let _ = write!(first, "; SET LOCAL statement_timeout = {ms}");
        }
        first.push_str("; SET LOCAL citus.propagate_set_commands = 'local'");
        let settings = format!(
            "SET LOCAL app.current_tenant_id = '{}'; SET LOCAL app.current_user_id = '{}'",
            self.tenant_text(),
            self.user_text()
        );
        vec![first, settings]
    }
}

/// A connection with the transaction begun. A pooled connection can be dead without the pool
/// knowing (the database restarted since it was opened); nothing has run on it yet, so the
/// next one is tried (the dead one is marked broken and discarded), as many times as the pool
/// can hold connections. A checkout that fails ends the attempts.
fn begin_on_live_connection(db: &Db, context: &Context) -> Result<PgPooled> {
    let mut attempts = db.max_size();
    loop {
        let mut conn = db.checkout()?;
        match begin_with_context(db, &mut conn, context) {
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

/// Begins the transaction on `conn` and sets the context, the engine's way.
fn begin_with_context(db: &Db, conn: &mut PgPooled, context: &Context) -> Result<()> {
    use diesel::connection::SimpleConnection;

    let engine = db.engine_on(conn)?;
    let messages = context.begin_messages(engine);
    let mut messages = messages.iter();
    let Some(first) = messages.next() else {
        return Ok(());
    };
    AnsiTransactionManager::begin_transaction_sql(&mut **conn, first).map_err(Error::from)?;
    for message in messages {
        if let Err(err) = conn.batch_execute(message) {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(&mut **conn) {
                tracing::warn!(error = %rollback, "rollback failed; connection discarded");
            }
            return Err(Error::from(err));
        }
    }
    Ok(())
}

fn run_in_transaction<T, E>(
    db: &Db,
    context: &Context,
    f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    let mut conn = begin_on_live_connection(db, context).map_err(E::from)?;
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

    fn context(tenant: Option<Uuid>, user: Option<Uuid>) -> Context {
        Context {
            role: TENANT_ROLE,
            tenant,
            user,
            statement_timeout_ms: Some(1500),
            read_only: false,
        }
    }

    #[test]
    fn read_only_context_begins_read_only_on_both_engines() {
        let mut c = context(Some(Uuid::nil()), None);
        c.read_only = true;
        for engine in [Engine::Postgres, Engine::Citus] {
            let messages = c.begin_messages(engine);
            assert!(
                messages[0].starts_with("BEGIN READ ONLY; "),
                "{engine:?}: {messages:?}"
            );
        }
    }

    #[test]
    fn postgres_begin_is_one_batch_setting_everything_transaction_locally() {
        let t = Uuid::nil();
        let messages = context(Some(t), None).begin_messages(Engine::Postgres);
        assert_eq!(messages.len(), 1, "{messages:?}");
        let sql = &messages[0];
        assert!(sql.starts_with("BEGIN; SELECT set_config('role', 'alphapulse_tenant', true)"));
        assert!(sql.contains(&format!("set_config('app.current_tenant_id', '{t}', true)")));
        assert!(sql.contains("set_config('app.current_user_id', '', true)"));
        assert!(sql.contains("set_config('statement_timeout', '1500', true)"));
        assert!(!sql.contains(", false)"), "session-level setting in {sql}");
    }

    #[test]
    fn citus_begin_sends_the_settings_as_set_local_after_turning_propagation_on() {
        let t = Uuid::from_u128(0xA);
        let u = Uuid::from_u128(0xB);
        let messages = context(Some(t), Some(u)).begin_messages(Engine::Citus);
        assert_eq!(
            messages,
            vec![
                "BEGIN; SET LOCAL ROLE alphapulse_tenant; SET LOCAL statement_timeout = 1500; \
                 SET LOCAL citus.propagate_set_commands = 'local'"
                    .to_owned(),
                format!(
                    "SET LOCAL app.current_tenant_id = '{t}'; SET LOCAL app.current_user_id = '{u}'"
                ),
            ]
        );
        // Nothing session-level, and no set_config (Citus would not forward it).
        for m in &messages {
            assert!(!m.contains("set_config"), "{m}");
            assert!(
                m.split(';')
                    .map(str::trim)
                    .all(|s| s.is_empty() || s == "BEGIN" || s.starts_with("SET LOCAL ")),
                "{m}"
            );
        }
    }
}
