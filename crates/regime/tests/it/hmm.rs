//! Gaussian HMM: recovery of known states, forward-backward and Viterbi against brute force,
//! determinism and EM monotonicity.

use alphapulse_regime::{FitConfig, FittedHmm, GaussianHmm, HmmError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick(rng: &mut ChaCha8Rng, p: &[f64]) -> usize {
    let mut u: f64 = rng.gen();
    for (i, w) in p.iter().enumerate() {
        u -= w;
        if u < 0.0 {
            return i;
        }
    }
    p.len() - 1
}

/// Samples `t` observations and their states from `model`.
fn sample(model: &FittedHmm, t: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut state = pick(&mut rng, model.initial());
    let (mut obs, mut states) = (Vec::new(), Vec::new());
    for i in 0..t {
        if i > 0 {
            state = pick(&mut rng, &model.transition()[state]);
        }
        let x = model.means()[state]
            .iter()
            .zip(&model.variances()[state])
            .map(|(m, v)| m + v.sqrt() * normal(&mut rng))
            .collect();
        obs.push(x);
        states.push(state);
    }
    (obs, states)
}

fn random_distribution(rng: &mut ChaCha8Rng, k: usize) -> Vec<f64> {
    let w: Vec<f64> = (0..k).map(|_| rng.gen::<f64>() + 0.05).collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

fn random_model(rng: &mut ChaCha8Rng, k: usize, d: usize) -> FittedHmm {
    FittedHmm::new(
        random_distribution(rng, k),
        (0..k).map(|_| random_distribution(rng, k)).collect(),
        (0..k)
            .map(|_| (0..d).map(|_| rng.gen_range(-2.0..2.0)).collect())
            .collect(),
        (0..k)
            .map(|_| (0..d).map(|_| rng.gen_range(0.2..2.0)).collect())
            .collect(),
    )
    .unwrap()
}

fn permutations(k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(k - 1) {
        for pos in 0..=p.len() {
            let mut q = p.clone();
            q.insert(pos, k - 1);
            out.push(q);
        }
    }
    out
}

/// Share of days on which `path` matches `truth` under the best relabelling of states.
fn aligned_accuracy(path: &[usize], truth: &[usize], k: usize) -> f64 {
    permutations(k)
        .iter()
        .map(|perm| {
            path.iter()
                .zip(truth)
                .filter(|(p, t)| perm[**p] == **t)
                .count()
        })
        .max()
        .unwrap() as f64
        / truth.len() as f64
}

fn three_state_truth() -> FittedHmm {
    FittedHmm::new(
        vec![1.0 / 3.0; 3],
        vec![
            vec![0.95, 0.03, 0.02],
            vec![0.03, 0.95, 0.02],
            vec![0.04, 0.04, 0.92],
        ],
        vec![vec![-2.0, 0.0], vec![0.0, 2.0], vec![2.5, -1.0]],
        vec![vec![0.5, 0.6], vec![0.7, 0.5], vec![0.6, 0.8]],
    )
    .unwrap()
}

#[test]
fn fit_recovers_well_separated_states() {
    for (truth, t, seed) in [
        (three_state_truth(), 600, 1),
        (
            FittedHmm::new(
                vec![0.5, 0.5],
                vec![vec![0.97, 0.03], vec![0.05, 0.95]],
                vec![vec![-1.5], vec![1.5]],
                vec![vec![0.6], vec![0.8]],
            )
            .unwrap(),
            400,
            2,
        ),
    ] {
        let k = truth.n_states();
        let (obs, states) = sample(&truth, t, seed);
        let fitted = GaussianHmm::fit(
            &obs,
            &FitConfig {
                n_states: k,
                restarts: 4,
                seed: 7,
                ..FitConfig::default()
            },
        )
        .unwrap();
        let accuracy = aligned_accuracy(&fitted.viterbi(&obs).unwrap(), &states, k);
        assert!(
            accuracy >= 0.8,
            "K={k}: Viterbi accuracy after best state alignment must be >= 0.8, got {accuracy:.3}"
        );
        assert!(fitted.report().converged, "K={k}: EM should converge");
    }
}

#[test]
fn posteriors_are_distributions() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let truth = three_state_truth();
    let (obs, _) = sample(&truth, 300, 4);
    let fitted = GaussianHmm::fit(
        &obs,
        &FitConfig {
            n_states: 3,
            ..FitConfig::default()
        },
    )
    .unwrap();
    let mut models = vec![truth, fitted];
    models.extend((0..5).map(|_| random_model(&mut rng, 4, 2)));
    for model in &models {
        // Include far outliers: scaling must keep rows normalised.
        let mut data = obs.clone();
        data.push(vec![40.0, -40.0]);
        let post = model.posteriors(&data).unwrap();
        assert_eq!(post.len(), data.len());
        for (t, row) in post.iter().enumerate() {
            let sum: f64 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "row {t} sums to {sum}");
            assert!(
                row.iter().all(|p| (0.0..=1.0).contains(p)),
                "row {t}: {row:?}"
            );
        }
    }
}

