//! Realised outcomes: loading the stored daily closes the signals need and pairing each
//! signal (the ensemble's and each agent's) with the return realised after it. Shared by the
//! performance report, the rankings and the optimisation.

use std::collections::{BTreeSet, HashMap};

use alphapulse_domain::{
    ports::{Actor, StoredPrediction},
    Symbol,
};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;

use super::{EnsembleError, EnsembleService};
use crate::performance::{Closes, Outcome};

/// Daily candles loaded beyond the age of the oldest signal (room for later closes).
const CANDLE_MARGIN_DAYS: i64 = 30;
/// Most daily candles loaded per symbol.
const MAX_CANDLES: i64 = 5000;

impl EnsembleService {
    /// Daily closes of `symbols`, far enough back for signals since `oldest`.
    pub(super) fn closes(
        &self,
        actor: &Actor,
        symbols: BTreeSet<Symbol>,
        oldest: Option<DateTime<Utc>>,
    ) -> Result<HashMap<Symbol, Closes>, EnsembleError> {
        let Some(oldest) = oldest else {
            return Ok(HashMap::new());
        };
        let days = (Utc::now() - oldest).num_days().max(0) + CANDLE_MARGIN_DAYS;
        let since = (Utc::now() - Duration::days(days.clamp(2, MAX_CANDLES))).date_naive();
        let symbols: Vec<Symbol> = symbols.into_iter().collect();
        // One query for every symbol (not one transaction per symbol).
        let closes = self.market.daily_closes(actor, &symbols, since)?;
        Ok(closes
            .into_iter()
            .map(|(symbol, days)| {
                let days = days
                    .into_iter()
                    .filter_map(|(day, close)| Some((day, close.to_f64()?)))
                    .collect();
                (symbol, Closes::new(days))
            })
            .collect())
    }

    /// Daily closes of the predictions' symbols, back to the oldest prediction.
    pub(super) fn prediction_closes(
        &self,
        actor: &Actor,
        predictions: &[StoredPrediction],
    ) -> Result<HashMap<Symbol, Closes>, EnsembleError> {
        let symbols = predictions.iter().map(|p| p.symbol.clone()).collect();
        let oldest = predictions.iter().map(|p| p.created_at).min();
        self.closes(actor, symbols, oldest)
    }

    /// Each agent's outcomes in `predictions`, by agent id.
    pub(super) fn agent_outcomes(
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
}
