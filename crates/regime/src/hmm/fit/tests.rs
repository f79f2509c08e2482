//! Baum-Welch internals: the M-step on hand-given posteriors, the probability floor, config
//! validation, state sorting, initialisation and the EM loop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::{collection::vec, prelude::*};

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A two-state, one-feature model whose parameters the M-step must overwrite (or keep).
fn previous() -> FittedHmm {
    FittedHmm::new(
        vec![0.5, 0.5],
        vec![vec![0.5, 0.5], vec![0.3, 0.7]],
        vec![vec![9.0], vec![9.0]],
        vec![vec![9.0], vec![9.0]],
    )
    .unwrap()
}

#[test]
fn m_step_weighs_every_day_by_its_posterior() {
    // Days x = 0, 2, 4 with posteriors (state 0, state 1) = (1, 0), (½, ½), (0, 1):
    // - state 0: weight 1.5, mean (1·0 + ½·2) / 1.5 = 2/3,
    //   variance (1·(0 - 2/3)² + ½·(2 - 2/3)²) / 1.5 = (4/9 + 8/9) / 1.5 = 8/9;
    // - state 1: weight 1.5, mean (½·2 + 1·4) / 1.5 = 10/3,
    //   variance (½·(2 - 10/3)² + 1·(4 - 10/3)²) / 1.5 = (8/9 + 4/9) / 1.5 = 8/9;
    // - transitions from expected counts ξ = [[½, 1], [0, ½]]: rows (1/3, 2/3) and (0, 1), the
    //   0 floored at PROB_FLOOR and the row renormalised;
    // - initial: day 0's posterior (1, 0), floored likewise.
    let data = Obs::new(&[[0.0], [2.0], [4.0]], None).unwrap();
    let stats = EStep {
        gamma: vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0],
        xi: vec![vec![0.5, 1.0], vec![0.0, 0.5]],
        loglik: 0.0,
    };
    let next = previous().m_step(&data, &stats, &[1e-12]);
    assert!(close(next.means[0][0], 2.0 / 3.0), "{:?}", next.means);
    assert!(close(next.means[1][0], 10.0 / 3.0), "{:?}", next.means);
    assert!(
        close(next.variances[0][0], 8.0 / 9.0),
        "{:?}",
        next.variances
    );
    assert!(
        close(next.variances[1][0], 8.0 / 9.0),
        "{:?}",
        next.variances
    );
    assert!(close(next.transition[0][0], 1.0 / 3.0) && close(next.transition[0][1], 2.0 / 3.0));
    let floored = PROB_FLOOR / (1.0 + PROB_FLOOR);
    assert!(close(next.transition[1][0], floored) && close(next.transition[1][1], 1.0 - floored));
    assert!(close(next.initial[0], 1.0 - floored) && close(next.initial[1], floored));
    assert_eq!(next.report, FitReport::default());
}

#[test]
fn m_step_floors_variances_and_keeps_dead_states() {
    // Every day belongs to state 0 and all three are equal: its variance would be 0 and is
    // floored; state 1 has no weight at all, so it keeps its mean, variance and transition row.
    let data = Obs::new(&[[1.0], [1.0], [1.0]], None).unwrap();
    let stats = EStep {
        gamma: vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        xi: vec![vec![2.0, 0.0], vec![0.0, 0.0]],
        loglik: 0.0,
    };
    let next = previous().m_step(&data, &stats, &[0.25]);
    assert!(close(next.means[0][0], 1.0));
    assert!(
        close(next.variances[0][0], 0.25),
        "floored: {:?}",
        next.variances
    );
    assert_eq!((next.means[1][0], next.variances[1][0]), (9.0, 9.0));
    assert_eq!(next.transition[1], vec![0.3, 0.7]);
    // A weight just under the dead-state threshold is dead too.
    let stats = EStep {
        gamma: vec![
            1.0,
            DEAD_STATE_WEIGHT / 4.0,
            1.0,
            DEAD_STATE_WEIGHT / 4.0,
            1.0,
            0.0,
        ],
        ..stats
    };
    let next = previous().m_step(&data, &stats, &[0.25]);
    assert_eq!((next.means[1][0], next.variances[1][0]), (9.0, 9.0));
}

#[test]
fn floored_distribution_normalises_and_floors() {
    assert_eq!(floored_distribution(&[2.0, 6.0]), vec![0.25, 0.75]);
    assert_eq!(floored_distribution(&[0.0, 0.0, 0.0, 0.0]), vec![0.25; 4]);
    let p = floored_distribution(&[1.0, 0.0]);
    assert!(
        p[1] > 0.0 && close(p[1], PROB_FLOOR / (1.0 + PROB_FLOOR)),
        "{p:?}"
    );
    assert!(close(p[0] + p[1], 1.0));
}

