//! AlphaPulse AI-agent ensembles: agents registered with weights send signals in `-1..=1`
//! with a confidence in `0..=1`; an ensemble combines them into one prediction, stores it
//! with its inputs, and later scores agents and ensemble against realised returns from the
//! stored daily closes; weights can be re-optimised from that performance and are versioned.
//!
//! - [`combine`](mod@combine): `weighted_average`, `majority_vote`, `confidence_weighted`;
//! - [`performance`]: realised returns, hit rate, accuracy, directional returns;
//! - [`optimize`](mod@optimize): `performance` (softmax with a floor), `inverse_variance`, `equal`;
//! - [`service`]: [`EnsembleService`] over the `EnsembleRepo` and `MarketDataRepo` ports
//!   (validation, audit entries, orchestration).
//!
//! Pure functions and ports only: no database or HTTP in this crate.
#![deny(missing_docs)]

pub mod combine;
pub mod optimize;
pub mod performance;
pub mod service;

pub use combine::{combine, Combined};
pub use optimize::{optimize, OptimizeMethod, WEIGHT_FLOOR};
pub use performance::{evaluate, Closes, Metrics, Outcome};
pub use service::{
    AgentPerformance, AgentRanking, CreateEnsemble, EnsembleError, EnsemblePerformance,
    EnsembleService, FieldIssue, OptimizeWeights, Optimized, Predict, RegisterAgent, SignalIn,
    Weights,
};

/// `-1`, `0` or `+1` (unlike `f64::signum`, `0` for zero; `0` for NaN).
pub fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_of_zero_is_zero() {
        assert_eq!(
            (sign(0.3), sign(-2.0), sign(0.0), sign(-0.0)),
            (1.0, -1.0, 0.0, 0.0)
        );
        assert_eq!(sign(f64::NAN), 0.0);
    }
}
