//! Property tests where the maths lives: posteriors and regime probabilities are distributions
//! for any model and input, Viterbi never beats the total likelihood, relabelling states
//! changes nothing, statistics add up, features stay in range, and labels do not depend on
//! the unit of returns and volatility.

use alphapulse_domain::TextEnum;
use alphapulse_domain::{Candle, Symbol};
use alphapulse_regime::{
    features::{DRAWDOWN, VOLATILITY},
    label_states, merge_probabilities, regime_stats, FeatureConfig, FeatureMatrix, FittedHmm,
    LabelConfig, ModelConfig, Regime, RegimeModel, StateSummary,
};
use chrono::{Duration, TimeZone, Utc};
use proptest::{collection::vec, prelude::*};
use rust_decimal::{prelude::FromPrimitive, Decimal};

fn normalised(w: Vec<f64>) -> Vec<f64> {
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

fn distribution(k: usize) -> impl Strategy<Value = Vec<f64>> {
    vec(0.01_f64..1.0, k).prop_map(normalised)
}

/// A valid model of 1-4 states and 1-3 features, and 1-12 observations that may lie far
/// outside every state (so the scaling of the forward pass is exercised).
fn model_and_observations() -> impl Strategy<Value = (FittedHmm, Vec<Vec<f64>>)> {
    (1_usize..=4, 1_usize..=3, 1_usize..=12)
        .prop_flat_map(|(k, d, t)| {
            (
                distribution(k),
                vec(distribution(k), k),
                vec(vec(-5.0_f64..5.0, d), k),
                vec(vec(0.05_f64..5.0, d), k),
                vec(vec(-50.0_f64..50.0, d), t),
            )
        })
        .prop_map(|(initial, transition, means, variances, obs)| {
            (
                FittedHmm::new(initial, transition, means, variances).unwrap(),
                obs,
            )
        })
}

/// The same model with its states in reverse order.
fn reversed(model: &FittedHmm) -> FittedHmm {
    let rev = |v: &[f64]| v.iter().rev().copied().collect::<Vec<_>>();
    FittedHmm::new(
        rev(model.initial()),
        model.transition().iter().rev().map(|r| rev(r)).collect(),
        model.means().iter().rev().cloned().collect(),
        model.variances().iter().rev().cloned().collect(),
    )
    .unwrap()
}

fn regime() -> impl Strategy<Value = Regime> {
    prop::sample::select(Regime::ALL.to_vec())
}

proptest! {
    #[test]
    fn posteriors_are_distributions((model, obs) in model_and_observations()) {
        let post = model.posteriors(&obs).unwrap();
        prop_assert_eq!(post.len(), obs.len());
        for row in &post {
            prop_assert_eq!(row.len(), model.n_states());
            prop_assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{:?}", row);
            prop_assert!(row.iter().all(|p| (0.0..=1.0).contains(p)), "{:?}", row);
        }
    }

    #[test]
    fn viterbi_is_one_path_of_the_likelihood((model, obs) in model_and_observations()) {
        // ln P(obs, best path) <= ln P(obs) = ln Σ_paths P(obs, path), and the score is the
        // path's own joint probability.
        let ll = model.log_likelihood(&obs).unwrap();
        let (path, score) = model.viterbi_with_score(&obs).unwrap();
        prop_assert!(ll.is_finite() && score.is_finite());
        prop_assert!(score <= ll + 1e-9 * ll.abs().max(1.0), "{} > {}", score, ll);
        let own = model.path_log_probability(&obs, &path).unwrap();
        prop_assert!((own - score).abs() < 1e-9 * score.abs().max(1.0));
    }

    #[test]
    fn relabelling_states_changes_nothing((model, obs) in model_and_observations()) {
        let k = model.n_states();
        let other = reversed(&model);
        let (a, b) = (model.log_likelihood(&obs).unwrap(), other.log_likelihood(&obs).unwrap());
        prop_assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{} vs {}", a, b);
        let (pa, pb) = (model.posteriors(&obs).unwrap(), other.posteriors(&obs).unwrap());
        for (ra, rb) in pa.iter().zip(&pb) {
            for s in 0..k {
                prop_assert!((ra[s] - rb[k - 1 - s]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn merged_regime_probabilities_are_a_distribution(
        (probabilities, labels) in (1_usize..=8).prop_flat_map(|k| (distribution(k), vec(regime(), k)))
    ) {
        let merged = merge_probabilities(&probabilities, &labels);
        prop_assert!((merged.total() - 1.0).abs() < 1e-12);
        prop_assert!(merged.iter().all(|(_, p)| *p >= 0.0));
        // A regime no state carries has probability 0; the argmax is carried by some state.
        for (r, p) in merged.iter() {
            if !labels.contains(&r) {
                prop_assert_eq!(*p, 0.0);
            }
        }
        prop_assert!(labels.contains(&merged.argmax()));
    }

    #[test]
    fn regime_statistics_add_up(
        (labels, returns) in (1_usize..60).prop_flat_map(|n| (vec(regime(), n), vec(-0.1_f64..0.1, n)))
    ) {
        let n = labels.len();
        let vols = vec![0.5; n];
        let stats = regime_stats(&labels, &returns, &vols);
        let present: Vec<_> = stats.iter().filter_map(|(_, s)| *s).collect();
        prop_assert_eq!(present.iter().map(|s| s.days).sum::<usize>(), n);
        prop_assert!((present.iter().map(|s| s.frequency).sum::<f64>() - 1.0).abs() < 1e-12);
        let switches = labels.windows(2).filter(|w| w[0] != w[1]).count();
        prop_assert_eq!(present.iter().map(|s| s.runs).sum::<usize>(), switches + 1);
        for s in &present {
            prop_assert!((s.avg_duration_days * s.runs as f64 - s.days as f64).abs() < 1e-9);
            prop_assert!((s.avg_volatility - 0.5).abs() < 1e-12);
        }
        let total_return: f64 = present.iter().map(|s| s.avg_daily_return * s.days as f64).sum();
        prop_assert!((total_return - returns.iter().sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn features_stay_in_range(returns in vec(-0.3_f64..0.3, 51..120)) {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut price = 100.0;
        let mut prices = vec![price];
        for r in &returns {
            price *= r.exp();
            prices.push(price);
        }
        let dates: Vec<_> = (0..prices.len()).map(|i| start + Duration::days(i as i64)).collect();
        let config = FeatureConfig::default();
        let m = FeatureMatrix::from_prices(&dates, &prices, &config).unwrap();
        prop_assert_eq!(m.len(), prices.len() - config.warmup());
        prop_assert!(m.column(DRAWDOWN).iter().all(|d| (-1.0..=0.0).contains(d)));
        prop_assert!(m.column(VOLATILITY).iter().all(|v| *v >= 0.0 && v.is_finite()));
    }

    #[test]
    fn labels_do_not_depend_on_the_unit(
        states in vec((-0.02_f64..0.02, 0.05_f64..2.0, 1.0_f64..1000.0), 1..6),
        reference in 0.1_f64..1.5,
        exponent in -8_i32..8,
    ) {
        // Scaling returns, volatilities and the reference volatility by a power of two is exact
        // in floating point, and every threshold compares ratios of them.
        let c = 2_f64.powi(exponent);
        let k = states.len();
        let summaries = |scale: f64| -> Vec<StateSummary> {
            states
                .iter()
                .map(|(ret, vol, days)| StateSummary {
                    mean_return: ret * scale,
                    volatility: vol * scale,
                    occupancy: days / 1000.0,
                    days: *days,
                })
                .collect()
        };
        let transition: Vec<Vec<f64>> = vec![vec![1.0 / k as f64; k]; k];
        let cfg = LabelConfig::default();
        let labels = label_states(&summaries(1.0), &transition, reference, &cfg);
        prop_assert_eq!(labels.len(), k);
        prop_assert_eq!(labels, label_states(&summaries(c), &transition, reference * c, &cfg));
    }
}

proptest! {
    // Each case fits a model; a few cases keep the suite fast.
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn regime_probabilities_are_a_distribution_for_any_market(
        returns in vec(-0.15_f64..0.15, 200..260),
        n_states in 2_usize..=4,
        seed in any::<u64>(),
    ) {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let start = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
        let mut close = 30_000.0_f64;
        let candles: Vec<Candle> = returns
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let open = close;
                close = open * r.exp();
                let price = |x: f64| Decimal::from_f64(x).unwrap().round_dp(8);
                Candle {
                    symbol: symbol.clone(),
                    open_time: start + Duration::days(i as i64),
                    open: price(open),
                    high: price(open.max(close)),
                    low: price(open.min(close)),
                    close: price(close),
                    volume: Decimal::ONE,
                }
            })
            .collect();
        let config = ModelConfig { n_states, restarts: 1, seed, ..ModelConfig::default() };
        let s = RegimeModel::fit(&[(1.0, candles)], &config).unwrap();
        prop_assert!((s.probabilities.total() - 1.0).abs() < 1e-9, "{:?}", s.probabilities);
        prop_assert!(s.probabilities.iter().all(|(_, p)| *p >= 0.0 && *p <= 1.0 + 1e-12));
        prop_assert_eq!(s.confidence, s.probabilities[s.current_regime]);
        prop_assert!(s.history.iter().all(|p| (0.0..=1.0 + 1e-12).contains(&p.confidence)));
        // Regimes no state is labelled with have probability exactly 0.
        for (r, p) in s.probabilities.iter() {
            if !s.state_labels.contains(&r) {
                prop_assert_eq!(*p, 0.0);
            }
        }
    }
}
