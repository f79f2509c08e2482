//! Weight optimisation from each agent's recent directional returns (see
//! [`crate::performance`]). Every method answers non-negative weights summing to 1 (within
//! 1e-9) for any history, including empty ones:
//!
//! - `performance`: softmax of each agent's risk-adjusted score (mean / standard deviation of
//!   its directional returns, the deviation floored at [`MIN_STD`] so that one return or
//!   identical returns still score, clamped to ±[`MAX_SCORE`]; 0 without returns), then
//!   every weight raised to at least [`WEIGHT_FLOOR`] and renormalised;
//! - `inverse_variance`: proportional to `1 / variance` of the directional returns; agents
//!   with fewer than 2 returns get the mean variance of the others (equal weights when no
//!   agent has 2);
//! - `equal`: `1 / n`.

use alphapulse_domain::ports::WeightSource;
use serde::{Deserialize, Serialize};

use alphapulse_domain::ports::normalise_weights;

use crate::performance::mean_std;

/// Minimum weight of the `performance` method before the final renormalisation.
pub const WEIGHT_FLOOR: f64 = 0.05;
/// Bound of a risk-adjusted score (keeps the softmax from saturating on tiny deviations).
pub const MAX_SCORE: f64 = 5.0;
/// Smallest standard deviation of a score (0.1 % per prediction).
pub const MIN_STD: f64 = 1e-3;
/// Smallest variance used by `inverse_variance` (keeps `1 / variance` finite).
pub const MIN_VARIANCE: f64 = 1e-12;

/// How new weights are computed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
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
pub enum OptimizeMethod {
    /// Softmax of recent risk-adjusted performance, with a floor.
    Performance,
    /// Inverse variance of the directional returns.
    InverseVariance,
    /// Equal weights.
    Equal,
}

impl alphapulse_domain::TextEnum for OptimizeMethod {
    const FIELD: &'static str = "method";
}

impl OptimizeMethod {
    /// The weight-history source this method records.
    pub fn source(self) -> WeightSource {
        match self {
            OptimizeMethod::Performance => WeightSource::Performance,
            OptimizeMethod::InverseVariance => WeightSource::InverseVariance,
            OptimizeMethod::Equal => WeightSource::Equal,
        }
    }
}

/// The risk-adjusted score of one agent's directional returns: mean / max(std, [`MIN_STD`])
/// clamped to ±[`MAX_SCORE`] (a single return counts with the floor deviation); 0 without
/// (finite) returns.
pub fn score(returns: &[f64]) -> f64 {
    let clean: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
    let (Some(mean), std) = mean_std(&clean) else {
        return 0.0;
    };
    let std = std.filter(|s| !s.is_nan()).unwrap_or(0.0);
    let s = mean / std.max(MIN_STD);
    if s.is_nan() {
        0.0
    } else {
        s.clamp(-MAX_SCORE, MAX_SCORE)
    }
}

fn variance(returns: &[f64]) -> Option<f64> {
    let clean: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
    let (_, std) = mean_std(&clean);
    std.map(|s| s * s).filter(|v| v.is_finite())
}

