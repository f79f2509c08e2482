//! `tenant_risk_limits`: one row per tenant that changed its limits (the others have the
//! defaults).

use alphapulse_domain::{
    ports::{Actor, RiskLimits, RiskLimitsRepo},
    AuditNote, RepoError, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*, upsert::excluded};
use uuid::Uuid;

use super::audit;
use crate::{error::Result, schema::tenant_risk_limits as limits, Db, Error};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = limits, check_for_backend(diesel::pg::Pg))]
struct LimitsRow {
    max_position_weight: f64,
    max_leverage: f64,
    max_drawdown: f64,
    target_volatility: f64,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

impl From<LimitsRow> for RiskLimits {
    fn from(r: LimitsRow) -> Self {
        RiskLimits {
            max_position_weight: r.max_position_weight,
            max_leverage: r.max_leverage,
            max_drawdown: r.max_drawdown,
            target_volatility: r.target_volatility,
            updated_at: Some(r.updated_at),
            updated_by: r.updated_by.map(UserId),
        }
    }
}

/// The tenant's limits, the defaults when none are stored.
///
/// # Errors
/// Database failures.
pub fn get(conn: &mut PgConnection, actor: &Actor) -> Result<RiskLimits> {
    Ok(limits::table
        .filter(limits::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select(LimitsRow::as_select())
        .first(conn)
        .optional()?
        .map_or_else(RiskLimits::default, Into::into))
}

/// Stores the tenant's limits.
///
/// # Errors
/// [`Error::Invalid`] for a value out of range; database failures.
pub fn set(conn: &mut PgConnection, actor: &Actor, new: &RiskLimits) -> Result<RiskLimits> {
    if let Some(first) = new.check().into_iter().next() {
        return Err(Error::Invalid(first));
    }
    let row: LimitsRow = diesel::insert_into(limits::table)
        .values((
            limits::tenant_id.eq(actor.tenant_id.as_uuid()),
            limits::max_position_weight.eq(new.max_position_weight),
            limits::max_leverage.eq(new.max_leverage),
            limits::max_drawdown.eq(new.max_drawdown),
            limits::target_volatility.eq(new.target_volatility),
            limits::updated_at.eq(Utc::now()),
            limits::updated_by.eq(actor.user_id.map(|u| u.as_uuid())),
        ))
        .on_conflict(limits::tenant_id)
        .do_update()
        .set((
            limits::max_position_weight.eq(excluded(limits::max_position_weight)),
            limits::max_leverage.eq(excluded(limits::max_leverage)),
            limits::max_drawdown.eq(excluded(limits::max_drawdown)),
            limits::target_volatility.eq(excluded(limits::target_volatility)),
            limits::updated_at.eq(excluded(limits::updated_at)),
            limits::updated_by.eq(excluded(limits::updated_by)),
        ))
        .returning(LimitsRow::as_returning())
        .get_result(conn)?;
    Ok(row.into())
}

/// [`RiskLimitsRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgRiskLimitsRepo {
    db: Db,
}

impl PgRiskLimitsRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl RiskLimitsRepo for PgRiskLimitsRepo {
    fn get(&self, actor: &Actor) -> Result<RiskLimits, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| get(c, actor))?)
    }

    fn set(
        &self,
        actor: &Actor,
        limits: &RiskLimits,
        note: &AuditNote,
    ) -> Result<RiskLimits, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let stored = set(c, actor, limits)?;
            let target = format!("tenant:{}", actor.tenant_id);
            audit::append(c, &note.success(actor.tenant_id, target))?;
            Ok::<_, Error>(stored)
        })?)
    }
}
