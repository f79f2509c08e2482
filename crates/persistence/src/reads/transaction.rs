//! What one async read sends and how it ends: the transaction's messages in their order
//! ([`run_on`]: context and query in one write, `COMMIT` after the answer; [`run_pipelined`]:
//! all in one write, for statements the connection has prepared), the outcome of an attempt
//! ([`Attempt`]), and the guard that keeps a connection cut off mid-transaction out of the pool
//! ([`InFlight`]). Why the order is safe: the module documentation of [`super`].

use std::any::TypeId;

use diesel::{
    pg::Pg,
    query_builder::{Query, QueryFragment, QueryId},
    result::QueryResult,
};
use diesel_async::{
    methods::LoadQuery, pooled_connection::deadpool::Object, AsyncPgConnection,
    SimpleAsyncConnection,
};
use futures_util::{future::BoxFuture, FutureExt as _};

use super::Warm;
use crate::{error::Result, Error};

/// A connection checked out for one read: dropped before [`InFlight::release`] (the read
/// failed in an unknown state, or its future was dropped), it leaves the pool for good.
pub(super) struct InFlight {
    pub(super) conn: Option<Object<AsyncPgConnection>>,
    pub(super) warm: Warm,
}

impl InFlight {
    pub(super) fn get(&self) -> &AsyncPgConnection {
        // Only `release` and `drop` take it, and both consume `self`.
        self.conn
            .as_deref()
            .unwrap_or_else(|| unreachable!("connection taken"))
    }

    /// The transaction has ended cleanly: the connection goes back to the pool.
    pub(super) fn release(mut self) {
        drop(self.conn.take());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let id = Object::id(&conn);
            self.warm.lock().retain(|(c, _)| *c != id);
            drop(Object::take(conn));
        }
    }
}

/// A diesel query [`super::AsyncTenantRead::load`] and [`super::AsyncTenantRead::load3`] take:
/// loadable on an async connection, a `Query` (diesel-async prepares and caches `Q` itself,
/// `as_query` being the identity for a `Query`, so `Q`'s query id is the statement's cache key
/// the pool's warm set checks), cloneable for a retry on another connection.
pub trait CachedLoad<U>:
    for<'c> LoadQuery<'static, &'c AsyncPgConnection, U>
    + Query
    + QueryFragment<Pg>
    + QueryId
    + Clone
    + Send
    + 'static
{
}

impl<Q, U> CachedLoad<U> for Q where
    Q: for<'c> LoadQuery<'static, &'c AsyncPgConnection, U>
        + Query
        + QueryFragment<Pg>
        + QueryId
        + Clone
        + Send
        + 'static
{
}

/// `read` as a read over any connection borrow (names the higher-ranked closure type).
pub(super) fn over_connection<T, F>(read: F) -> F
where
    F: for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
{
    read
}

/// The statement key diesel caches `query` under, if it caches it by type.
pub(super) fn cache_key<Q: QueryFragment<Pg> + QueryId>(query: &Q) -> Option<TypeId> {
    match (Q::query_id(), query.is_safe_to_cache_prepared(&Pg)) {
        (Some(id), Ok(true)) => Some(id),
        _ => None,
    }
}

/// The read of [`super::AsyncTenantRead::load`] as a closure over the connection.
pub(super) fn load_with<Q, U>(
    query: Q,
) -> impl for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<Vec<U>>>
where
    Q: for<'c> LoadQuery<'static, &'c AsyncPgConnection, U> + Clone + Send + 'static,
    U: Send + 'static,
{
    move |conn| {
        let query = query.clone();
        async move {
            let mut conn = conn;
            diesel_async::RunQueryDsl::load::<U>(query, &mut conn).await
        }
        .boxed()
    }
}

/// Why one attempt failed.
pub(super) enum Attempt {
    /// The connection is dead: nothing ran; try another.
    Dead(String),
    /// The read failed; `discard` when the connection's state is unknown.
    Failed { error: Error, discard: bool },
}

pub(super) async fn run_on<T, F>(
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

/// Context, query and `COMMIT` in one write: only for a statement cached on `conn` (see
/// [`super::AsyncTenantRead::load`]). Each future is polled first in that order (`join3` polls
/// its first future first), unconstrained, so each sends on that first poll.
pub(super) async fn run_pipelined<T, F>(
    conn: &AsyncPgConnection,
    begin: &str,
    query: &F,
) -> Result<T, Attempt>
where
    F: for<'c> Fn(&'c AsyncPgConnection) -> BoxFuture<'c, QueryResult<T>>,
{
    let context = tokio::task::unconstrained(async {
        let mut c = conn;
        c.batch_execute(begin).await
    });
    let read = tokio::task::unconstrained(query(conn));
    let commit = tokio::task::unconstrained(async {
        let mut c = conn;
        c.batch_execute("COMMIT").await
    });
    match futures_util::future::join3(context, read, commit).await {
        (Ok(()), Ok(value), Ok(())) => Ok(value),
        // Nothing of the transaction is certain: the answer is not used.
        (Err(err), _, _) => Err(match Error::from(err) {
            Error::Unavailable(why) => Attempt::Dead(why),
            error => Attempt::Failed {
                error,
                discard: true,
            },
        }),
        (Ok(()), _, Err(err)) => Err(Attempt::Failed {
            error: Error::from(err),
            discard: true,
        }),
        // The query failed; COMMIT of the aborted transaction rolled it back.
        (Ok(()), Err(err), Ok(())) => Err(Attempt::Failed {
            error: Error::from(err),
            discard: false,
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