/// `ln Σ exp(x)`.
fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn all_paths(k: usize, t: usize) -> Vec<Vec<usize>> {
    (0..k.pow(t as u32))
        .map(|mut code| {
            (0..t)
                .map(|_| {
                    let s = code % k;
                    code /= k;
                    s
                })
                .collect()
        })
        .collect()
}

#[test]
fn viterbi_and_likelihood_match_brute_force_on_tiny_models() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for trial in 0..60 {
        let k = 2 + trial % 2;
        let t = 1 + trial % 6;
        let d = 1 + trial % 2;
        let model = random_model(&mut rng, k, d);
        let obs: Vec<Vec<f64>> = (0..t)
            .map(|_| (0..d).map(|_| rng.gen_range(-3.0..3.0)).collect())
            .collect();
        let scores: Vec<(Vec<usize>, f64)> = all_paths(k, t)
            .into_iter()
            .map(|p| {
                let s = model.path_log_probability(&obs, &p).unwrap();
                (p, s)
            })
            .collect();
        let (best_path, best_score) = scores
            .iter()
            .fold(None::<&(Vec<usize>, f64)>, |acc, x| match acc {
                Some(a) if a.1 >= x.1 => Some(a),
                _ => Some(x),
            })
            .unwrap();
        let (path, score) = model.viterbi_with_score(&obs).unwrap();
        assert_eq!(&path, best_path, "trial {trial} (K={k}, T={t})");
        assert!(
            (score - best_score).abs() < 1e-9,
            "trial {trial}: {score} vs {best_score}"
        );
        let all: Vec<f64> = scores.iter().map(|(_, s)| *s).collect();
        let ll = model.log_likelihood(&obs).unwrap();
        assert!(
            (ll - log_sum_exp(&all)).abs() < 1e-9,
            "trial {trial}: forward {ll}"
        );
    }
}

#[test]
fn fit_is_deterministic_and_em_never_decreases_the_likelihood() {
    let (obs, _) = sample(&three_state_truth(), 400, 9);
    let config = FitConfig {
        n_states: 3,
        restarts: 3,
        seed: 11,
        ..FitConfig::default()
    };
    let a = GaussianHmm::fit(&obs, &config).unwrap();
    let b = GaussianHmm::fit(&obs, &config).unwrap();
    assert_eq!(a, b, "same data and seed must give the same model");
    let history = &a.report().log_likelihood_history;
    assert_eq!(history.len(), a.report().iterations + 1);
    for (i, w) in history.windows(2).enumerate() {
        assert!(
            w[1] >= w[0] - 1e-8 * w[0].abs().max(1.0),
            "EM step {i}: {} -> {}",
            w[0],
            w[1]
        );
    }
    let ll = a.log_likelihood(&obs).unwrap();
    assert!((ll - history[history.len() - 1]).abs() < 1e-6);
    assert_eq!(a.report().restart_log_likelihoods.len(), 3);
    // Fitted parameters are proper distributions and states come sorted by the first mean.
    for row in a.transition() {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    assert!((a.initial().iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(a.means().windows(2).all(|w| w[0][0] <= w[1][0]));
    assert!(a.variances().iter().flatten().all(|v| *v > 0.0));
}

#[test]
fn degenerate_data_does_not_collapse_variances() {
    // Half the points are identical: without a floor one state's variance would go to zero.
    let mut obs: Vec<[f64; 1]> = (0..100).map(|_| [1.0]).collect();
    obs.extend((0..100).map(|i| [f64::from(i) / 10.0]));
    let fitted = GaussianHmm::fit(
        &obs,
        &FitConfig {
            n_states: 3,
            ..FitConfig::default()
        },
    )
    .unwrap();
    assert!(fitted
        .variances()
        .iter()
        .flatten()
        .all(|v| *v > 0.0 && v.is_finite()));
    assert!(fitted.log_likelihood(&obs).unwrap().is_finite());
}

#[test]
fn bad_input_is_a_typed_error() {
    let cfg = FitConfig::default();
    let empty: Vec<Vec<f64>> = vec![];
    assert_eq!(
        GaussianHmm::fit(&empty, &cfg).unwrap_err(),
        HmmError::NoObservations
    );
    assert!(matches!(
        GaussianHmm::fit(&[vec![1.0, 2.0], vec![1.0]], &cfg),
        Err(HmmError::DimensionMismatch {
            row: 1,
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        GaussianHmm::fit(&[[1.0], [f64::NAN]], &cfg),
        Err(HmmError::NonFinite { row: 1, col: 0 })
    ));
    assert!(matches!(
        GaussianHmm::fit(&[[1.0], [2.0]], &FitConfig { n_states: 3, ..cfg }),
        Err(HmmError::TooFewObservations { needed: 3, got: 2 })
    ));
    assert!(matches!(
        GaussianHmm::fit(&[[1.0], [2.0]], &FitConfig { restarts: 0, ..cfg }),
        Err(HmmError::InvalidConfig(_))
    ));
    assert!(matches!(
        FittedHmm::new(
            vec![0.5, 0.6],
            vec![vec![1.0, 0.0]; 2],
            vec![vec![0.0]; 2],
            vec![vec![1.0]; 2]
        ),
        Err(HmmError::InvalidParameters(_))
    ));
}
