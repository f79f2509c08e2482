//! An ensemble's weights: the current ones, and optimising them from the agents' recent
//! performance into the next version.

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{normalise_weights, Actor, EnsembleAgent, WeightUpdate},
    TextEnum,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::audit_entry,
    limits::OPTIMIZE_LOOKBACK,
    validation::{invalid, parse_lookback, Issues},
    EnsembleError, EnsembleService, OptimizeWeights, Optimized, Weights,
};
use crate::{
    optimize::{optimize, score, OptimizeMethod},
    performance::Outcome,
};

/// The agents' weights, normalised to sum to 1, by agent id.
pub(super) fn weights_of(agents: &[EnsembleAgent]) -> BTreeMap<String, f64> {
    let raw: Vec<f64> = agents.iter().map(|a| a.weight).collect();
    agents
        .iter()
        .map(|a| a.agent_id.clone())
        .zip(normalise_weights(&raw))
        .collect()
}

impl EnsembleService {
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
}
