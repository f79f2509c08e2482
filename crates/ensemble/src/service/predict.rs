//! Predicting: validating the signals, combining them by the ensemble's method, and storing
//! the prediction with its inputs and the symbol's latest close.

use std::collections::{BTreeSet, HashMap};

use alphapulse_domain::{
    ports::{Actor, EnsembleAgent, NewPrediction, SignalInput, StoredPrediction},
    Symbol,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    audit::audit_entry,
    limits::MAX_SIGNALS,
    validation::{invalid, Issues},
    EnsembleError, EnsembleService, Predict,
};
use crate::combine::combine;

impl EnsembleService {
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
        // An unknown ensemble (or another tenant's) is not found whatever the body says.
        let (ensemble, agents) = self.repo.agents(actor, ensemble_id)?;
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
}
