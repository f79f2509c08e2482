//! Calibration of an ensemble's confidence: Platt scaling fitted on the ensemble's past
//! decisions and whether their direction turned out right.
//!
//! Platt scaling models `P(hit | f) = 1 / (1 + exp(A·f + B))` for the raw confidence `f` and
//! fits `A`, `B` by maximum likelihood with Platt's smoothed targets (`(N₊+1)/(N₊+2)` for
//! hits, `1/(N₋+2)` for misses, so a small sample never yields 0 or 1), by Newton's method
//! with backtracking (Lin, Lin & Weng, "A note on Platt's probabilistic outputs for support
//! vector machines", 2007). Until there are [`MIN_OUTCOMES`] realised outcomes the raw
//! confidence is used as is.

use serde::Serialize;

/// Realised outcomes needed before a fitted calibration replaces the raw confidence.
pub const MIN_OUTCOMES: usize = 30;

const MAX_ITER: usize = 100;
const MIN_STEP: f64 = 1e-10;
const SIGMA: f64 = 1e-12;

/// An ensemble's calibration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Calibration {
    /// Too few outcomes: the raw confidence is the probability.
    Raw {
        /// Realised outcomes available.
        outcomes: usize,
    },
    /// A fitted sigmoid.
    Platt {
        /// Slope (negative when higher confidence means more hits).
        a: f64,
        /// Offset.
        b: f64,
        /// Outcomes fitted on.
        outcomes: usize,
    },
}

impl Calibration {
    /// The calibrated probability of `raw` (clamped to `[0, 1]`), and whether a fitted
    /// calibration produced it.
    pub fn apply(&self, raw: f64) -> (f64, bool) {
        let raw = if raw.is_finite() {
            raw.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match *self {
            Calibration::Raw { .. } => (raw, false),
            Calibration::Platt { a, b, .. } => {
                let p = sigmoid_neg(a * raw + b);
                (
                    if p.is_finite() {
                        p.clamp(0.0, 1.0)
                    } else {
                        raw
                    },
                    true,
                )
            }
        }
    }

    /// Outcomes it rests on.
    pub fn outcomes(&self) -> usize {
        match *self {
            Calibration::Raw { outcomes } | Calibration::Platt { outcomes, .. } => outcomes,
        }
    }
}

/// `1 / (1 + exp(x))`, computed without overflow.
fn sigmoid_neg(x: f64) -> f64 {
    if x >= 0.0 {
        let e = (-x).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + x.exp())
    }
}

/// Negative log-likelihood of `(A, B)` for targets `t` (stable for large `|A·f + B|`).
fn objective(samples: &[(f64, f64)], a: f64, b: f64) -> f64 {
    samples
        .iter()
        .map(|&(f, t)| {
            let x = f * a + b;
            if x >= 0.0 {
                t * x + (-x).exp().ln_1p()
            } else {
                (t - 1.0) * x + x.exp().ln_1p()
            }
        })
        .sum()
}

/// Fits a calibration to `(raw confidence, hit)` samples; [`Calibration::Raw`] below
/// [`MIN_OUTCOMES`] samples or if the fit does not produce finite parameters.
pub fn fit(samples: &[(f64, bool)]) -> Calibration {
    let n = samples.len();
    if n < MIN_OUTCOMES {
        return Calibration::Raw { outcomes: n };
    }
    let positives = samples.iter().filter(|(_, y)| *y).count() as f64;
    let negatives = n as f64 - positives;
    let hi = (positives + 1.0) / (positives + 2.0);
    let lo = 1.0 / (negatives + 2.0);
    let data: Vec<(f64, f64)> = samples
        .iter()
        .map(|&(f, y)| (if f.is_finite() { f } else { 0.0 }, if y { hi } else { lo }))
        .collect();
    let mut a = 0.0;
    let mut b = ((negatives + 1.0) / (positives + 1.0)).ln();
    let mut fval = objective(&data, a, b);
    for _ in 0..MAX_ITER {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (SIGMA, SIGMA, 0.0, 0.0, 0.0);
        for &(f, t) in &data {
            // p = P(hit) under the current parameters, q = 1 - p.
            let p = sigmoid_neg(f * a + b);
            let q = 1.0 - p;
            let d2 = p * q;
            h11 += f * f * d2;
            h22 += d2;
            h21 += f * d2;
            let d1 = t - p;
            g1 += f * d1;
            g2 += d1;
        }
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= MIN_STEP {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(&data, na, nb);
            if nf < fval + 1e-4 * step * gd {
                (a, b, fval) = (na, nb, nf);
                break;
            }
            step /= 2.0;
        }
        if step < MIN_STEP {
            break;
        }
    }
    if a.is_finite() && b.is_finite() {
        Calibration::Platt { a, b, outcomes: n }
    } else {
        Calibration::Raw { outcomes: n }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn too_few_outcomes_keep_the_raw_confidence() {
        let c = fit(&[(0.9, true); MIN_OUTCOMES - 1]);
        assert_eq!(c, Calibration::Raw { outcomes: 29 });
        assert_eq!(c.apply(0.87), (0.87, false));
    }

    #[test]
    fn one_confidence_level_calibrates_to_the_smoothed_hit_rate() {
        // 30 hits and 10 misses, all at confidence 0.95. Only A·0.95 + B is identified and
        // the likelihood is maximal where the model equals the mean target:
        // hits target (30+1)/(30+2) = 0.96875, misses 1/(10+2) = 0.08333;
        // mean = (30 × 0.96875 + 10 × 0.08333) / 40 = (29.0625 + 0.8333) / 40 = 0.74740.
        let mut samples = vec![(0.95, true); 30];
        samples.extend(vec![(0.95, false); 10]);
        let c = fit(&samples);
        let (p, fitted) = c.apply(0.95);
        assert!(fitted);
        assert!((p - 0.747_40).abs() < 1e-4, "{p}");
    }

    #[test]
    fn overconfident_ensembles_are_pulled_down_and_order_is_kept() {
        // Says 0.9 but is right 60 % of the time; says 0.6 and is right 40 %.
        let mut samples = Vec::new();
        for i in 0..50 {
            samples.push((0.9, i % 10 < 6));
            samples.push((0.6, i % 10 < 4));
        }
        let c = fit(&samples);
        let (high, _) = c.apply(0.9);
        let (low, _) = c.apply(0.6);
        // Two levels, two parameters: the fit reproduces the smoothed rates
        // (30 hits of 50 → close to 0.6; 20 of 50 → close to 0.4).
        assert!((high - 0.6).abs() < 0.02, "{high}");
        assert!((low - 0.4).abs() < 0.02, "{low}");
        assert!(matches!(c, Calibration::Platt { a, .. } if a < 0.0));
    }

    proptest! {
        #[test]
        fn calibrated_probabilities_are_probabilities_and_monotone(
            samples in proptest::collection::vec((0.0f64..=1.0, any::<bool>()), 30..120),
            x in 0.0f64..=1.0,
            y in 0.0f64..=1.0,
        ) {
            let c = fit(&samples);
            let (px, _) = c.apply(x);
            let (py, _) = c.apply(y);
            prop_assert!((0.0..=1.0).contains(&px));
            // A sigmoid of a line is monotone in its input.
            if let Calibration::Platt { a, .. } = c {
                if (x - y) * a < 0.0 { prop_assert!(px >= py - 1e-12); }
                if (x - y) * a > 0.0 { prop_assert!(px <= py + 1e-12); }
            }
        }
    }
}
