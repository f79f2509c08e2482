//! The ensemble service: validates requests, combines signals, scores performance and
//! optimises weights over the [`EnsembleRepo`] and [`MarketDataRepo`] ports. Every change
//! hands the repository the audit row to append in the change's own transaction.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
};

use alphapulse_domain::{
    ports::{
        Actor, AgentRegistration, Ensemble, EnsembleAgent, EnsembleMethod, EnsembleRepo,
        MarketDataRepo, NewEnsemble, NewPrediction, Registered, SignalInput, StoredPrediction,
        WeightUpdate,
    },
    AuditOutcome, NewAuditEntry, Page, PageRequest, RepoError, Symbol, TextEnum,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use thiserror::Error;
use uuid::Uuid;

mod io;

pub use io::*;

use alphapulse_domain::ports::normalise_weights;

use crate::{
    combine::combine,
    optimize::{optimize, score, OptimizeMethod},
    performance::{evaluate, Closes, Outcome},
};

/// Longest ensemble name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest agent id or type.
pub const MAX_AGENT_LEN: usize = 64;
/// Largest `initial_weight` (relative to an average agent).
pub const MAX_INITIAL_WEIGHT: f64 = 100.0;
/// Most signals in one prediction.
pub const MAX_SIGNALS: usize = 100;
/// Largest serialised `config`, in bytes.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;
/// Default and largest `lookback` (predictions) of the optimisation.
pub const OPTIMIZE_LOOKBACK: (u32, u32) = (100, 1000);
/// Default and largest `lookback` (predictions) of the performance report.
pub const PERFORMANCE_LOOKBACK: (u32, u32) = (500, 5000);
/// Default and largest `lookback` (signals) of the agent rankings.
pub const RANKINGS_LOOKBACK: (u32, u32) = (5000, 20000);
/// Daily candles loaded beyond the age of the oldest signal (room for later closes).
const CANDLE_MARGIN_DAYS: i64 = 30;
/// Most daily candles loaded per symbol.
const MAX_CANDLES: i64 = 5000;

/// One invalid input field (the API answers 422 with these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    /// The field, as sent (`signals[2].confidence`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Failures of the service.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnsembleError {
    /// Storage failed, or the ensemble does not exist in the tenant (`NotFound`).
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Well-formed but invalid input.
    #[error("validation failed: {}", summary(.0))]
    Invalid(Vec<FieldIssue>),
    /// The ensemble's state does not allow the change.
    #[error("{0}")]
    Conflict(String),
}

fn summary(issues: &[FieldIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("{}: {}", i.field, i.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, Default)]
struct Issues(Vec<FieldIssue>);

impl Issues {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldIssue {
            field: field.into(),
            message: message.into(),
        });
    }

    fn finish(self) -> Result<(), EnsembleError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(EnsembleError::Invalid(self.0))
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> EnsembleError {
    EnsembleError::Invalid(vec![FieldIssue {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// The service (share it as `Arc<EnsembleService>`).
pub struct EnsembleService {
    repo: Arc<dyn EnsembleRepo>,
    market: Arc<dyn MarketDataRepo>,
}

impl std::fmt::Debug for EnsembleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnsembleService").finish_non_exhaustive()
    }
}

fn audit_entry(
    actor: &Actor,
    request_id: Option<&str>,
    action: &str,
    ensemble: Uuid,
    details: Value,
) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: actor.tenant_id,
        user_id: actor.user_id,
        action: action.to_owned(),
        target: format!("ensemble:{ensemble}"),
        outcome: AuditOutcome::Success,
        request_id: request_id.map(str::to_owned),
        details,
    }
}

fn agent_name_issue(value: &str) -> Option<String> {
    let len = value.chars().count();
    if len == 0 || len > MAX_AGENT_LEN {
        return Some(format!("must be 1 to {MAX_AGENT_LEN} characters"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    (!value.chars().all(allowed))
        .then(|| "may contain only letters, digits, '_', '-', '.' and ':'".to_owned())
}

fn parse_lookback(value: Option<i64>, (default, max): (u32, u32)) -> Result<u32, EnsembleError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=i64::from(max)).contains(&v) => Ok(v as u32),
        Some(_) => Err(invalid("lookback", format!("must be between 1 and {max}"))),
    }
}