proptest! {
    #[test]
    fn floored_distributions_are_distributions_with_no_zero(weights in vec(0.0_f64..100.0, 1..8)) {
        let p = floored_distribution(&weights);
        prop_assert_eq!(p.len(), weights.len());
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // At least the floor, up to the renormalisation by at most 1 + K·PROB_FLOOR.
        prop_assert!(p.iter().all(|x| *x >= PROB_FLOOR / (1.0 + 8.0 * PROB_FLOOR)), "{:?}", p);
        // The order of the weights is kept.
        for i in 0..p.len() {
            for j in 0..p.len() {
                if weights[i] < weights[j] {
                    prop_assert!(p[i] <= p[j]);
                }
            }
        }
    }
}

#[test]
fn validate_config_rejects_each_nonsense_setting() {
    let ok = FitConfig::default();
    assert_eq!(validate_config(&ok), Ok(()));
    for bad in [
        FitConfig { n_states: 0, ..ok },
        FitConfig { restarts: 0, ..ok },
        FitConfig { tol: -1e-4, ..ok },
        FitConfig {
            tol: f64::NAN,
            ..ok
        },
        FitConfig {
            tol: f64::INFINITY,
            ..ok
        },
        FitConfig {
            variance_floor: 0.0,
            ..ok
        },
        FitConfig {
            variance_floor: f64::NAN,
            ..ok
        },
    ] {
        assert!(
            matches!(validate_config(&bad), Err(HmmError::InvalidConfig(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        validate_config(&FitConfig {
            tol: 0.0,
            max_iter: 0,
            ..ok
        }),
        Ok(())
    );
}

#[test]
fn sorting_by_first_mean_permutes_every_parameter_consistently() {
    // Means 2, 0, 1: the sorted order is old states 1, 2, 0.
    let model = FittedHmm::new(
        vec![0.2, 0.3, 0.5],
        vec![
            vec![0.1, 0.2, 0.7],
            vec![0.3, 0.3, 0.4],
            vec![0.6, 0.25, 0.15],
        ],
        vec![vec![2.0, 5.0], vec![0.0, 3.0], vec![1.0, 4.0]],
        vec![vec![0.2, 1.0], vec![0.3, 1.5], vec![0.4, 2.0]],
    )
    .unwrap();
    let sorted = model.clone().sorted_by_first_mean();
    let order = [1, 2, 0];
    for (new, old) in order.iter().enumerate() {
        assert_eq!(sorted.initial[new], model.initial[*old]);
        assert_eq!(sorted.means[new], model.means[*old]);
        assert_eq!(sorted.variances[new], model.variances[*old]);
        for (new_j, old_j) in order.iter().enumerate() {
            assert_eq!(
                sorted.transition[new][new_j],
                model.transition[*old][*old_j]
            );
        }
    }
    // Relabelling states does not change what the model says about data.
    let obs = [[0.5, 3.5], [1.8, 4.9], [0.1, 2.0], [1.1, 4.2]];
    let (a, b) = (
        model.log_likelihood(&obs).unwrap(),
        sorted.log_likelihood(&obs).unwrap(),
    );
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

/// Ten days, two clusters (around 0 and 50).
fn two_clusters() -> Obs {
    let xs = [-1.0, 1.0, 0.0, 49.0, 51.0, 50.0, -2.0, 2.0, 50.0, 50.0];
    let rows: Vec<[f64; 1]> = xs.iter().map(|x| [*x]).collect();
    Obs::new(&rows, None).unwrap()
}

#[test]
fn initialisation_finds_the_clusters_and_starts_sticky() {
    let data = two_clusters();
    let var = data.variances();
    let floor = vec![var[0] * 1e-3];
    for seed in 0..5 {
        let model = initialise(&data, 2, &var, &floor, &mut ChaCha8Rng::seed_from_u64(seed));
        // k-means++ then Lloyd: the centres are the cluster means 0 and 50 (in either order),
        // the variances the clusters' (A: 2; B: 0.4, floored at 1e-3 × 626.2).
        let mut states: Vec<(f64, f64)> = model
            .means
            .iter()
            .zip(&model.variances)
            .map(|(m, v)| (m[0], v[0]))
            .collect();
        states.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            close(states[0].0, 0.0) && close(states[1].0, 50.0),
            "seed {seed}: {states:?}"
        );
        assert!(
            close(states[0].1, 2.0) && close(states[1].1, 0.6262),
            "seed {seed}: {states:?}"
        );
        assert_eq!(model.initial, vec![0.5, 0.5]);
        // Stay with 0.9, leave with (1 - 0.9) / (K - 1).
        let expected = [[0.9, 0.1], [0.1, 0.9]];
        for (row, want) in model.transition.iter().zip(expected) {
            assert!(
                close(row[0], want[0]) && close(row[1], want[1]),
                "{:?}",
                model.transition
            );
        }
    }
    // The same stream gives the same start.
    let a = initialise(&data, 2, &var, &floor, &mut ChaCha8Rng::seed_from_u64(3));
    let b = initialise(&data, 2, &var, &floor, &mut ChaCha8Rng::seed_from_u64(3));
    assert_eq!(a, b);
    // One state: it never leaves itself, and its centre is the overall mean (25).
    let one = initialise(&data, 1, &var, &floor, &mut ChaCha8Rng::seed_from_u64(0));
    assert_eq!(one.transition, vec![vec![1.0]]);
    assert!(close(one.means[0][0], 25.0) && close(one.variances[0][0], 626.2));
}

#[test]
fn initialisation_of_identical_points_keeps_positive_variances() {
    let rows = [[3.0]; 6];
    let data = Obs::new(&rows, None).unwrap();
    let var = data.variances();
    let floor = vec![(var[0] * 1e-3).max(1e-12)];
    let model = initialise(&data, 3, &var, &floor, &mut ChaCha8Rng::seed_from_u64(1));
    assert!(model.means.iter().all(|m| m[0] == 3.0));
    assert!(
        model.variances.iter().all(|v| v[0] >= 1e-12),
        "{:?}",
        model.variances
    );
}

#[test]
fn em_history_is_monotone_and_stops_on_tol_or_max_iter() {
    // A start away from the answer: both centres inside cluster A.
    let data = two_clusters();
    let floor = [data.variances()[0] * 1e-3];
    let start = FittedHmm::new(
        vec![0.5, 0.5],
        vec![vec![0.9, 0.1], vec![0.1, 0.9]],
        vec![vec![-1.0], vec![1.0]],
        vec![vec![1.0], vec![1.0]],
    )
    .unwrap();
    let config = FitConfig::default();
    let (model, ll) = run_em(start.clone(), &data, &config, &floor).unwrap();
    let report = &model.report;
    assert_eq!(report.log_likelihood_history.len(), report.iterations + 1);
    assert!(report.converged && report.iterations < config.max_iter);
    assert_eq!(report.log_likelihood_history.last(), Some(&ll));
    assert!(report
        .log_likelihood_history
        .windows(2)
        .all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()));
    // The final gain is below tol, every earlier one at least tol.
    let gains: Vec<f64> = report
        .log_likelihood_history
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    assert!(gains.last().is_some_and(|g| *g < config.tol));
    assert!(gains[..gains.len() - 1].iter().all(|g| *g >= config.tol));

    // No iterations allowed: the start comes back, scored, not converged.
    let capped = FitConfig {
        max_iter: 0,
        ..config
    };
    let (same, ll0) = run_em(start.clone(), &data, &capped, &floor).unwrap();
    assert_eq!(
        (
            same.means.clone(),
            same.report.iterations,
            same.report.converged
        ),
        (start.means.clone(), 0, false)
    );
    assert_eq!(same.report.log_likelihood_history, vec![ll0]);
    let rows: Vec<&[f64]> = data.rows().collect();
    assert!((ll0 - start.log_likelihood(&rows).unwrap()).abs() < 1e-12);
}

#[test]
fn fit_keeps_the_best_restart_and_reports_all_of_them() {
    let rows: Vec<[f64; 1]> = (0..60)
        .map(|i| [f64::from(i % 7) + if i % 13 < 6 { 20.0 } else { 0.0 }])
        .collect();
    let config = FitConfig {
        n_states: 3,
        restarts: 5,
        ..FitConfig::default()
    };
    let fitted = GaussianHmm::fit(&rows, &config).unwrap();
    let lls: Vec<f64> = fitted
        .report
        .restart_log_likelihoods
        .iter()
        .map(|l| l.unwrap())
        .collect();
    assert_eq!(lls.len(), 5);
    let best = lls.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let own = fitted.log_likelihood(&rows).unwrap();
    assert!(
        (own - best).abs() < 1e-9,
        "{own} vs best restart {best} of {lls:?}"
    );
}
