//! Ensembles of trading agents: configuration, registered agents with weights, stored
//! predictions (inputs and output, so performance can be computed once prices are known),
//! versioned weights, and the tenant's agent signals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Actor;
use crate::{NewAuditEntry, Page, PageRequest, RepoError, Symbol, UserId};

/// How an ensemble combines its agents' signals.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EnsembleMethod {
    /// `Σ wᵢ sᵢ / Σ wᵢ`.
    WeightedAverage,
    /// The sign of the weighted count of `sign(sᵢ)`; confidence is the winning share.
    MajorityVote,
    /// `Σ wᵢ cᵢ sᵢ / Σ wᵢ cᵢ`.
    ConfidenceWeighted,
}

impl crate::TextEnum for EnsembleMethod {
    const FIELD: &'static str = "method";
}

/// What produced a version of an ensemble's weights.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum WeightSource {
    /// An agent was registered (its initial weight, all weights renormalised).
    Registration,
    /// Softmax of recent risk-adjusted performance.
    Performance,
    /// Inversely proportional to the variance of each agent's directional returns.
    InverseVariance,
    /// Every agent the same weight.
    Equal,
}

impl crate::TextEnum for WeightSource {
    const FIELD: &'static str = "method";
}

/// An ensemble as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// Identifier.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// How predictions combine the signals.
    pub method: EnsembleMethod,
    /// Free-form configuration (a JSON object).
    pub config: serde_json::Value,
    /// The current version of the weights (0 before the first agent).
    pub weights_version: i32,
    /// Active agents registered in it.
    pub agent_count: u32,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change (registration, weights).
    pub updated_at: DateTime<Utc>,
}

/// An ensemble to create (the id is chosen by the caller, so the audit row can name it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEnsemble {
    /// Identifier.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// How predictions combine the signals.
    pub method: EnsembleMethod,
    /// Free-form configuration (a JSON object).
    pub config: serde_json::Value,
}

/// An agent registered in an ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleAgent {
    /// The agent's identifier (chosen by the client, unique per ensemble).
    pub agent_id: String,
    /// Kind of agent (`technical`, `sentiment`, ...).
    pub agent_type: String,
    /// Its stored weight (the weights of an ensemble's active agents sum to 1).
    pub weight: f64,
    /// Inactive agents take no part in predictions.
    pub active: bool,
    /// Registration time.
    pub created_at: DateTime<Utc>,
}

/// An agent to register.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRegistration {
    /// The agent's identifier.
    pub agent_id: String,
    /// Kind of agent.
    pub agent_type: String,
}

/// The result of a registration: the agent and the ensemble's new weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    /// The agent as stored.
    pub agent: EnsembleAgent,
    /// The new weights version.
    pub weights_version: i32,
    /// Every active agent's weight after the registration (sums to 1).
    pub weights: BTreeMap<String, f64>,
}

/// One agent's signal as an input of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalInput {
    /// The agent.
    pub agent_id: String,
    /// Its type (from the registration).
    pub agent_type: String,
    /// Direction and strength, `-1..=1`.
    pub signal: f64,
    /// The agent's confidence, `0..=1`.
    pub confidence: f64,
}

/// What one agent contributed to a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// Its signal.
    pub signal: f64,
    /// Its confidence.
    pub confidence: f64,
    /// Its weight among the agents that sent a signal (these weights sum to 1).
    pub weight: f64,
    /// Its term of the combination (the terms of weighted methods sum to the prediction).
    pub contribution: f64,
}

/// A prediction to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrediction {
    /// Identifier.
    pub id: Uuid,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The instrument.
    pub symbol: Symbol,
    /// The signals (each is also written to `agent_signals`).
    pub inputs: Vec<SignalInput>,
    /// The combined signal, `-1..=1`.
    pub prediction: f64,
    /// Its confidence, `0..=1`.
    pub confidence: f64,
    /// Per-agent terms.
    pub contributions: Vec<Contribution>,
    /// The weights version used.
    pub weights_version: i32,
    /// The latest close of the symbol at prediction time, if any.
    pub price_at: Option<Decimal>,
}

/// A stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPrediction {
    /// Identifier.
    pub id: Uuid,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The instrument.
    pub symbol: Symbol,
    /// The signals.
    pub inputs: Vec<SignalInput>,
    /// The combined signal.
    pub prediction: f64,
    /// Its confidence.
    pub confidence: f64,
    /// Per-agent terms.
    pub contributions: Vec<Contribution>,
    /// The weights version used.
    pub weights_version: i32,
    /// The latest close of the symbol at prediction time, if any.
    pub price_at: Option<Decimal>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// New weights for an ensemble's active agents.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightUpdate {
    /// The version the weights were computed from: the update fails with a conflict when
    /// the ensemble's weights changed meanwhile.
    pub base_version: i32,
    /// What produced them.
    pub source: WeightSource,
    /// One weight per active agent (non-negative, summing to 1).
    pub weights: BTreeMap<String, f64>,
}

