//! Inputs and answers of [`super::EnsembleService`].

use std::collections::BTreeMap;

use alphapulse_domain::ports::EnsembleMethod;
use serde::Serialize;
use serde_json::Value;

use crate::{optimize::OptimizeMethod, performance::Metrics};

/// Input of [`EnsembleService::create`](crate::EnsembleService::create).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateEnsemble {
    /// 1 to 100 characters (trimmed).
    pub name: String,
    /// `weighted_average`, `majority_vote` or `confidence_weighted`.
    pub method: String,
    /// A JSON object (default `{}`).
    pub config: Option<Value>,
}

/// Input of [`EnsembleService::register_agent`](crate::EnsembleService::register_agent).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterAgent {
    /// 1 to 64 of `A-Z a-z 0-9 _ - . :`.
    pub agent_id: String,
    /// Same rule as the id.
    pub agent_type: String,
    /// Relative to an average registered agent, `(0, 100]` (default 1).
    pub initial_weight: Option<f64>,
}

/// One signal of [`Predict`].
#[derive(Debug, Clone, PartialEq)]
pub struct SignalIn {
    /// A registered agent of the ensemble.
    pub agent_id: String,
    /// `-1..=1`.
    pub signal: f64,
    /// `0..=1`.
    pub confidence: f64,
}

/// Input of [`EnsembleService::predict`](crate::EnsembleService::predict).
#[derive(Debug, Clone, PartialEq)]
pub struct Predict {
    /// The instrument.
    pub symbol: String,
    /// 1 to 100 signals, at most one per agent.
    pub signals: Vec<SignalIn>,
}

/// Input of [`EnsembleService::optimize_weights`](crate::EnsembleService::optimize_weights).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeWeights {
    /// `performance`, `inverse_variance` or `equal`.
    pub method: String,
    /// Recent predictions to learn from, 1..=1000 (default 100).
    pub lookback: Option<i64>,
}

/// An ensemble's current weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weights {
    /// The weights version.
    pub version: i32,
    /// Weight per active agent (sums to 1; empty without agents).
    pub weights: BTreeMap<String, f64>,
}

/// The result of an optimisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Optimized {
    /// The method used.
    pub method: OptimizeMethod,
    /// Predictions looked back on.
    pub lookback: u32,
    /// The new weights version.
    pub version: i32,
    /// The new weights (sum to 1).
    pub weights: BTreeMap<String, f64>,
    /// The weights before.
    pub previous_weights: BTreeMap<String, f64>,
    /// Each agent's risk-adjusted score (mean / std of its directional returns).
    pub scores: BTreeMap<String, f64>,
    /// Each agent's evaluated signals in the lookback.
    pub evaluated: BTreeMap<String, u32>,
}

/// One agent's performance in an ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentPerformance {
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// Its current weight.
    pub weight: f64,
    /// Its statistics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// An ensemble's performance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnsemblePerformance {
    /// The ensemble's method.
    pub method: EnsembleMethod,
    /// Predictions looked back on (the newest ones).
    pub lookback: u32,
    /// The ensemble's own predictions.
    pub ensemble: Metrics,
    /// Each active agent, in registration order.
    pub agents: Vec<AgentPerformance>,
}

/// One row of the tenant's agent rankings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRanking {
    /// 1 for the best.
    pub rank: u32,
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// Ensembles it is registered in.
    pub ensembles: u32,
    /// Its statistics over the tenant's recent signals.
    #[serde(flatten)]
    pub metrics: Metrics,
}