/// New weights, one per history (an agent's recent directional returns), in order.
pub fn optimize(method: OptimizeMethod, histories: &[Vec<f64>]) -> Vec<f64> {
    let n = histories.len();
    if n == 0 {
        return Vec::new();
    }
    match method {
        OptimizeMethod::Equal => normalise_weights(&vec![1.0; n]),
        OptimizeMethod::Performance => {
            let scores: Vec<f64> = histories.iter().map(|h| score(h)).collect();
            let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exp: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
            let floored: Vec<f64> = normalise_weights(&exp)
                .into_iter()
                .map(|w| w.max(WEIGHT_FLOOR))
                .collect();
            normalise_weights(&floored)
        }
        OptimizeMethod::InverseVariance => {
            let variances: Vec<Option<f64>> = histories.iter().map(|h| variance(h)).collect();
            let known: Vec<f64> = variances.iter().flatten().copied().collect();
            if known.is_empty() {
                return normalise_weights(&vec![1.0; n]);
            }
            let fallback = known.iter().sum::<f64>() / known.len() as f64;
            let precision: Vec<f64> = variances
                .iter()
                .map(|v| {
                    let v = v.unwrap_or(fallback);
                    if v.is_finite() {
                        1.0 / v.max(MIN_VARIANCE)
                    } else {
                        0.0
                    }
                })
                .collect();
            normalise_weights(&precision)
        }
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::TextEnum;
    use proptest::prelude::*;

    use super::*;

    fn sums_to_one(w: &[f64]) -> bool {
        (w.iter().sum::<f64>() - 1.0).abs() <= 1e-9
    }

    #[test]
    fn equal_is_one_over_n() {
        assert_eq!(
            optimize(OptimizeMethod::Equal, &[vec![], vec![0.1], vec![]]),
            vec![1.0 / 3.0; 3]
        );
        assert!(optimize(OptimizeMethod::Performance, &[]).is_empty());
    }

    #[test]
    fn performance_prefers_the_better_risk_adjusted_agent_and_keeps_the_floor() {
        // a: +1 %, +3 % → mean 0.02, std 0.01414 → score 1.414
        // b: −1 %, −3 % → score −1.414;  c: no history → score 0.
        let w = optimize(
            OptimizeMethod::Performance,
            &[vec![0.01, 0.03], vec![-0.01, -0.03], vec![]],
        );
        assert!(w[0] > w[2] && w[2] > w[1], "{w:?}");
        assert!(sums_to_one(&w));
        // softmax: e^1.414 : e^−1.414 : e^0 = 4.113 : 0.243 : 1 → b ≈ 0.0454 < 0.05, so it
        // is floored to 0.05 before the renormalisation (≥ 0.05 / 1.0046 afterwards).
        assert!(w[1] > 0.049, "{w:?}");
    }

    #[test]
    fn scores_by_hand() {
        // No returns: neutral. One return of +0.05 %: 0.0005 / 0.001 (floor) = 0.5.
        assert_eq!(score(&[]), 0.0);
        assert!((score(&[0.0005]) - 0.5).abs() < 1e-12);
        // One return of +10 %: 100, clamped to 5; identical losses: −5.
        assert_eq!(score(&[0.1]), MAX_SCORE);
        assert_eq!(score(&[-0.1, -0.1]), -MAX_SCORE);
        // +1 %, +3 %: mean 0.02 / std 0.0141 = √2.
        assert!((score(&[0.01, 0.03]) - 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn inverse_variance_by_hand() {
        // a: ±1 % around 0 → var = 0.0002; b: ±2 % → var = 0.0008 (4 × a).
        // precision 5000 : 1250 → weights 0.8 : 0.2. c (one return) takes the mean variance
        // 0.0005 → precision 2000: weights 5000 : 1250 : 2000 over 8250.
        let w = optimize(
            OptimizeMethod::InverseVariance,
            &[vec![0.01, -0.01], vec![0.02, -0.02]],
        );
        assert!(
            (w[0] - 0.8).abs() < 1e-9 && (w[1] - 0.2).abs() < 1e-9,
            "{w:?}"
        );
        let w = optimize(
            OptimizeMethod::InverseVariance,
            &[vec![0.01, -0.01], vec![0.02, -0.02], vec![0.5]],
        );
        assert!((w[2] - 2000.0 / 8250.0).abs() < 1e-9, "{w:?}");
    }

    fn history() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(
            prop_oneof![
                -1.0f64..1.0,
                -1e6f64..1e6,
                Just(0.0),
                Just(f64::MAX),
                Just(f64::MIN),
                Just(f64::MIN_POSITIVE),
                Just(f64::NAN),
                Just(f64::INFINITY),
            ],
            0..40,
        )
    }

    proptest! {
        #[test]
        fn weights_are_non_negative_and_sum_to_one(
            histories in prop::collection::vec(history(), 1..16),
        ) {
            for &method in OptimizeMethod::ALL {
                let w = optimize(method, &histories);
                prop_assert_eq!(w.len(), histories.len());
                prop_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "{method}: {w:?}");
                prop_assert!(sums_to_one(&w), "{method}: sum {}", w.iter().sum::<f64>());
                if method == OptimizeMethod::Performance {
                    // The floor survives the renormalisation (the floored sum is at most
                    // 1 + n · floor).
                    let min = WEIGHT_FLOOR / (1.0 + WEIGHT_FLOOR * w.len() as f64);
                    prop_assert!(w.iter().all(|x| *x >= min - 1e-12), "{w:?}");
                }
            }
        }
    }
}
