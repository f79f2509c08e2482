//! The Gaussian HMM against references that share no code with it: the normal density written
//! out in this file, every state path enumerated here in probability space (not log space),
//! and values worked by hand in the comments. `hmm.rs` checks forward and Viterbi against
//! `path_log_probability`, which reuses the library's own emission densities; these tests
//! would still fail if that density were wrong.

use std::f64::consts::PI;

use alphapulse_regime::{FitConfig, FittedHmm, GaussianHmm};

/// `N(x; mean, var) = exp(-(x - mean)² / (2 var)) / sqrt(2 π var)`.
fn normal_density(x: f64, mean: f64, var: f64) -> f64 {
    (-(x - mean).powi(2) / (2.0 * var)).exp() / (2.0 * PI * var).sqrt()
}

/// The diagonal multivariate density: the product of the per-feature densities.
fn diagonal_density(x: &[f64], mean: &[f64], var: &[f64]) -> f64 {
    x.iter()
        .zip(mean)
        .zip(var)
        .map(|((x, m), v)| normal_density(*x, *m, *v))
        .product()
}

/// `P(obs, path) = π(s0) b_s0(x0) Π_t a(s_{t-1}, s_t) b_st(x_t)`, in probability space.
fn joint_probability(model: &FittedHmm, obs: &[Vec<f64>], path: &[usize]) -> f64 {
    let b = |t: usize| {
        diagonal_density(
            &obs[t],
            &model.means()[path[t]],
            &model.variances()[path[t]],
        )
    };
    let mut p = model.initial()[path[0]] * b(0);
    for t in 1..obs.len() {
        p *= model.transition()[path[t - 1]][path[t]] * b(t);
    }
    p
}

/// Every path of `t` steps over `k` states.
fn all_paths(k: usize, t: usize) -> Vec<Vec<usize>> {
    let mut paths = vec![vec![]];
    for _ in 0..t {
        paths = paths
            .into_iter()
            .flat_map(|p| {
                (0..k).map(move |s| {
                    let mut q = p.clone();
                    q.push(s);
                    q
                })
            })
            .collect();
    }
    paths
}

#[test]
fn one_observation_of_one_state_has_the_normal_log_density() {
    // One state, one day: ln P(x) = ln N(x; mean, var), nothing else.
    // x = 1.5, mean 0.5, var 4: ln N = -(1.5 - 0.5)² / (2·4) - ½ ln(2π·4)
    //                                = -0.125 - ½ ln(8π) = -0.125 - ½·3.224171427529236
    //                                = -1.737085713764618.
    let one_d =
        FittedHmm::new(vec![1.0], vec![vec![1.0]], vec![vec![0.5]], vec![vec![4.0]]).unwrap();
    let ll = one_d.log_likelihood(&[[1.5]]).unwrap();
    assert!((ll - -1.737_085_713_764_618).abs() < 1e-12, "{ll}");
    assert!((ll - normal_density(1.5, 0.5, 4.0).ln()).abs() < 1e-12);

    // Two features: the densities multiply. Second feature x = -0.5, mean -1, var 0.25:
    // N = exp(-0.25 / 0.5) / sqrt(2π·0.25) = exp(-0.5) / sqrt(π/2) = 0.6065306597 / 1.2533141373
    //   = 0.48394144903828673.
    let two_d = FittedHmm::new(
        vec![1.0],
        vec![vec![1.0]],
        vec![vec![0.5, -1.0]],
        vec![vec![4.0, 0.25]],
    )
    .unwrap();
    let ll = two_d.log_likelihood(&[[1.5, -0.5]]).unwrap();
    let expected = -1.737_085_713_764_618 + 0.483_941_449_038_286_73_f64.ln();
    assert!((ll - expected).abs() < 1e-12, "{ll} vs {expected}");
}

/// Two states with means 0 and 1 and variance 1/(2π): then `N(x; m, 1/(2π)) = exp(-π (x-m)²)`,
/// which is 1 at the mean and `q = e^-π` one unit away.
fn unit_density_model() -> FittedHmm {
    let var = 1.0 / (2.0 * PI);
    FittedHmm::new(
        vec![0.6, 0.4],
        vec![vec![0.9, 0.1], vec![0.2, 0.8]],
        vec![vec![0.0], vec![1.0]],
        vec![vec![var], vec![var]],
    )
    .unwrap()
}

