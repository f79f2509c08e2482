//! `idempotency_keys`: claims, stored answers and the audit row of trading actions.

use alphapulse_domain::{
    ports::{Actor, IdempotencyBegin, IdempotencyRepo},
    NewAuditEntry, RepoError,
};
use chrono::Utc;
use diesel::{pg::PgConnection, prelude::*};

use crate::{error::Result, repos::audit, schema::idempotency_keys, Db};

type Stored = (
    String,
    Option<i32>,
    Option<serde_json::Value>,
    chrono::DateTime<Utc>,
    Option<serde_json::Value>,
);

/// Claims the key or reports its earlier use (see [`IdempotencyRepo::begin`]).
///
/// # Errors
/// Database failures.
pub fn begin(
    conn: &mut PgConnection,
    actor: &Actor,
    scope: &str,
    key: &str,
    hash: &str,
    stale_after: std::time::Duration,
) -> Result<IdempotencyBegin> {
    let tenant = actor.tenant_id.as_uuid();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::tenant_id.eq(tenant),
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(IdempotencyBegin::Started);
    }
    // The row is locked while we decide, so two retries cannot both take a stale key over.
    let (stored_hash, status, body, claimed_at, plan): Stored = idempotency_keys::table
        .filter(idempotency_keys::tenant_id.eq(tenant))
        .filter(idempotency_keys::scope.eq(scope))
        .filter(idempotency_keys::key.eq(key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response,
            idempotency_keys::created_at,
            idempotency_keys::plan,
        ))
        .for_update()
        .first(conn)?;
    let stale = chrono::Duration::from_std(stale_after).unwrap_or(chrono::Duration::MAX);
    Ok(match (stored_hash == hash, status, body) {
        (false, _, _) => IdempotencyBegin::Mismatch,
        (true, Some(status), Some(body)) => IdempotencyBegin::Completed {
            status: u16::try_from(status).unwrap_or(200),
            body,
        },
        _ if Utc::now() - claimed_at > stale => {
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::tenant_id.eq(tenant))
                    .filter(idempotency_keys::scope.eq(scope))
                    .filter(idempotency_keys::key.eq(key)),
            )
            .set(idempotency_keys::created_at.eq(Utc::now()))
            .execute(conn)?;
            IdempotencyBegin::Resumed { plan }
        }
        _ => IdempotencyBegin::InProgress,
    })
}

/// Stores the answer of a claimed key in the caller's transaction (so a change and the answer
/// that reports it commit together).
///
/// # Errors
/// Database failures.
pub fn complete(
    conn: &mut PgConnection,
    actor: &Actor,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<()> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::tenant_id.eq(actor.tenant_id.as_uuid()))
            .filter(idempotency_keys::scope.eq(scope))
            .filter(idempotency_keys::key.eq(key)),
    )
    .set((
        idempotency_keys::status_code.eq(i32::from(status)),
        idempotency_keys::response.eq(body),
        idempotency_keys::completed_at.eq(Utc::now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// [`IdempotencyRepo`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgIdempotencyRepo {
    db: Db,
}

impl PgIdempotencyRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl IdempotencyRepo for PgIdempotencyRepo {
    fn begin(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        request_hash: &str,
        stale_after: std::time::Duration,
    ) -> Result<IdempotencyBegin, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| begin(c, actor, scope, key, request_hash, stale_after))?)
    }

    fn record_plan(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        plan: &serde_json::Value,
    ) -> Result<(), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::tenant_id.eq(actor.tenant_id.as_uuid()))
                    .filter(idempotency_keys::scope.eq(scope))
                    .filter(idempotency_keys::key.eq(key)),
            )
            .set(idempotency_keys::plan.eq(plan))
            .execute(c)?;
            Ok::<_, crate::Error>(())
        })?)
    }

    fn complete(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
        entry: &NewAuditEntry,
    ) -> Result<(), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            complete(c, actor, scope, key, status, body)?;
            audit::append(c, entry)?;
            Ok::<_, crate::Error>(())
        })?)
    }

    fn release(&self, actor: &Actor, scope: &str, key: &str) -> Result<(), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::tenant_id.eq(actor.tenant_id.as_uuid()))
                    .filter(idempotency_keys::scope.eq(scope))
                    .filter(idempotency_keys::key.eq(key))
                    .filter(idempotency_keys::status_code.is_null()),
            )
            .execute(c)?;
            Ok::<_, crate::Error>(())
        })?)
    }
}
