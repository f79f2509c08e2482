//! The diesel rows of `ensembles`, `ensemble_agents` and `ensemble_predictions`, their
//! conversions to the domain types, and the helpers every query of the group shares.

use alphapulse_domain::{
    ports::{Actor, Contribution, Ensemble, EnsembleAgent, SignalInput, StoredPrediction},
    Symbol, UserId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    error::Result,
    schema::{ensemble_agents, ensemble_predictions, ensembles},
    Error,
};

/// What [`Error::NotFound`] names for an unknown (or another tenant's) ensemble.
pub(super) const NOT_FOUND: &str = "ensemble";

/// A stored value the domain types refuse (or one they produce that cannot be stored).
pub(super) fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

/// The actor's tenant, which every query filters by on top of row-level security.
pub(super) fn tenant(actor: &Actor) -> Uuid {
    actor.tenant_id.as_uuid()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensembles, check_for_backend(diesel::pg::Pg))]
pub(super) struct EnsembleRow {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) method: String,
    pub(super) config: serde_json::Value,
    pub(super) weights_version: i32,
    pub(super) created_by: Option<Uuid>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

impl EnsembleRow {
    /// The ensemble, with its count of active agents.
    pub(super) fn into_ensemble(self, agent_count: i64) -> Result<Ensemble> {
        Ok(Ensemble {
            id: self.id,
            name: self.name,
            method: self.method.parse().map_err(|e| corrupt("ensembles", e))?,
            config: self.config,
            weights_version: self.weights_version,
            agent_count: u32::try_from(agent_count).unwrap_or(u32::MAX),
            created_by: self.created_by.map(UserId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensemble_agents, check_for_backend(diesel::pg::Pg))]
pub(super) struct AgentRow {
    pub(super) id: Uuid,
    pub(super) agent_id: String,
    pub(super) agent_type: String,
    pub(super) weight: f64,
    pub(super) active: bool,
    pub(super) created_at: DateTime<Utc>,
}

impl From<AgentRow> for EnsembleAgent {
    fn from(r: AgentRow) -> Self {
        EnsembleAgent {
            agent_id: r.agent_id,
            agent_type: r.agent_type,
            weight: r.weight,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensemble_predictions, check_for_backend(diesel::pg::Pg))]
pub(super) struct PredictionRow {
    pub(super) id: Uuid,
    pub(super) ensemble_id: Uuid,
    pub(super) symbol: String,
    pub(super) inputs: serde_json::Value,
    pub(super) prediction: f64,
    pub(super) confidence: f64,
    pub(super) contributions: serde_json::Value,
    pub(super) weights_version: i32,
    pub(super) price_at: Option<Decimal>,
    pub(super) created_at: DateTime<Utc>,
}

impl PredictionRow {
    /// The stored prediction (its JSON inputs and contributions decoded).
    pub(super) fn into_prediction(self) -> Result<StoredPrediction> {
        let table = "ensemble_predictions";
        Ok(StoredPrediction {
            id: self.id,
            ensemble_id: self.ensemble_id,
            symbol: Symbol::parse(&self.symbol).map_err(|e| corrupt(table, e))?,
            inputs: serde_json::from_value::<Vec<SignalInput>>(self.inputs)
                .map_err(|e| corrupt(table, e))?,
            prediction: self.prediction,
            confidence: self.confidence,
            contributions: serde_json::from_value::<Vec<Contribution>>(self.contributions)
                .map_err(|e| corrupt(table, e))?,
            weights_version: self.weights_version,
            price_at: self.price_at,
            created_at: self.created_at,
        })
    }
}
