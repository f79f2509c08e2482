//! The request and response bodies of the ensemble routes, and their conversions from the
//! domain types.

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{
        Contribution, Decision, DecisionAction, DecisionReason, Ensemble, EnsembleMethod,
        StoredPrediction,
    },
    Regime, Side,
};
use alphapulse_ensemble::{
    service::{AgentRanking, EnsemblePerformance},
    OptimizeMethod,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Body of `POST /api/v1/ensemble/create`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateEnsembleRequest {
    /// 1 to 100 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\x00\t\n\x0c\r ][^\x00]*$"
    )]
    pub name: String,
    /// How the agents' signals are combined.
    #[schema(value_type = EnsembleMethod)]
    pub method: String,
    /// Free-form settings (a JSON object, default `{}`).
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Answer of `POST /api/v1/ensemble/create` (201).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEnsemble {
    /// The new ensemble's id.
    pub ensemble_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its method.
    pub method: EnsembleMethod,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// An ensemble as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnsembleResponse {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// How signals are combined.
    pub method: EnsembleMethod,
    /// Free-form settings.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Current weights version (0 before the first agent).
    pub weights_version: i32,
    /// Active agents.
    pub agent_count: u32,
    /// The user who created it.
    pub created_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Ensemble> for EnsembleResponse {
    fn from(e: Ensemble) -> Self {
        Self {
            id: e.id,
            name: e.name,
            method: e.method,
            config: e.config,
            weights_version: e.weights_version,
            agent_count: e.agent_count,
            created_by: e.created_by.map(|u| u.as_uuid()),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Body of `POST /api/v1/ensemble/{id}/register-agent`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterAgentRequest {
    /// 1 to 64 of `A-Z a-z 0-9 _ - . :`, unique in the ensemble.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_id: String,
    /// Kind of agent (`technical`, `sentiment`, ...), same characters.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_type: String,
    /// Weight relative to an average registered agent, `(0, 100]` (default 1).
    #[schema(exclusive_minimum = 0.0, maximum = 100.0)]
    pub initial_weight: Option<f64>,
}

/// Answer of a registration (201).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredAgent {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// `registered`.
    #[schema(example = "registered")]
    pub status: &'static str,
    /// Its weight after renormalisation.
    pub weight: f64,
    /// The new weights version.
    pub weights_version: i32,
    /// Every agent's weight (sums to 1).
    pub weights: BTreeMap<String, f64>,
}

/// One signal of a prediction request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignalRequest {
    /// A registered agent of the ensemble.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub agent_id: String,
    /// Direction and strength.
    #[schema(minimum = -1.0, maximum = 1.0)]
    pub signal: f64,
    /// Confidence.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
    /// What producing the signal cost (LLM agents), USD as a decimal string `>= 0`; the
    /// month's sum per tenant is checked against the tenant's `llm_tenant_cap_usd`.
    #[schema(pattern = r"^[0-9]{1,6}(\.[0-9]{1,6})?$", example = "0.0125")]
    pub cost_usd: Option<String>,
}

/// Body of `POST /api/v1/ensemble/{id}/predict`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PredictRequest {
    /// The instrument, e.g. `BTCUSDT`.
    #[schema(pattern = "^[A-Za-z0-9]{2,20}$")]
    pub symbol: String,
    /// 1 to 100 signals, one per agent.
    #[schema(min_items = 1, max_items = 100)]
    pub signals: Vec<SignalRequest>,
}

/// One agent's part in a prediction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContributionResponse {
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// Its signal.
    pub signal: f64,
    /// Its confidence.
    pub confidence: f64,
    /// Its weight among the agents that sent a signal (these sum to 1).
    pub weight: f64,
    /// Its term of the combination.
    pub contribution: f64,
}

impl From<Contribution> for ContributionResponse {
    fn from(c: Contribution) -> Self {
        Self {
            agent_id: c.agent_id,
            agent_type: c.agent_type,
            signal: c.signal,
            confidence: c.confidence,
            weight: c.weight,
            contribution: c.contribution,
        }
    }
}

/// A stored prediction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PredictionResponse {
    /// Identifier of the stored prediction.
    pub prediction_id: Uuid,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The instrument.
    pub symbol: String,
    /// The combined signal, `-1..=1`.
    pub prediction: f64,
    /// Its confidence, `0..=1`.
    pub confidence: f64,
    /// Per-agent terms.
    pub contributions: Vec<ContributionResponse>,
    /// The weights version used.
    pub weights_version: i32,
    /// The symbol's latest stored close (decimal string), `null` without market data.
    pub price_at: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// What the tenant's decision policy made of it.
    pub decision: DecisionResponse,
}

