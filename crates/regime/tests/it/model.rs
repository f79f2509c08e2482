//! The regime model end to end on synthetic markets with known regimes.

use alphapulse_domain::{Candle, Symbol};
use alphapulse_regime::{
    synthetic, FeatureError, ModelConfig, Regime, RegimeError, RegimeModel, RegimeSnapshot,
    FEATURE_NAMES,
};
use chrono::{DateTime, TimeZone, Utc};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()
}

fn walk(seed: u64, symbol: &str, days: usize) -> (Vec<Candle>, Vec<Regime>) {
    synthetic::regime_switching_walk(
        seed,
        &Symbol::parse(symbol).unwrap(),
        days,
        30_000.0,
        start(),
    )
}

/// Direction classes: the model's five labels are judged on what matters for positioning.
fn coarse(r: Regime) -> u8 {
    match r {
        Regime::Bull | Regime::Recovery => 0,
        Regime::Bear | Regime::Crisis => 1,
        Regime::Sideways => 2,
    }
}

fn check_invariants(s: &RegimeSnapshot) {
    assert!(
        (s.probabilities.total() - 1.0).abs() < 1e-9,
        "{:?}",
        s.probabilities
    );
    assert!(s
        .probabilities
        .iter()
        .all(|(_, p)| (0.0..=1.0 + 1e-12).contains(p)));
    assert_eq!(s.history.len(), s.observations);
    assert!(s.duration_days >= 1);
    let last = s.history.last().unwrap();
    assert_eq!(s.current_regime, last.regime);
    assert_eq!(s.confidence, s.probabilities[s.current_regime]);
    assert!((s.confidence - last.confidence).abs() < 1e-12);
    assert!(s.since <= last.date);
    assert!(s
        .history
        .iter()
        .rev()
        .take_while(|p| p.regime == s.current_regime)
        .all(|p| p.date >= s.since));
    assert_eq!(s.state_labels.len(), s.n_states);
    assert!(s
        .history
        .iter()
        .all(|p| (0.0..=1.0 + 1e-12).contains(&p.confidence)));
    assert!(s.history.windows(2).all(|w| w[0].date < w[1].date));
    assert_eq!(s.features.len(), FEATURE_NAMES.len());
    let freq: f64 = s
        .analysis
        .iter()
        .filter_map(|(_, st)| st.map(|st| st.frequency))
        .sum();
    assert!((freq - 1.0).abs() < 1e-9);
    let changes = s.changes();
    let runs: usize = s
        .analysis
        .iter()
        .filter_map(|(_, st)| st.map(|st| st.runs))
        .sum();
    assert_eq!(changes.len(), runs - 1);
    assert!(changes.iter().all(|c| c.from != c.to));
    if let Some(c) = changes.last() {
        assert_eq!((c.date, c.to), (s.since, s.current_regime));
    }
}

