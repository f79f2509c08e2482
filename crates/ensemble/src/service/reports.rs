//! Reports: an ensemble's performance (the ensemble's and each agent's metrics) and the
//! tenant's agent rankings, scored against the realised returns of the stored closes.

use std::collections::{BTreeSet, HashMap};

use alphapulse_domain::ports::Actor;
use uuid::Uuid;

use super::{
    limits::{PERFORMANCE_LOOKBACK, RANKINGS_LOOKBACK},
    validation::parse_lookback,
    weights::weights_of,
    AgentPerformance, AgentRanking, EnsembleError, EnsemblePerformance, EnsembleService,
};
use crate::performance::{evaluate, Outcome};

impl EnsembleService {
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