#[test]
fn likelihood_viterbi_and_posteriors_worked_by_hand() {
    // Observations 0, 0, 1. Emissions b_state(x): b0(0) = 1, b1(0) = q, b0(1) = q, b1(1) = 1.
    // The eight paths (π · b · a · b · a · b):
    //   000: 0.6·1 · 0.9·1 · 0.9·q = 0.486 q      100: 0.4q · 0.2·1 · 0.9·q = 0.072 q²
    //   001: 0.6·1 · 0.9·1 · 0.1·1 = 0.054        101: 0.4q · 0.2·1 · 0.1·1 = 0.008 q
    //   010: 0.6·1 · 0.1·q · 0.2·q = 0.012 q²     110: 0.4q · 0.8·q · 0.2·q = 0.064 q³
    //   011: 0.6·1 · 0.1·q · 0.8·1 = 0.048 q      111: 0.4q · 0.8·q · 0.8·1 = 0.256 q²
    // P(obs) = 0.054 + 0.542 q + 0.340 q² + 0.064 q³ = 0.078062038996869... (q = 0.0432139...).
    // The forward pass gives the same: α0 = (0.6, 0.4q), α1 = (0.54 + 0.08q, 0.06q + 0.32q²),
    // α2 = ((0.486 + 0.084q + 0.064q²) q, 0.054 + 0.056q + 0.256q²), summed.
    let model = unit_density_model();
    let obs = [[0.0], [0.0], [1.0]];
    let q = (-PI).exp();
    let p = 0.054 + 0.542 * q + 0.340 * q * q + 0.064 * q.powi(3);
    assert!((p - 0.078_062_038_996_869_78).abs() < 1e-15);
    let ll = model.log_likelihood(&obs).unwrap();
    assert!((ll - p.ln()).abs() < 1e-12, "forward {ll} vs {}", p.ln());

    // The best path is 001 (0.054 against 0.486 q = 0.021 for 000): stay in the state whose
    // mean is observed.
    let (path, score) = model.viterbi_with_score(&obs).unwrap();
    assert_eq!(path, vec![0, 0, 1]);
    assert!((score - 0.054_f64.ln()).abs() < 1e-12, "{score}");

    // P(s2 = 1 | obs): the paths ending in 1 are 001, 011, 101, 111:
    // (0.054 + 0.048q + 0.008q + 0.256q²) / P = 0.72888237987698...
    let post = model.posteriors(&obs).unwrap();
    let last = (0.054 + 0.056 * q + 0.256 * q * q) / p;
    assert!((post[2][1] - last).abs() < 1e-12, "{:?}", post[2]);
    assert!((post[2][1] - 0.728_882_379_876_985_5).abs() < 1e-12);
    // P(s0 = 0 | obs): paths starting with 0 (000, 001, 010, 011) over P.
    let first = (0.486 * q + 0.054 + 0.012 * q * q + 0.048 * q) / p;
    assert!((post[0][0] - first).abs() < 1e-12, "{:?}", post[0]);
}

#[test]
fn two_features_four_days_against_every_path() {
    // Unequal variances on both features and an asymmetric chain, so a wrong normalising
    // constant, a swapped transition index or a missing ½ changes the answer.
    let model = FittedHmm::new(
        vec![0.3, 0.7],
        vec![vec![0.75, 0.25], vec![0.4, 0.6]],
        vec![vec![0.0, 1.0], vec![1.5, -0.5]],
        vec![vec![0.5, 2.0], vec![1.2, 0.3]],
    )
    .unwrap();
    let obs = vec![
        vec![0.2, 0.4],
        vec![1.1, -0.2],
        vec![1.9, 0.1],
        vec![-0.3, 1.5],
    ];
    let paths = all_paths(2, obs.len());
    assert_eq!(paths.len(), 16);
    let joint: Vec<f64> = paths
        .iter()
        .map(|p| joint_probability(&model, &obs, p))
        .collect();
    let total: f64 = joint.iter().sum();

    let ll = model.log_likelihood(&obs).unwrap();
    assert!(
        (ll - total.ln()).abs() < 1e-12,
        "forward {ll} vs {}",
        total.ln()
    );

    let best = (0..paths.len())
        .max_by(|a, b| joint[*a].total_cmp(&joint[*b]))
        .unwrap();
    let (path, score) = model.viterbi_with_score(&obs).unwrap();
    assert_eq!(path, paths[best]);
    assert!((score - joint[best].ln()).abs() < 1e-12, "{score}");
    // The library's own path score agrees with the written-out one on every path.
    for (p, j) in paths.iter().zip(&joint) {
        let lp = model.path_log_probability(&obs, p).unwrap();
        assert!(
            (lp - j.ln()).abs() < 1e-12,
            "path {p:?}: {lp} vs {}",
            j.ln()
        );
    }

    let post = model.posteriors(&obs).unwrap();
    for (t, row) in post.iter().enumerate() {
        for (k, p) in row.iter().enumerate() {
            let expected: f64 = paths
                .iter()
                .zip(&joint)
                .filter(|(path, _)| path[t] == k)
                .map(|(_, j)| j)
                .sum::<f64>()
                / total;
            assert!(
                (p - expected).abs() < 1e-12,
                "t={t} k={k}: {p} vs {expected}"
            );
        }
    }
}

