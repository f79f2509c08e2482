//! `decisions`: each stored with its `decision_audit_log` row in one transaction; read back
//! as the tenant's recent history (rule mining, dry runs), an ensemble's history (its
//! calibration sample) and the month's LLM spend.

use alphapulse_domain::{
    ports::{
        Actor, AuditAction, Decision, DecisionAction, DecisionAuditRow, DecisionReason,
        DecisionRepo,
    },
    RepoError, Symbol, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{dsl::sum, pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{corrupt, decision_audit, regime_from_text, regime_to_text, side_from_text};
use crate::{error::Result, schema::decisions as d, Db, Error};

const TABLE: &str = "decisions";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = d, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: Uuid,
    prediction_id: Option<Uuid>,
    ensemble_id: Uuid,
    symbol: String,
    side: Option<String>,
    regime: String,
    prediction: f64,
    raw_confidence: f64,
    calibrated_p: f64,
    calibrated: bool,
    threshold_used: f64,
    action: String,
    reasons: Vec<String>,
    detail: Option<String>,
    vendor_normalized: String,
    client_order_id: Option<String>,
    order_status: Option<String>,
    quantity: Option<Decimal>,
    llm_cost_usd: Decimal,
    user_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Decision {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Decision {
            id: r.id,
            prediction_id: r.prediction_id,
            ensemble_id: r.ensemble_id,
            symbol: Symbol::parse(&r.symbol).map_err(|e| corrupt(TABLE, e))?,
            side: r
                .side
                .as_deref()
                .map(|s| side_from_text(TABLE, s))
                .transpose()?,
            regime: regime_from_text(TABLE, &r.regime)?,
            prediction: r.prediction,
            raw_confidence: r.raw_confidence,
            calibrated_p: r.calibrated_p,
            calibrated: r.calibrated,
            threshold_used: r.threshold_used,
            action: DecisionAction::parse_field(&r.action).map_err(|e| corrupt(TABLE, e))?,
            reasons: r
                .reasons
                .iter()
                .map(|s| DecisionReason::parse_field(s).map_err(|e| corrupt(TABLE, e)))
                .collect::<Result<_>>()?,
            detail: r.detail,
            vendor_normalized: r.vendor_normalized,
            client_order_id: r.client_order_id,
            order_status: r.order_status,
            quantity: r.quantity.map(|q| q.normalize()),
            llm_cost_usd: r.llm_cost_usd.normalize(),
            user_id: r.user_id.map(UserId),
            created_at: r.created_at,
        })
    }
}

/// Stores a decision and its audit trail row.
///
/// # Errors
/// An unknown ensemble or prediction (`NotFound`); database failures.
pub fn record(conn: &mut PgConnection, actor: &Actor, x: &Decision) -> Result<Decision> {
    let reasons: Vec<&str> = x.reasons.iter().map(TextEnum::as_str).collect();
    let row: Row = diesel::insert_into(d::table)
        .values((
            d::tenant_id.eq(actor.tenant_id.as_uuid()),
            d::id.eq(x.id),
            d::prediction_id.eq(x.prediction_id),
            d::ensemble_id.eq(x.ensemble_id),
            d::symbol.eq(x.symbol.as_str()),
            d::side.eq(x.side.map(|s| s.as_str())),
            d::regime.eq(regime_to_text(x.regime)),
            d::prediction.eq(x.prediction),
            d::raw_confidence.eq(x.raw_confidence),
            d::calibrated_p.eq(x.calibrated_p),
            d::calibrated.eq(x.calibrated),
            d::threshold_used.eq(x.threshold_used),
            d::action.eq(x.action.as_str()),
            d::reasons.eq(reasons),
            d::detail.eq(x.detail.as_deref()),
            d::vendor_normalized.eq(&x.vendor_normalized),
            d::client_order_id.eq(x.client_order_id.as_deref()),
            d::order_status.eq(x.order_status.as_deref()),
            d::quantity.eq(x.quantity),
            d::llm_cost_usd.eq(x.llm_cost_usd),
            d::user_id.eq(x.user_id.map(|u| u.as_uuid())),
            d::created_at.eq(x.created_at),
        ))
        .returning(Row::as_returning())
        .get_result(conn)?;
    decision_audit::append(
        conn,
        &DecisionAuditRow {
            timestamp: x.created_at,
            tenant_id: actor.tenant_id,
            txn_id: x.id,
            vendor_normalized: x.vendor_normalized.clone(),
            action: AuditAction::from(x.action),
            not_auto_post_reason: x.primary_reason().map(|r| r.as_str().to_owned()),
            calibrated_p: Some(x.calibrated_p),
            threshold_used: Some(x.threshold_used),
            user_id: x.user_id,
        },
    )?;
    row.try_into()
}

fn newest_first_then_reversed(mut rows: Vec<Row>) -> Result<Vec<Decision>> {
    rows.reverse();
    rows.into_iter().map(Decision::try_from).collect()
}

/// [`DecisionRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgDecisionRepo {
    db: Db,
}

impl PgDecisionRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl DecisionRepo for PgDecisionRepo {
    fn record(&self, actor: &Actor, decision: &Decision) -> Result<Decision, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| record(c, actor, decision))?)
    }

    fn history(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Decision>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let rows: Vec<Row> = d::table
                .filter(d::tenant_id.eq(actor.tenant_id.as_uuid()))
                .filter(d::created_at.ge(since))
                .order((d::created_at.desc(), d::id.desc()))
                .limit(i64::from(limit))
                .select(Row::as_select())
                .load(c)?;
            newest_first_then_reversed(rows)
        })?)
    }

    fn ensemble_history(
        &self,
        actor: &Actor,
        ensemble_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Decision>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let rows: Vec<Row> = d::table
                .filter(d::tenant_id.eq(actor.tenant_id.as_uuid()))
                .filter(d::ensemble_id.eq(ensemble_id))
                .order((d::created_at.desc(), d::id.desc()))
                .limit(i64::from(limit))
                .select(Row::as_select())
                .load(c)?;
            newest_first_then_reversed(rows)
        })?)
    }

    fn llm_spend(&self, actor: &Actor, since: DateTime<Utc>) -> Result<Decimal, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let total: Option<Decimal> = d::table
                .filter(d::tenant_id.eq(actor.tenant_id.as_uuid()))
                .filter(d::created_at.ge(since))
                .select(sum(d::llm_cost_usd))
                .first(c)?;
            Ok::<_, Error>(total.unwrap_or_default().normalize())
        })?)
    }
}
