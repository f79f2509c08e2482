//! `ensemble_predictions` and `agent_signals`: storing a prediction with the signals it
//! consumed, reading an ensemble's recent predictions and the tenant's recent signals.

use alphapulse_domain::{
    ports::{Actor, NewPrediction, StoredPrediction, StoredSignal},
    NewAuditEntry, Symbol,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use serde_json::json;
use uuid::Uuid;

use super::{
    ensemble::exists,
    rows::{corrupt, tenant, PredictionRow, NOT_FOUND},
};
use crate::{
    error::Result,
    repos::audit,
    schema::{agent_signals, ensemble_predictions},
    Error,
};

/// Stores a prediction and its signals (into `agent_signals`) and appends `entry`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble; values outside the tables' checks.
pub fn record_prediction(
    conn: &mut PgConnection,
    actor: &Actor,
    p: &NewPrediction,
    entry: &NewAuditEntry,
) -> Result<StoredPrediction> {
    if !exists(conn, actor, p.ensemble_id)? {
        return Err(Error::NotFound(NOT_FOUND));
    }
    let metadata = json!({ "ensemble_id": p.ensemble_id, "prediction_id": p.id });
    let signals: Vec<_> = p
        .inputs
        .iter()
        .map(|s| {
            (
                agent_signals::tenant_id.eq(tenant(actor)),
                agent_signals::agent_id.eq(&s.agent_id),
                agent_signals::agent_type.eq(&s.agent_type),
                agent_signals::symbol.eq(p.symbol.as_str()),
                agent_signals::signal.eq(s.signal),
                agent_signals::confidence.eq(s.confidence),
                agent_signals::metadata.eq(&metadata),
            )
        })
        .collect();
    if !signals.is_empty() {
        diesel::insert_into(agent_signals::table)
            .values(&signals)
            .execute(conn)?;
    }
    let inputs = serde_json::to_value(&p.inputs).map_err(|e| corrupt("ensemble_predictions", e))?;
    let contributions =
        serde_json::to_value(&p.contributions).map_err(|e| corrupt("ensemble_predictions", e))?;
    let row: PredictionRow = diesel::insert_into(ensemble_predictions::table)
        .values((
            ensemble_predictions::tenant_id.eq(tenant(actor)),
            ensemble_predictions::id.eq(p.id),
            ensemble_predictions::ensemble_id.eq(p.ensemble_id),
            ensemble_predictions::symbol.eq(p.symbol.as_str()),
            ensemble_predictions::inputs.eq(&inputs),
            ensemble_predictions::prediction.eq(p.prediction),
            ensemble_predictions::confidence.eq(p.confidence),
            ensemble_predictions::contributions.eq(&contributions),
            ensemble_predictions::weights_version.eq(p.weights_version),
            ensemble_predictions::price_at.eq(p.price_at),
        ))
        .returning(PredictionRow::as_returning())
        .get_result(conn)?;
    audit::append(conn, entry)?;
    row.into_prediction()
}

/// The newest `limit` predictions of the ensemble, oldest first.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble.
pub fn predictions(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    limit: u32,
) -> Result<Vec<StoredPrediction>> {
    if !exists(conn, actor, id)? {
        return Err(Error::NotFound(NOT_FOUND));
    }
    let mut rows: Vec<PredictionRow> = ensemble_predictions::table
        .filter(ensemble_predictions::tenant_id.eq(tenant(actor)))
        .filter(ensemble_predictions::ensemble_id.eq(id))
        .order((
            ensemble_predictions::created_at.desc(),
            ensemble_predictions::id.desc(),
        ))
        .limit(i64::from(limit))
        .select(PredictionRow::as_select())
        .load(conn)?;
    rows.reverse();
    rows.into_iter()
        .map(PredictionRow::into_prediction)
        .collect()
}

/// The tenant's newest `limit` agent signals, oldest first (rows whose symbol does not parse
/// are skipped).
///
/// # Errors
/// Database failures.
pub fn recent_signals(
    conn: &mut PgConnection,
    actor: &Actor,
    limit: u32,
) -> Result<Vec<StoredSignal>> {
    let mut rows: Vec<(String, String, String, f64, f64, DateTime<Utc>)> = agent_signals::table
        .filter(agent_signals::tenant_id.eq(tenant(actor)))
        .order((agent_signals::created_at.desc(), agent_signals::id.desc()))
        .limit(i64::from(limit))
        .select((
            agent_signals::agent_id,
            agent_signals::agent_type,
            agent_signals::symbol,
            agent_signals::signal,
            agent_signals::confidence,
            agent_signals::created_at,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .filter_map(
            |(agent_id, agent_type, symbol, signal, confidence, created_at)| {
                Some(StoredSignal {
                    agent_id,
                    agent_type,
                    symbol: Symbol::parse(&symbol).ok()?,
                    signal,
                    confidence,
                    created_at,
                })
            },
        )
        .collect())
}