#[test]
fn one_state_fit_is_the_sample_mean_and_variance() {
    // With one state there is nothing hidden: the maximum-likelihood fit is the sample mean
    // and the population variance. Data 2, 4, 4, 4, 5, 5, 7, 9: mean 40 / 8 = 5; squared
    // deviations 9, 1, 1, 1, 0, 0, 4, 16 sum to 32, variance 32 / 8 = 4. The log-likelihood of
    // a Gaussian at its MLE is -(T/2)(ln(2π σ²) + 1) = -4 (ln(8π) + 1) = -16.896685710116945.
    let obs = [[2.0], [4.0], [4.0], [4.0], [5.0], [5.0], [7.0], [9.0]];
    let fitted = GaussianHmm::fit(
        &obs,
        &FitConfig {
            n_states: 1,
            restarts: 1,
            ..FitConfig::default()
        },
    )
    .unwrap();
    assert!((fitted.means()[0][0] - 5.0).abs() < 1e-12);
    assert!((fitted.variances()[0][0] - 4.0).abs() < 1e-12);
    assert_eq!(fitted.initial(), &[1.0]);
    assert_eq!(fitted.transition(), &[vec![1.0]]);
    let ll = fitted.log_likelihood(&obs).unwrap();
    assert!((ll - -16.896_685_710_116_945).abs() < 1e-9, "{ll}");
    assert!(fitted.report().converged);
}

#[test]
fn baum_welch_on_two_separated_clusters_has_the_closed_form_answer() {
    // Ten days, two clusters 50 apart:
    //   day    0   1  2  3   4   5   6   7  8   9
    //   x     -1   1  0  49  51  50  -2  2  50  50
    //   state  A   A  A  B   B   B   A   A  B   B
    // A wrong state is at least e^-600 less likely than the right one on every day, so the
    // E-step posteriors are 0/1 and the M-step has the hard-assignment answer:
    // - means: A = (-1 + 1 + 0 - 2 + 2) / 5 = 0; B = (49 + 51 + 50 + 50 + 50) / 5 = 50.
    // - variances (population): A = (1 + 1 + 0 + 4 + 4) / 5 = 2; B = (1 + 1 + 0 + 0 + 0) / 5 =
    //   0.4, under the floor: variance_floor (1e-3) × the variance of all ten values. Their mean
    //   is 25 and their squared deviations sum to 3135 (A) + 3127 (B) = 6262, so the variance
    //   is 626.2 and the floor 0.6262, which B gets.
    // - transitions, counted over the nine steps: A→A 3 (0-1, 1-2, 6-7), A→B 2 (2-3, 7-8),
    //   B→B 3 (3-4, 4-5, 8-9), B→A 1 (5-6): rows (3/5, 2/5) and (1/4, 3/4).
    // - initial: day 0 is A, so (1, 0), with the 0 floored at 1e-12.
    // These parameters reproduce the same posteriors, so EM stops on them; states are sorted
    // by mean, A first.
    let xs = [-1.0, 1.0, 0.0, 49.0, 51.0, 50.0, -2.0, 2.0, 50.0, 50.0];
    let states = [0, 0, 0, 1, 1, 1, 0, 0, 1, 1];
    let obs: Vec<Vec<f64>> = xs.iter().map(|x| vec![*x]).collect();
    let fitted = GaussianHmm::fit(&obs, &FitConfig::default()).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(fitted.means()[0][0], 0.0), "{:?}", fitted.means());
    assert!(close(fitted.means()[1][0], 50.0), "{:?}", fitted.means());
    assert!(
        close(fitted.variances()[0][0], 2.0),
        "{:?}",
        fitted.variances()
    );
    assert!(
        close(fitted.variances()[1][0], 0.6262),
        "{:?}",
        fitted.variances()
    );
    let t = fitted.transition();
    assert!(
        close(t[0][0], 0.6) && close(t[0][1], 0.4) && close(t[1][0], 0.25) && close(t[1][1], 0.75),
        "{t:?}"
    );
    assert!(close(fitted.initial()[0], 1.0), "{:?}", fitted.initial());
    assert!(fitted.initial()[1] > 0.0 && fitted.initial()[1] < 1e-11);
    assert!(fitted.report().converged);
    assert_eq!(fitted.viterbi(&obs).unwrap(), states.to_vec());

    // Its log-likelihood is that of the labelled path (every other path is e^-600 behind),
    // written out: ln π(A) + Σ ln a + Σ ln N(x_t; mean, variance of the day's state).
    let (means, vars) = ([0.0, 50.0], [2.0, 0.6262]);
    let transition = [[0.6, 0.4], [0.25, 0.75]];
    let mut expected = (1.0_f64 / (1.0 + 1e-12)).ln();
    for (day, (x, s)) in xs.iter().zip(states).enumerate() {
        expected += normal_density(*x, means[s], vars[s]).ln();
        if day > 0 {
            expected += f64::ln(transition[states[day - 1]][s]);
        }
    }
    let ll = fitted.log_likelihood(&obs).unwrap();
    assert!((ll - expected).abs() < 1e-9, "{ll} vs {expected}");
}
