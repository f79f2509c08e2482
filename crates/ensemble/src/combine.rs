//! Combining the agents' signals into one prediction.
//!
//! The weights used are the stored weights of the agents that sent a signal, renormalised to
//! sum to 1 over those agents (equal weights if they are all zero).
//!
//! - `weighted_average`: `p = Σ wᵢ sᵢ / Σ wᵢ`, confidence `Σ wᵢ cᵢ / Σ wᵢ`;
//! - `majority_vote`: each agent votes `sign(sᵢ)` with its weight; `p = sign(Σ wᵢ sign(sᵢ))`
//!   (`0` on a tie), confidence = the weight share of the agents whose vote equals `p`;
//! - `confidence_weighted`: `p = Σ wᵢ cᵢ sᵢ / Σ wᵢ cᵢ` (`0` when every confidence is 0),
//!   confidence `Σ wᵢ cᵢ / Σ wᵢ`.

use alphapulse_domain::ports::{Contribution, EnsembleMethod, SignalInput};

use alphapulse_domain::ports::normalise_weights;

use crate::sign;

/// A combined prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    /// The combined signal, `-1..=1`.
    pub prediction: f64,
    /// Its confidence, `0..=1`.
    pub confidence: f64,
    /// Each agent's term, in input order.
    pub contributions: Vec<Contribution>,
}

/// Below this magnitude a weighted vote count is a tie.
const TIE: f64 = 1e-12;