/// A decision: the prediction auto-executed (an order through the tenant's exchange),
/// queued for a person, rejected, or failed at the venue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionResponse {
    /// The decision's id (the audit trail's `txn_id`; the prediction's id).
    pub decision_id: Uuid,
    /// What became of the prediction.
    pub action: DecisionAction,
    /// The first reason it was not auto-executed (`null` when it was).
    pub not_auto_post_reason: Option<DecisionReason>,
    /// Every check that did not pass, first reason first.
    pub reasons: Vec<DecisionReason>,
    /// The confidence mapped through the ensemble's calibration.
    pub calibrated_p: f64,
    /// Whether a fitted calibration produced `calibrated_p` (else: the raw confidence, too
    /// few realised outcomes yet).
    pub calibrated: bool,
    /// The tenant's threshold when decided.
    pub threshold_used: f64,
    /// Buy, sell, or `null` for a flat prediction.
    pub side: Option<Side>,
    /// The market regime when decided (`null`: unknown).
    pub regime: Option<Regime>,
    /// Venue and symbol, e.g. `paper:BTCUSDT`.
    pub vendor_normalized: String,
    /// The order's client id (auto-executed and failed decisions).
    pub client_order_id: Option<String>,
    /// The venue's order status.
    pub order_status: Option<String>,
    /// The order's base quantity (decimal string).
    pub quantity: Option<String>,
    /// The LLM spend of the prediction's signals (decimal string).
    pub llm_cost_usd: String,
    /// The risk check or the order, in a sentence.
    pub detail: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<Decision> for DecisionResponse {
    fn from(d: Decision) -> Self {
        Self {
            decision_id: d.id,
            action: d.action,
            not_auto_post_reason: d.primary_reason(),
            reasons: d.reasons,
            calibrated_p: d.calibrated_p,
            calibrated: d.calibrated,
            threshold_used: d.threshold_used,
            side: d.side,
            regime: d.regime,
            vendor_normalized: d.vendor_normalized,
            client_order_id: d.client_order_id,
            order_status: d.order_status,
            quantity: d.quantity.map(|q| q.normalize().to_string()),
            llm_cost_usd: d.llm_cost_usd.normalize().to_string(),
            detail: d.detail,
            created_at: d.created_at,
        }
    }
}

impl PredictionResponse {
    /// The answer of a prediction and its decision.
    pub fn of(p: StoredPrediction, decision: Decision) -> Self {
        Self {
            prediction_id: p.id,
            ensemble_id: p.ensemble_id,
            symbol: p.symbol.to_string(),
            prediction: p.prediction,
            confidence: p.confidence,
            contributions: p.contributions.into_iter().map(Into::into).collect(),
            weights_version: p.weights_version,
            price_at: p.price_at.map(|d| d.normalize().to_string()),
            created_at: p.created_at,
            decision: decision.into(),
        }
    }
}

/// Answer of `GET /api/v1/ensemble/{id}/weights`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeightsResponse {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The weights version.
    pub version: i32,
    /// Weight per active agent (sums to 1; empty without agents).
    pub weights: BTreeMap<String, f64>,
}

/// Body of `POST /api/v1/ensemble/{id}/optimize-weights`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OptimizeWeightsRequest {
    /// How to compute the new weights.
    #[schema(value_type = OptimizeMethod)]
    pub method: String,
    /// Recent predictions to learn from, 1..=1000 (default 100).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub lookback: Option<i64>,
}

/// Answer of an optimisation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OptimizedWeights {
    /// The ensemble.
    pub ensemble_id: Uuid,
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

/// Query of the performance route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceQuery {
    /// Newest predictions considered, 1..=5000 (default 500).
    #[param(minimum = 1, maximum = 5000)]
    pub lookback: Option<i64>,
}

/// Query of the rankings route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingsQuery {
    /// Newest agent signals considered, 1..=20000 (default 5000).
    #[param(minimum = 1, maximum = 20000)]
    pub lookback: Option<i64>,
}

/// An ensemble's performance report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerformanceResponse {
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The report.
    #[serde(flatten)]
    pub report: EnsemblePerformance,
}

/// The tenant's agents ranked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RankingsResponse {
    /// Newest signals considered.
    pub lookback: i64,
    /// Best first.
    pub rankings: Vec<AgentRanking>,
}
