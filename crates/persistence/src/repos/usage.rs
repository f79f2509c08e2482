//! `api_usage_daily`: the daily quota's counts, written in batches by every server process.

use alphapulse_domain::{
    ports::{Actor, UsageRepo},
    RepoError, TenantId,
};
use chrono::NaiveDate;
use diesel::{
    pg::PgConnection,
    prelude::*,
    sql_types::{Array, BigInt, Date, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::{error::Result, schema::api_usage_daily as usage, Db};

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = BigInt)]
    calls: i64,
}

/// Adds the calls (one statement for every tenant) and returns the new totals.
///
/// # Errors
/// Database failures.
pub fn add_calls(
    conn: &mut PgConnection,
    day: NaiveDate,
    calls: &[(TenantId, u64)],
) -> Result<Vec<(TenantId, u64)>> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let tenants: Vec<Uuid> = calls.iter().map(|(t, _)| t.as_uuid()).collect();
    let counts: Vec<i64> = calls
        .iter()
        .map(|(_, n)| i64::try_from(*n).unwrap_or(i64::MAX))
        .collect();
    // One statement: tenants with new calls are upserted, the others only read (no row
    // version is written for a tenant that was idle since the last flush).
    let totals: Vec<Total> = diesel::sql_query(
        "WITH input AS (SELECT t, n FROM unnest($2::uuid[], $3::bigint[]) AS u(t, n)), \
         written AS ( \
           INSERT INTO api_usage_daily (tenant_id, day, calls, updated_at) \
           SELECT t, $1, n, now() FROM input WHERE n > 0 \
           ON CONFLICT (tenant_id, day) DO UPDATE \
             SET calls = api_usage_daily.calls + excluded.calls, updated_at = now() \
           RETURNING tenant_id, calls) \
         SELECT tenant_id, calls FROM written \
         UNION ALL \
         SELECT i.t AS tenant_id, COALESCE(a.calls, 0) AS calls FROM input i \
           LEFT JOIN api_usage_daily a ON a.tenant_id = i.t AND a.day = $1 \
           WHERE i.n = 0",
    )
    .bind::<Date, _>(day)
    .bind::<Array<SqlUuid>, _>(&tenants)
    .bind::<Array<BigInt>, _>(&counts)
    .load(conn)?;
    Ok(totals
        .into_iter()
        .map(|t| (TenantId(t.tenant_id), u64::try_from(t.calls).unwrap_or(0)))
        .collect())
}

/// The tenant's total of `day`.
///
/// # Errors
/// Database failures.
pub fn total(conn: &mut PgConnection, day: NaiveDate, tenant: TenantId) -> Result<u64> {
    let calls: Option<i64> = usage::table
        .filter(usage::tenant_id.eq(tenant.as_uuid()))
        .filter(usage::day.eq(day))
        .select(usage::calls)
        .first(conn)
        .optional()?;
    Ok(calls.map_or(0, |c| u64::try_from(c).unwrap_or(0)))
}

/// [`UsageRepo`] over PostgreSQL: platform scope (one batch covers many tenants).
#[derive(Debug, Clone)]
pub struct PgUsageRepo {
    db: Db,
}

impl PgUsageRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl UsageRepo for PgUsageRepo {
    fn add_calls(
        &self,
        day: NaiveDate,
        calls: &[(TenantId, u64)],
    ) -> Result<Vec<(TenantId, u64)>, RepoError> {
        Ok(self.db.platform().run(|c| add_calls(c, day, calls))?)
    }

    fn total(&self, day: NaiveDate, tenant: TenantId) -> Result<u64, RepoError> {
        // One tenant's row: read under that tenant's scope (RLS), not the platform's.
        Ok(self
            .db
            .tenant(Actor::system(tenant))
            .run(|c| total(c, day, tenant))?)
    }
}
