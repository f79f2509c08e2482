//! AlphaPulse AI-agent ensembles: agents registered with weights send signals in `-1..=1`
//! with a confidence in `0..=1`; an ensemble combines them into one prediction, stores it
//! with its inputs, and later scores agents and ensemble against realised returns from the
//! stored daily closes; weights can be re-optimised from that performance and are versioned.
//!
//! - [`combine`]: `weighted_average`, `majority_vote`, `confidence_weighted`;
//! - [`performance`]: realised returns, hit rate, accuracy, directional returns;
//! - [`optimize`]: `performance` (softmax with a floor), `inverse_variance`, `equal`;
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

/// Scales non-negative weights to sum to 1 (within 1e-9): negative and non-finite entries
/// count as 0, and all-zero input gives equal weights. Empty in, empty out.
pub fn normalise(raw: &[f64]) -> Vec<f64> {
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
    fn sign_of_zero_is_zero() {
        assert_eq!(
            (sign(0.3), sign(-2.0), sign(0.0), sign(-0.0)),
            (1.0, -1.0, 0.0, 0.0)
        );
        assert_eq!(sign(f64::NAN), 0.0);
    }

    #[test]
    fn normalise_handles_zeros_negatives_and_huge_values() {
        assert_eq!(normalise(&[0.0, 0.0]), vec![0.5, 0.5]);
        assert_eq!(normalise(&[-1.0, f64::NAN, 2.0]), vec![0.0, 0.0, 1.0]);
        let w = normalise(&[f64::MAX, f64::MAX, 1.0]);
        assert!((w.iter().sum::<f64>() - 1.0).abs() <= 1e-12 && (w[0] - 0.5).abs() < 1e-12);
        assert!(normalise(&[]).is_empty());
    }
}