/// One of the tenant's agents across its ensembles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantAgent {
    /// The agent.
    pub agent_id: String,
    /// Its type (of the newest registration).
    pub agent_type: String,
    /// How many of the tenant's ensembles it is registered in.
    pub ensembles: u32,
}

/// A stored agent signal (`agent_signals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSignal {
    /// The agent.
    pub agent_id: String,
    /// Its type.
    pub agent_type: String,
    /// The instrument.
    pub symbol: Symbol,
    /// Direction and strength.
    pub signal: f64,
    /// Confidence.
    pub confidence: f64,
    /// When it was given.
    pub created_at: DateTime<Utc>,
}

/// Ensembles, their agents, weights and predictions, per tenant. Every change takes the
/// audit row to append in the same transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EnsembleRepo: Send + Sync {
    /// Creates an ensemble (weights version 0, no agents) and appends `audit`.
    fn create(
        &self,
        actor: &Actor,
        new: &NewEnsemble,
        audit: &NewAuditEntry,
    ) -> Result<Ensemble, RepoError>;

    /// One of the tenant's ensembles ([`RepoError::NotFound`] for another tenant's).
    fn get(&self, actor: &Actor, id: Uuid) -> Result<Ensemble, RepoError>;

    /// A page of the tenant's ensembles, newest first.
    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>, RepoError>;

    /// The ensemble and its active agents, oldest registration first.
    fn agents(&self, actor: &Actor, id: Uuid) -> Result<(Ensemble, Vec<EnsembleAgent>), RepoError>;

    /// Registers an agent and appends `audit`, in one transaction that holds the ensemble's
    /// row lock. `initial_weight` is relative to an average agent: the current weights are
    /// scaled so that they average 1, the new agent gets `initial_weight`, and everything is
    /// renormalised to sum to 1 and stored as the next version (on the agents and in the
    /// history). [`RepoError::Conflict`] when the agent is already registered.
    fn register_agent(
        &self,
        actor: &Actor,
        id: Uuid,
        agent: &AgentRegistration,
        initial_weight: f64,
        audit: &NewAuditEntry,
    ) -> Result<Registered, RepoError>;

    /// Stores a prediction and its signals (into `agent_signals`) and appends `audit`.
    fn record_prediction(
        &self,
        actor: &Actor,
        prediction: &NewPrediction,
        audit: &NewAuditEntry,
    ) -> Result<StoredPrediction, RepoError>;

    /// The newest `limit` predictions of the ensemble, oldest first.
    fn predictions(
        &self,
        actor: &Actor,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<StoredPrediction>, RepoError>;

    /// Stores new weights as the next version (on the agents and in the history) and appends
    /// `audit`; returns the new version. [`RepoError::Conflict`] when the version moved on
    /// or the agents changed since `update.base_version`.
    fn set_weights(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &WeightUpdate,
        audit: &NewAuditEntry,
    ) -> Result<i32, RepoError>;

    /// The agents registered in any of the tenant's ensembles.
    fn tenant_agents(&self, actor: &Actor) -> Result<Vec<TenantAgent>, RepoError>;

    /// The tenant's newest `limit` agent signals, oldest first.
    fn recent_signals(&self, actor: &Actor, limit: u32) -> Result<Vec<StoredSignal>, RepoError>;
}

/// Scales non-negative weights to sum to 1 (within 1e-9): negative and non-finite entries
/// count as 0, and all-zero input gives equal weights. Empty in, empty out.
pub fn normalise_weights(raw: &[f64]) -> Vec<f64> {
    let n = raw.len();
    if n == 0 {
        return Vec::new();
    }
    let clean: Vec<f64> = raw
        .iter()
        .map(|w| if w.is_finite() && *w > 0.0 { *w } else { 0.0 })
        .collect();
    let top = clean.iter().copied().fold(0.0, f64::max);
    if top <= 0.0 {
        return vec![1.0 / n as f64; n];
    }
    // Scale by the largest first so the sum cannot overflow.
    let scaled: Vec<f64> = clean.iter().map(|w| w / top).collect();
    let sum: f64 = scaled.iter().sum();
    let mut out: Vec<f64> = scaled.iter().map(|w| w / sum).collect();
    // Put the rounding residue on the largest weight (it stays non-negative).
    let residue = 1.0 - out.iter().sum::<f64>();
    if let Some(max) = out.iter_mut().max_by(|a, b| a.total_cmp(b)) {
        *max = (*max + residue).max(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_handles_zeros_negatives_and_huge_values() {
        assert_eq!(normalise_weights(&[0.0, 0.0]), vec![0.5, 0.5]);
        assert_eq!(
            normalise_weights(&[-1.0, f64::NAN, 2.0]),
            vec![0.0, 0.0, 1.0]
        );
        let w = normalise_weights(&[f64::MAX, f64::MAX, 1.0]);
        assert!((w.iter().sum::<f64>() - 1.0).abs() <= 1e-12 && (w[0] - 0.5).abs() < 1e-12);
        assert!(normalise_weights(&[]).is_empty());
    }
}