/// Three years, five states: on six generated markets the labelled history must agree with the
/// generating regimes, collapsed to up (bull, recovery) / down (bear, crisis) / flat (sideways),
/// on at least half of the days for every market and 60 % on average. Chance (labelling days at
/// random with the true class shares) is about 35-45 %; the measured shares when this test was
/// written were 0.61-0.85 (mean 0.71). The threshold is not 0.8 because the rolling features
/// lag turning points by days to weeks, and a generated "bear" sometimes happens to not fall.
#[test]
fn end_to_end_on_three_years_of_synthetic_data() {
    let config = ModelConfig::default();
    assert_eq!((config.n_states, config.lookback_days), (5, 3 * 365));
    let days = config.lookback_days + config.features.warmup();
    let mut shares = Vec::new();
    for seed in 0..6 {
        let (candles, truth) = walk(seed, "BTCUSDT", days);
        let snapshot = RegimeModel::fit(&[(1.0, candles)], &config).unwrap();
        check_invariants(&snapshot);
        assert_eq!(snapshot.observations, config.lookback_days);
        assert_eq!(snapshot.n_states, 5);
        let truth = &truth[truth.len() - snapshot.observations..];
        let agree = snapshot
            .history
            .iter()
            .zip(truth)
            .filter(|(p, t)| coarse(p.regime) == coarse(**t))
            .count() as f64
            / truth.len() as f64;
        assert!(
            agree >= 0.5,
            "seed {seed}: coarse agreement {agree:.3} < 0.5"
        );
        shares.push(agree);
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    eprintln!("coarse agreement per seed: {shares:.3?}, mean {mean:.3}");
    assert!(
        mean >= 0.6,
        "mean coarse agreement {mean:.3} < 0.6 ({shares:.3?})"
    );
}

#[test]
fn same_candles_and_seed_give_the_same_snapshot() {
    let (candles, _) = walk(21, "ETHUSDT", 500);
    let config = ModelConfig {
        n_states: 3,
        restarts: 2,
        ..ModelConfig::default()
    };
    let a = RegimeModel::fit(&[(1.0, candles.clone())], &config).unwrap();
    let b = RegimeModel::fit(&[(1.0, candles)], &config).unwrap();
    assert_eq!(a, b);
    check_invariants(&a);
    // 500 candles, 49 of them warm-up (see the lookback test), all inside the default
    // three-year lookback.
    assert_eq!(a.observations, 500 - 49);
    let json = serde_json::to_string(&a).unwrap();
    let back: RegimeSnapshot = serde_json::from_str(&json).unwrap();
    // serde_json may round floats by an ulp; compare exactly what is discrete.
    assert_eq!(back.current_regime, a.current_regime);
    assert_eq!((back.since, back.duration_days), (a.since, a.duration_days));
    assert!(
        back.history.len() == a.history.len()
            && back
                .history
                .iter()
                .zip(&a.history)
                .all(|(x, y)| x.date == y.date
                    && x.regime == y.regime
                    && (x.confidence - y.confidence).abs() < 1e-12)
    );
}

#[test]
fn weighted_universe_uses_common_days_only() {
    let (btc, _) = walk(1, "BTCUSDT", 400);
    let (mut eth, _) = walk(2, "ETHUSDT", 400);
    eth.remove(200);
    eth.remove(100);
    let config = ModelConfig {
        n_states: 3,
        restarts: 2,
        ..ModelConfig::default()
    };
    let model = RegimeModel::train(&[(0.6, btc), (0.4, eth)], &config).unwrap();
    // 400 BTC days, ETH misses two of them: 398 common days, of which the first 49 (the
    // default warm-up) only feed the windows.
    assert_eq!(model.features().len(), 398 - 49);
    let snapshot = model.snapshot();
    check_invariants(&snapshot);
    assert_eq!(model.state_labels(), &snapshot.state_labels[..]);
    assert_eq!(model.path().len(), model.posteriors().len());
}

#[test]
fn lookback_limits_the_window_and_short_history_is_an_error() {
    let (candles, _) = walk(3, "BTCUSDT", 600);
    let config = ModelConfig {
        n_states: 2,
        restarts: 1,
        lookback_days: 200,
        ..ModelConfig::default()
    };
    let snapshot = RegimeModel::fit(&[(1.0, candles.clone())], &config).unwrap();
    assert_eq!(snapshot.observations, 200);
    assert_eq!(
        snapshot.history.last().unwrap().date,
        candles.last().unwrap().open_time
    );

    // The default windows: volatility over 20 returns, trend from a 10- and a 50-day average.
    // The row of price t needs the returns t-19..=t (so t >= 20) and the prices t-49..=t (so
    // t >= 49): the first 49 prices only warm up the windows, warmup = max(20, 50 - 1) = 49.
    let warmup = 49;
    assert_eq!(config.features.warmup(), warmup);
    // 40 candles cannot fill the windows: features need warmup + 1 = 50 prices.
    let err = RegimeModel::fit(&[(1.0, candles[..40].to_vec())], &config).unwrap_err();
    assert_eq!(
        err,
        RegimeError::Features(FeatureError::TooShort {
            needed: warmup + 1,
            got: 40
        })
    );
    // 100 candles give 100 - 49 = 51 feature rows, fewer than min_observations (120 by
    // default), which a model needs.
    assert_eq!(config.min_observations, 120);
    let err = RegimeModel::fit(&[(1.0, candles[..100].to_vec())], &config).unwrap_err();
    assert_eq!(
        err,
        RegimeError::InsufficientData {
            needed: 120,
            got: 100 - warmup
        }
    );
    let no_emissions = ModelConfig {
        emission_features: [false; 4],
        ..config
    };
    assert!(matches!(
        RegimeModel::fit(&[(1.0, candles.clone())], &no_emissions),
        Err(RegimeError::InvalidConfig(_))
    ));
    let err = RegimeModel::fit(&[], &config).unwrap_err();
    assert_eq!(err, RegimeError::Features(FeatureError::EmptyUniverse));
}
