//! Evaluation internals against the normal density written out and values worked by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::PI;

use super::*;

#[test]
fn ln_2pi_is_the_logarithm_of_two_pi() {
    assert!((LN_2PI - (2.0 * PI).ln()).abs() < 1e-15);
}

#[test]
fn log_emissions_are_the_normal_log_density() {
    // One value by hand: x = 1.5 in a state with mean 0.5 and variance 4:
    // N = exp(-(1.5 - 0.5)² / (2·4)) / sqrt(2π·4) = exp(-0.125) / sqrt(8π)
    //   = 0.8824969025845955 / 5.0132565492620005 = 0.17603266338214976,
    // ln N = -1.737085713764618.
    let model = FittedHmm::new(
        vec![0.5, 0.5],
        vec![vec![0.5, 0.5]; 2],
        vec![vec![0.5, -1.0], vec![3.0, 2.0]],
        vec![vec![4.0, 0.25], vec![0.5, 9.0]],
    )
    .unwrap();
    let obs = [[1.5, -0.5], [-2.0, 4.0]];
    let data = Obs::new(&obs, Some(2)).unwrap();
    let logb = model.log_emissions(&data);
    assert_eq!(logb.len(), 4, "T×K");

    let density =
        |x: f64, m: f64, v: f64| (-(x - m).powi(2) / (2.0 * v)).exp() / (2.0 * PI * v).sqrt();
    let first_feature = density(1.5, 0.5, 4.0);
    assert!((first_feature - 0.176_032_663_382_149_76).abs() < 1e-15);
    assert!((first_feature.ln() - -1.737_085_713_764_618).abs() < 1e-12);
    // Diagonal covariance: the features' densities multiply, their logarithms add.
    for (t, x) in obs.iter().enumerate() {
        for k in 0..2 {
            let (m, v) = (&model.means()[k], &model.variances()[k]);
            let expected = (density(x[0], m[0], v[0]) * density(x[1], m[1], v[1])).ln();
            assert!(
                (logb[t * 2 + k] - expected).abs() < 1e-12,
                "t={t} k={k}: {} vs {expected}",
                logb[t * 2 + k]
            );
        }
    }
}

#[test]
fn observation_variances_are_population_variances() {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, 32 / 8 = 4 (not / 7).
    // Second column: 1, 1, ...: variance 0.
    let obs: Vec<[f64; 2]> = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
        .iter()
        .map(|x| [*x, 1.0])
        .collect();
    let data = Obs::new(&obs, None).unwrap();
    assert_eq!((data.t, data.d), (8, 2));
    let var = data.variances();
    assert!((var[0] - 4.0).abs() < 1e-12 && var[1] == 0.0, "{var:?}");
}

#[test]
fn e_step_expected_transitions_sum_to_the_number_of_steps() {
    // Σ_ij ξ_ij = Σ_t Σ_ij P(s_t = i, s_t+1 = j | obs) = T - 1, and each row of ξ sums to the
    // state's posterior mass over days 0..T-2.
    let model = FittedHmm::new(
        vec![0.3, 0.7],
        vec![vec![0.75, 0.25], vec![0.4, 0.6]],
        vec![vec![0.0], vec![1.5]],
        vec![vec![0.5], vec![1.2]],
    )
    .unwrap();
    let obs = [[0.2], [1.1], [1.9], [-0.3], [0.7]];
    let data = Obs::new(&obs, Some(1)).unwrap();
    let stats = model.e_step(&model.log_emissions(&data), true).unwrap();
    let total: f64 = stats.xi.iter().flatten().sum();
    assert!((total - 4.0).abs() < 1e-12, "{total}");
    for i in 0..2 {
        let row: f64 = stats.xi[i].iter().sum();
        let mass: f64 = (0..4).map(|t| stats.gamma[t * 2 + i]).sum();
        assert!((row - mass).abs() < 1e-12, "state {i}: {row} vs {mass}");
    }
    assert!((stats.loglik - model.log_likelihood(&obs).unwrap()).abs() < 1e-12);
}