fn weights_of(agents: &[EnsembleAgent]) -> BTreeMap<String, f64> {
    let raw: Vec<f64> = agents.iter().map(|a| a.weight).collect();
    agents
        .iter()
        .map(|a| a.agent_id.clone())
        .zip(normalise_weights(&raw))
        .collect()
}

impl EnsembleService {
    /// A service over the ensemble store and the market data.
    pub fn new(repo: Arc<dyn EnsembleRepo>, market: Arc<dyn MarketDataRepo>) -> Self {
        Self { repo, market }
    }

    /// Creates an ensemble (audited).
    ///
    /// # Errors
    /// [`EnsembleError::Invalid`] for a bad name, method or config; storage failures.
    pub fn create(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        input: CreateEnsemble,
    ) -> Result<Ensemble, EnsembleError> {
        let mut issues = Issues::default();
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            issues.fail("name", format!("must be 1 to {MAX_NAME_LEN} characters"));
        }
        let method = EnsembleMethod::parse_field(&input.method);
        if let Err(e) = &method {
            issues.fail("method", e.message.clone());
        }
        let config = input.config.unwrap_or_else(|| json!({}));
        if !config.is_object() {
            issues.fail("config", "must be a JSON object");
        } else if config.to_string().len() > MAX_CONFIG_BYTES {
            issues.fail(
                "config",
                format!("must be at most {MAX_CONFIG_BYTES} bytes"),
            );
        }
        issues.finish()?;
        let method = method.map_err(|e| invalid("method", e.message))?;
        let new = NewEnsemble {
            id: Uuid::new_v4(),
            name,
            method,
            config,
        };
        let details = json!({ "name": new.name, "method": method });
        let audit = audit_entry(actor, request_id, "ensemble.create", new.id, details);
        Ok(self.repo.create(actor, &new, &audit)?)
    }

    /// A page of the tenant's ensembles, newest first.
    ///
    /// # Errors
    /// A bad cursor (invalid), storage failures.
    pub fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>, EnsembleError> {
        Ok(self.repo.list(actor, page)?)
    }

    /// Registers an agent (audited); the weights are renormalised as a new version.
    ///
    /// # Errors
    /// Invalid input, an unknown ensemble (`NotFound`), an agent registered already
    /// (`Conflict` from the repository), storage failures.
    pub fn register_agent(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        ensemble_id: Uuid,
        input: RegisterAgent,
    ) -> Result<Registered, EnsembleError> {
        let mut issues = Issues::default();
        if let Some(m) = agent_name_issue(&input.agent_id) {
            issues.fail("agent_id", m);
        }
        if let Some(m) = agent_name_issue(&input.agent_type) {
            issues.fail("agent_type", m);
        }
        let weight = input.initial_weight.unwrap_or(1.0);
        if !(weight.is_finite() && weight > 0.0 && weight <= MAX_INITIAL_WEIGHT) {
            issues.fail(
                "initial_weight",
                format!("must be greater than 0 and at most {MAX_INITIAL_WEIGHT}"),
            );
        }
        issues.finish()?;
        let registration = AgentRegistration {
            agent_id: input.agent_id,
            agent_type: input.agent_type,
        };
        let details = json!({
            "agent_id": registration.agent_id,
            "agent_type": registration.agent_type,
            "initial_weight": weight,
        });
        let audit = audit_entry(
            actor,
            request_id,
            "ensemble.register_agent",
            ensemble_id,
            details,
        );
        Ok(self
            .repo
            .register_agent(actor, ensemble_id, &registration, weight, &audit)?)
    }

    /// Combines the signals by the ensemble's method and stores the prediction, its inputs
    /// (also into `agent_signals`) and the symbol's latest close (audited).
    ///
    /// # Errors
    /// Invalid input or a signal of an agent not registered in the ensemble (invalid), an
    /// unknown ensemble (`NotFound`), storage failures.
    pub fn predict(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        ensemble_id: Uuid,
        input: Predict,
    ) -> Result<StoredPrediction, EnsembleError> {
        let mut issues = Issues::default();
        let symbol = Symbol::parse(&input.symbol);
        if let Err(e) = &symbol {
            issues.fail("symbol", e.message.clone());
        }
        if input.signals.is_empty() || input.signals.len() > MAX_SIGNALS {
            issues.fail("signals", format!("must hold 1 to {MAX_SIGNALS} signals"));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in input.signals.iter().enumerate() {
            if s.agent_id.is_empty() {
                issues.fail(format!("signals[{i}].agent_id"), "must not be empty");
            } else if !seen.insert(s.agent_id.as_str()) {
                issues.fail(
                    format!("signals[{i}].agent_id"),
                    "duplicate: one signal per agent",
                );
            }
            if !(s.signal.is_finite() && (-1.0..=1.0).contains(&s.signal)) {
                issues.fail(format!("signals[{i}].signal"), "must be between -1 and 1");
            }
            if !(s.confidence.is_finite() && (0.0..=1.0).contains(&s.confidence)) {
                issues.fail(
                    format!("signals[{i}].confidence"),
                    "must be between 0 and 1",
                );
            }
        }
        issues.finish()?;
        let symbol = symbol.map_err(|e| invalid("symbol", e.message))?;

        let (ensemble, agents) = self.repo.agents(actor, ensemble_id)?;
        let by_id: HashMap<&str, &EnsembleAgent> =
            agents.iter().map(|a| (a.agent_id.as_str(), a)).collect();
        let mut issues = Issues::default();
        let mut inputs = Vec::with_capacity(input.signals.len());
        for (i, s) in input.signals.iter().enumerate() {
            match by_id.get(s.agent_id.as_str()) {
                Some(agent) => inputs.push((
                    SignalInput {
                        agent_id: s.agent_id.clone(),
                        agent_type: agent.agent_type.clone(),
                        signal: s.signal,
                        confidence: s.confidence,
                    },
                    agent.weight,
                )),
                None => issues.fail(
                    format!("signals[{i}].agent_id"),
                    format!("agent {:?} is not registered in this ensemble", s.agent_id),
                ),
            }
        }
        issues.finish()?;

        let combined = combine(ensemble.method, &inputs);
        let price_at = self
            .market
            .latest_closes(actor, std::slice::from_ref(&symbol))?
            .get(&symbol)
            .copied();
        let prediction = NewPrediction {
            id: Uuid::new_v4(),
            ensemble_id,
            symbol,
            inputs: inputs.into_iter().map(|(s, _)| s).collect(),
            prediction: combined.prediction,
            confidence: combined.confidence,
            contributions: combined.contributions,
            weights_version: ensemble.weights_version,
            price_at,
        };
        let details = json!({
            "prediction_id": prediction.id,
            "symbol": prediction.symbol,
            "prediction": prediction.prediction,
            "confidence": prediction.confidence,
            "signals": prediction.inputs.len(),
            "weights_version": prediction.weights_version,
        });
        let audit = audit_entry(actor, request_id, "ensemble.predict", ensemble_id, details);
        Ok(self.repo.record_prediction(actor, &prediction, &audit)?)
    }

    /// The ensemble's current weights (sum to 1).
    ///
    /// # Errors
    /// An unknown ensemble (`NotFound`), storage failures.
    pub fn weights(&self, actor: &Actor, ensemble_id: Uuid) -> Result<Weights, EnsembleError> {
        let (ensemble, agents) = self.repo.agents(actor, ensemble_id)?;
        Ok(Weights {
            version: ensemble.weights_version,
            weights: weights_of(&agents),
        })
    }

    /// Daily closes of `symbols`, far enough back for signals since `oldest`.
    fn closes(
        &self,
        actor: &Actor,
        symbols: BTreeSet<Symbol>,
        oldest: Option<DateTime<Utc>>,
    ) -> Result<HashMap<Symbol, Closes>, EnsembleError> {
        let Some(oldest) = oldest else {
            return Ok(HashMap::new());
        };
        let days = (Utc::now() - oldest).num_days().max(0) + CANDLE_MARGIN_DAYS;
        let limit = u32::try_from(days.clamp(2, MAX_CANDLES)).unwrap_or(2);
        let mut out = HashMap::with_capacity(symbols.len());
        for symbol in symbols {
            let candles = self.market.daily_candles(actor, &symbol, limit)?;
            out.insert(symbol, Closes::from_candles(&candles));
        }
        Ok(out)
    }

    fn prediction_closes(
        &self,
        actor: &Actor,
        predictions: &[StoredPrediction],
    ) -> Result<HashMap<Symbol, Closes>, EnsembleError> {
        let symbols = predictions.iter().map(|p| p.symbol.clone()).collect();
        let oldest = predictions.iter().map(|p| p.created_at).min();
        self.closes(actor, symbols, oldest)
    }

    /// Each agent's outcomes in `predictions`, by agent id.
    fn agent_outcomes(
        predictions: &[StoredPrediction],
        closes: &HashMap<Symbol, Closes>,
    ) -> (Vec<Outcome>, HashMap<String, Vec<Outcome>>) {
        let mut ensemble = Vec::with_capacity(predictions.len());
        let mut agents: HashMap<String, Vec<Outcome>> = HashMap::new();
        for p in predictions {
            let realised = closes
                .get(&p.symbol)
                .and_then(|c| c.realised_return(p.created_at));
            ensemble.push(Outcome {
                signal: p.prediction,
                confidence: p.confidence,
                realised,
            });
            for s in &p.inputs {
                agents.entry(s.agent_id.clone()).or_default().push(Outcome {
                    signal: s.signal,
                    confidence: s.confidence,
                    realised,
                });
            }
        }
        (ensemble, agents)
    }

    /// Hit rate, accuracy and directional returns of the ensemble and of each active agent
    /// over the newest `lookback` predictions (1..=5000, default 500).
    ///
    /// # Errors
    /// A bad lookback (invalid), an unknown ensemble (`NotFound`), storage failures.
    pub fn performance(
        &self,
        actor: &Actor,
        ensemble_id: Uuid,
        lookback: Option<i64>,
    ) -> Result<EnsemblePerformance, EnsembleError> {
        let lookback = parse_lookback(lookback, PERFORMANCE_LOOKBACK)?;
        let (ensemble, agents) = self.repo.agents(actor, ensemble_id)?;
        let predictions = self.repo.predictions(actor, ensemble_id, lookback)?;
        let closes = self.prediction_closes(actor, &predictions)?;
        let (own, mut by_agent) = Self::agent_outcomes(&predictions, &closes);
        let weights = weights_of(&agents);
        let agents = agents
            .into_iter()
            .map(|a| AgentPerformance {
                weight: weights.get(&a.agent_id).copied().unwrap_or(0.0),
                metrics: evaluate(&by_agent.remove(&a.agent_id).unwrap_or_default()),
                agent_id: a.agent_id,
                agent_type: a.agent_type,
            })
            .collect();
        Ok(EnsemblePerformance {
            method: ensemble.method,
            lookback,
            ensemble: evaluate(&own),
            agents,
        })
    }

    /// Computes new weights from the newest `lookback` predictions and stores them as the
    /// next version (audited).
    ///
    /// # Errors
    /// A bad method or lookback (invalid), an unknown ensemble (`NotFound`), an ensemble
    /// without agents or whose weights changed meanwhile (conflict), storage failures.
    pub fn optimize_weights(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        ensemble_id: Uuid,
        input: OptimizeWeights,
    ) -> Result<Optimized, EnsembleError> {
        let mut issues = Issues::default();
        let method = OptimizeMethod::parse_field(&input.method);
        if let Err(e) = &method {
            issues.fail("method", e.message.clone());
        }
        let window = parse_lookback(input.lookback, OPTIMIZE_LOOKBACK);
        if let Err(EnsembleError::Invalid(found)) = &window {
            issues.0.extend(found.iter().cloned());
        }
        issues.finish()?;
        let method = method.map_err(|e| invalid("method", e.message))?;
        let window = window?;

        let (ensemble, agents) = self.repo.agents(actor, ensemble_id)?;
        if agents.is_empty() {
            return Err(EnsembleError::Conflict(
                "The ensemble has no registered agents".to_owned(),
            ));
        }
        let predictions = self.repo.predictions(actor, ensemble_id, window)?;
        let closes = self.prediction_closes(actor, &predictions)?;
        let (_, by_agent) = Self::agent_outcomes(&predictions, &closes);
        let histories: Vec<Vec<f64>> = agents
            .iter()
            .map(|a| {
                by_agent
                    .get(&a.agent_id)
                    .map(|o| o.iter().filter_map(Outcome::directional_return).collect())
                    .unwrap_or_default()
            })
            .collect();
        let ids: Vec<String> = agents.iter().map(|a| a.agent_id.clone()).collect();
        let weights: BTreeMap<String, f64> = ids
            .iter()
            .cloned()
            .zip(optimize(method, &histories))
            .collect();
        let scores = ids
            .iter()
            .cloned()
            .zip(histories.iter().map(|h| score(h)))
            .collect();
        let evaluated = ids
            .iter()
            .cloned()
            .zip(
                histories
                    .iter()
                    .map(|h| u32::try_from(h.len()).unwrap_or(u32::MAX)),
            )
            .collect();
        let details = json!({
            "method": method,
            "lookback": window,
            "base_version": ensemble.weights_version,
            "weights": weights,
        });
        let audit = audit_entry(
            actor,
            request_id,
            "ensemble.optimize_weights",
            ensemble_id,
            details,
        );
        let update = WeightUpdate {
            base_version: ensemble.weights_version,
            source: method.source(),
            weights: weights.clone(),
        };
        let version = self.repo.set_weights(actor, ensemble_id, &update, &audit)?;
        tracing::info!(%ensemble_id, %method, version, "ensemble weights optimised");
        Ok(Optimized {
            method,
            lookback: window,
            version,
            weights,
            previous_weights: weights_of(&agents),
            scores,
            evaluated,
        })
    }

    /// The tenant's registered agents ranked by hit rate, then average directional return,
    /// over the tenant's newest `lookback` agent signals (1..=20000, default 5000). Agents
    /// without evaluated signals come last.
    ///
    /// # Errors
    /// A bad lookback (invalid), storage failures.
    pub fn agent_rankings(
        &self,
        actor: &Actor,
        lookback: Option<i64>,
    ) -> Result<Vec<AgentRanking>, EnsembleError> {
        let window = parse_lookback(lookback, RANKINGS_LOOKBACK)?;
        let agents = self.repo.tenant_agents(actor)?;
        let signals = self.repo.recent_signals(actor, window)?;
        let registered: BTreeSet<&str> = agents.iter().map(|a| a.agent_id.as_str()).collect();
        let signals: Vec<_> = signals
            .into_iter()
            .filter(|s| registered.contains(s.agent_id.as_str()))
            .collect();
        let symbols = signals.iter().map(|s| s.symbol.clone()).collect();
        let oldest = signals.iter().map(|s| s.created_at).min();
        let closes = self.closes(actor, symbols, oldest)?;
        let mut outcomes: HashMap<&str, Vec<Outcome>> = HashMap::new();
        for s in &signals {
            outcomes
                .entry(s.agent_id.as_str())
                .or_default()
                .push(Outcome {
                    signal: s.signal,
                    confidence: s.confidence,
                    realised: closes
                        .get(&s.symbol)
                        .and_then(|c| c.realised_return(s.created_at)),
                });
        }
        let mut rows: Vec<AgentRanking> = agents
            .iter()
            .map(|a| AgentRanking {
                rank: 0,
                agent_id: a.agent_id.clone(),
                agent_type: a.agent_type.clone(),
                ensembles: a.ensembles,
                metrics: evaluate(
                    outcomes
                        .get(a.agent_id.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                ),
            })
            .collect();
        let key = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
        rows.sort_by(|a, b| {
            key(b.metrics.hit_rate)
                .total_cmp(&key(a.metrics.hit_rate))
                .then(key(b.metrics.avg_return).total_cmp(&key(a.metrics.avg_return)))
                .then(b.metrics.evaluated.cmp(&a.metrics.evaluated))
                .then(a.agent_id.cmp(&b.agent_id))
        });
        for (i, row) in rows.iter_mut().enumerate() {
            row.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests;