/// Combines `inputs` (each signal with its agent's stored weight) by `method`.
pub fn combine(method: EnsembleMethod, inputs: &[(SignalInput, f64)]) -> Combined {
    if inputs.is_empty() {
        return Combined {
            prediction: 0.0,
            confidence: 0.0,
            contributions: Vec::new(),
        };
    }
    let raw: Vec<f64> = inputs.iter().map(|(_, w)| *w).collect();
    let weights = normalise_weights(&raw);
    let mean_confidence: f64 = inputs
        .iter()
        .zip(&weights)
        .map(|((s, _), w)| w * s.confidence)
        .sum();
    let (terms, prediction, confidence): (Vec<f64>, f64, f64) = match method {
        EnsembleMethod::WeightedAverage => {
            let terms: Vec<f64> = inputs
                .iter()
                .zip(&weights)
                .map(|((s, _), w)| w * s.signal)
                .collect();
            let p = terms.iter().sum();
            (terms, p, mean_confidence)
        }
        EnsembleMethod::MajorityVote => {
            let terms: Vec<f64> = inputs
                .iter()
                .zip(&weights)
                .map(|((s, _), w)| w * sign(s.signal))
                .collect();
            let net: f64 = terms.iter().sum();
            let p = if net.abs() < TIE { 0.0 } else { sign(net) };
            let share = inputs
                .iter()
                .zip(&weights)
                .filter(|((s, _), _)| sign(s.signal) == p)
                .map(|(_, w)| w)
                .sum();
            (terms, p, share)
        }
        EnsembleMethod::ConfidenceWeighted => {
            let denominator = mean_confidence;
            if denominator <= 0.0 {
                (vec![0.0; inputs.len()], 0.0, 0.0)
            } else {
                let terms: Vec<f64> = inputs
                    .iter()
                    .zip(&weights)
                    .map(|((s, _), w)| w * s.confidence * s.signal / denominator)
                    .collect();
                let p = terms.iter().sum();
                (terms, p, mean_confidence)
            }
        }
    };
    let contributions = inputs
        .iter()
        .zip(&weights)
        .zip(terms)
        .map(|(((s, _), w), term)| Contribution {
            agent_id: s.agent_id.clone(),
            agent_type: s.agent_type.clone(),
            signal: s.signal,
            confidence: s.confidence,
            weight: *w,
            contribution: term,
        })
        .collect();
    Combined {
        prediction: finite_or_zero(prediction).clamp(-1.0, 1.0),
        confidence: finite_or_zero(confidence).clamp(0.0, 1.0),
        contributions,
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn input(agent: &str, signal: f64, confidence: f64, weight: f64) -> (SignalInput, f64) {
        (
            SignalInput {
                agent_id: agent.to_owned(),
                agent_type: "technical".to_owned(),
                signal,
                confidence,
            },
            weight,
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn weighted_average_by_hand() {
        // Weights 0.5, 0.3, 0.2 (sum 1); signals 0.8, -0.4, 0.1; confidences 0.9, 0.6, 0.5.
        // p = 0.5·0.8 + 0.3·(−0.4) + 0.2·0.1 = 0.40 − 0.12 + 0.02 = 0.30
        // confidence = 0.5·0.9 + 0.3·0.6 + 0.2·0.5 = 0.45 + 0.18 + 0.10 = 0.73
        let c = combine(
            EnsembleMethod::WeightedAverage,
            &[
                input("a", 0.8, 0.9, 0.5),
                input("b", -0.4, 0.6, 0.3),
                input("c", 0.1, 0.5, 0.2),
            ],
        );
        assert!(close(c.prediction, 0.30), "{}", c.prediction);
        assert!(close(c.confidence, 0.73), "{}", c.confidence);
        let terms: Vec<f64> = c.contributions.iter().map(|x| x.contribution).collect();
        assert!(close(terms[0], 0.40) && close(terms[1], -0.12) && close(terms[2], 0.02));
    }

    #[test]
    fn weighted_average_renormalises_over_the_agents_that_sent_a_signal() {
        // Stored weights 0.2 and 0.2 (a third agent with 0.6 sent nothing):
        // renormalised 0.5 / 0.5, p = 0.5·1.0 + 0.5·(−0.5) = 0.25.
        let c = combine(
            EnsembleMethod::WeightedAverage,
            &[input("a", 1.0, 1.0, 0.2), input("b", -0.5, 1.0, 0.2)],
        );
        assert!(close(c.prediction, 0.25));
        assert!(close(c.contributions[0].weight, 0.5));
    }

    #[test]
    fn majority_vote_by_hand() {
        // Votes: a +1 (w 0.2), b +1 (w 0.3), c −1 (w 0.5, strongest single agent).
        // Weighted count: 0.2 + 0.3 − 0.5 = 0 → tie → p = 0, and no agent voted 0, so the
        // winning share is 0.
        let tie = combine(
            EnsembleMethod::MajorityVote,
            &[
                input("a", 0.1, 0.5, 0.2),
                input("b", 0.9, 0.5, 0.3),
                input("c", -0.2, 0.5, 0.5),
            ],
        );
        assert_eq!(tie.prediction, 0.0);
        assert_eq!(tie.confidence, 0.0);

        // Votes: a +1 (w 0.25), b +1 (w 0.25), c −1 (w 0.4), d 0 (w 0.1).
        // Count: 0.25 + 0.25 − 0.4 + 0 = 0.1 > 0 → p = +1; winning share = 0.25 + 0.25 = 0.5.
        let up = combine(
            EnsembleMethod::MajorityVote,
            &[
                input("a", 0.1, 0.5, 0.25),
                input("b", 0.3, 0.5, 0.25),
                input("c", -1.0, 0.5, 0.4),
                input("d", 0.0, 0.5, 0.1),
            ],
        );
        assert_eq!(up.prediction, 1.0);
        assert!(close(up.confidence, 0.5), "{}", up.confidence);
        assert!(close(up.contributions[2].contribution, -0.4));

        // Unweighted (equal) majority: two of three agents short → p = −1, share 2/3.
        let down = combine(
            EnsembleMethod::MajorityVote,
            &[
                input("a", -0.1, 0.5, 1.0),
                input("b", -0.9, 0.5, 1.0),
                input("c", 0.7, 0.5, 1.0),
            ],
        );
        assert_eq!(down.prediction, -1.0);
        assert!(close(down.confidence, 2.0 / 3.0));
    }

    #[test]
    fn confidence_weighted_by_hand() {
        // Weights 0.5, 0.5; signals 1.0, −1.0; confidences 0.9, 0.3.
        // Σ wᵢcᵢ = 0.45 + 0.15 = 0.60
        // p = (0.5·0.9·1 + 0.5·0.3·(−1)) / 0.60 = (0.45 − 0.15) / 0.60 = 0.5
        // confidence = Σ wᵢcᵢ / Σ wᵢ = 0.60
        let c = combine(
            EnsembleMethod::ConfidenceWeighted,
            &[input("a", 1.0, 0.9, 0.5), input("b", -1.0, 0.3, 0.5)],
        );
        assert!(close(c.prediction, 0.5), "{}", c.prediction);
        assert!(close(c.confidence, 0.6), "{}", c.confidence);
        assert!(close(c.contributions[0].contribution, 0.75));
        assert!(close(c.contributions[1].contribution, -0.25));

        // Every confidence 0: no information → p = 0, confidence 0.
        let none = combine(
            EnsembleMethod::ConfidenceWeighted,
            &[input("a", 1.0, 0.0, 0.5), input("b", -1.0, 0.0, 0.5)],
        );
        assert_eq!((none.prediction, none.confidence), (0.0, 0.0));
    }

    #[test]
    fn zero_weights_fall_back_to_equal_and_empty_input_is_neutral() {
        let c = combine(
            EnsembleMethod::WeightedAverage,
            &[input("a", 1.0, 1.0, 0.0), input("b", 0.0, 1.0, 0.0)],
        );
        assert!(close(c.prediction, 0.5));
        let empty = combine(EnsembleMethod::MajorityVote, &[]);
        assert_eq!((empty.prediction, empty.confidence), (0.0, 0.0));
    }

    /// Any stored weight, including the ones a bug or a manual edit could leave behind.
    fn raw_weight() -> impl Strategy<Value = f64> {
        prop_oneof![
            0.0f64..1.0,
            0.0f64..1e9,
            -1e6f64..0.0,
            Just(0.0),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
        ]
    }

    fn sums_to_one(w: &[f64]) -> bool {
        (w.iter().sum::<f64>() - 1.0).abs() <= 1e-9
    }

    proptest! {
        #[test]
        fn normalised_weights_are_non_negative_and_sum_to_one(
            raw in prop::collection::vec(raw_weight(), 1..32),
        ) {
            let w = normalise_weights(&raw);
            prop_assert_eq!(w.len(), raw.len());
            prop_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "{:?} -> {:?}", raw, w);
            prop_assert!(sums_to_one(&w), "{:?} -> sum {}", raw, w.iter().sum::<f64>());
            // Entries that count as nothing (negative, zero, not finite) get nothing, unless
            // nothing counts (then all are equal).
            let counts = |x: &f64| x.is_finite() && *x > 0.0;
            if raw.iter().any(counts) {
                for (r, x) in raw.iter().zip(&w) {
                    if !counts(r) {
                        prop_assert_eq!(*x, 0.0, "{:?} -> {:?}", raw, w);
                    }
                }
            } else {
                let equal = 1.0 / raw.len() as f64;
                prop_assert!(w.iter().all(|x| (x - equal).abs() <= 1e-12), "{:?}", w);
            }
        }

        #[test]
        fn every_method_combines_with_weights_that_sum_to_one(
            agents in prop::collection::vec(
                (-1.0f64..=1.0, 0.0f64..=1.0, raw_weight()),
                1..16,
            ),
        ) {
            let inputs: Vec<(SignalInput, f64)> = agents
                .iter()
                .enumerate()
                .map(|(i, (signal, confidence, weight))| {
                    input(&format!("a{i}"), *signal, *confidence, *weight)
                })
                .collect();
            for method in [
                EnsembleMethod::WeightedAverage,
                EnsembleMethod::MajorityVote,
                EnsembleMethod::ConfidenceWeighted,
            ] {
                let c = combine(method, &inputs);
                prop_assert_eq!(c.contributions.len(), inputs.len());
                let w: Vec<f64> = c.contributions.iter().map(|x| x.weight).collect();
                prop_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "{:?}: {:?}", method, w);
                prop_assert!(sums_to_one(&w), "{:?}: sum {}", method, w.iter().sum::<f64>());
                // The weights used are the stored weights normalised, in input order.
                let raw: Vec<f64> = inputs.iter().map(|(_, w)| *w).collect();
                prop_assert_eq!(&w, &normalise_weights(&raw));
                prop_assert!((-1.0..=1.0).contains(&c.prediction), "{:?}: {}", method, c.prediction);
                prop_assert!((0.0..=1.0).contains(&c.confidence), "{:?}: {}", method, c.confidence);
            }
        }
    }
}
