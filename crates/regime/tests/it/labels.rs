//! The labelling rule on hand-made state summaries.

use alphapulse_regime::{label_states, LabelConfig, Regime, StateSummary};

/// A state seen for `days` of a 1000-day sample, with a daily mean return and annualised vol.
fn state(mean_return: f64, volatility: f64, days: f64) -> StateSummary {
    StateSummary {
        mean_return,
        volatility,
        occupancy: days / 1000.0,
        days,
    }
}

fn sticky(k: usize) -> Vec<Vec<f64>> {
    (0..k)
        .map(|i| {
            (0..k)
                .map(|j| if i == j { 0.9 } else { 0.1 / (k - 1) as f64 })
                .collect()
        })
        .collect()
}

const REFERENCE_VOL: f64 = 0.5;

#[test]
fn classic_five_state_market() {
    let states = [
        state(0.004, 0.40, 300.0),  // steady rise, normal vol
        state(-0.004, 0.60, 200.0), // steady fall
        state(0.0001, 0.25, 250.0), // flat and calm
        state(-0.015, 1.30, 60.0),  // collapse, extreme vol
        state(0.006, 0.85, 190.0),  // rebound, still turbulent
    ];
    // The rebound state (4) is entered from the crisis (3) and bear (1) states.
    let mut transition = sticky(5);
    transition[3] = vec![0.0, 0.02, 0.0, 0.9, 0.08];
    transition[1] = vec![0.0, 0.95, 0.01, 0.02, 0.02];
    transition[0] = vec![0.97, 0.01, 0.02, 0.0, 0.0];
    transition[2] = vec![0.01, 0.01, 0.98, 0.0, 0.0];
    let labels = label_states(&states, &transition, REFERENCE_VOL, &LabelConfig::default());
    assert_eq!(
        labels,
        vec![
            Regime::Bull,
            Regime::Bear,
            Regime::Sideways,
            Regime::Crisis,
            Regime::Recovery
        ]
    );
}

#[test]
fn high_volatility_with_negative_return_is_crisis() {
    let labels = label_states(
        &[state(-0.01, 1.2, 80.0), state(0.002, 0.4, 920.0)],
        &sticky(2),
        REFERENCE_VOL,
        &LabelConfig::default(),
    );
    assert_eq!(labels[0], Regime::Crisis);
    assert_eq!(labels[1], Regime::Bull);
}

#[test]
fn falling_is_bear_rising_at_normal_volatility_is_bull_flat_is_sideways() {
    let labels = label_states(
        &[
            state(-0.003, 0.5, 400.0),
            state(0.003, 0.5, 400.0),
            state(0.0, 0.2, 200.0),
        ],
        &sticky(3),
        REFERENCE_VOL,
        &LabelConfig::default(),
    );
    // State 1 rises at the reference volatility (ratio 1.0 < 1.1): a bull market, whatever it
    // was entered from.
    assert_eq!(labels, vec![Regime::Bear, Regime::Bull, Regime::Sideways]);
}

#[test]
fn recovery_needs_elevated_volatility_and_inflow_from_falling_states() {
    let states = [
        state(-0.004, 0.6, 300.0),
        state(0.005, 0.8, 300.0),
        state(0.0, 0.2, 400.0),
    ];
    let cfg = LabelConfig::default();
    // Mostly entered from the bear state: recovery.
    let from_bear = vec![
        vec![0.9, 0.1, 0.0],
        vec![0.0, 0.9, 0.1],
        vec![0.05, 0.01, 0.94],
    ];
    assert_eq!(
        label_states(&states, &from_bear, REFERENCE_VOL, &cfg)[1],
        Regime::Recovery
    );
    // Mostly entered from the sideways state: a turbulent bull market.
    let from_range = vec![
        vec![0.9, 0.01, 0.09],
        vec![0.0, 0.9, 0.1],
        vec![0.0, 0.1, 0.9],
    ];
    assert_eq!(
        label_states(&states, &from_range, REFERENCE_VOL, &cfg)[1],
        Regime::Bull
    );
    // No transition matrix: never recovery.
    assert_eq!(
        label_states(&states, &[], REFERENCE_VOL, &cfg)[1],
        Regime::Bull
    );
}

#[test]
fn short_noisy_states_have_no_direction() {
    let cfg = LabelConfig::default();
    // Sharpe-like ratio 0.0005 × 365 / 0.2 = 0.91 > 0.5, but over 40 days the t-statistic is
    // 0.91 × sqrt(40/365) = 0.30 < 1: noise, so sideways. Over 800 days it is 1.35: bull.
    let short = label_states(&[state(0.0005, 0.2, 40.0)], &[], REFERENCE_VOL, &cfg);
    let long = label_states(&[state(0.0005, 0.2, 800.0)], &[], REFERENCE_VOL, &cfg);
    assert_eq!((short[0], long[0]), (Regime::Sideways, Regime::Bull));
}

#[test]
fn fewer_states_use_fewer_regimes_and_may_share_labels() {
    let cfg = LabelConfig::default();
    let two = label_states(
        &[state(-0.004, 0.6, 500.0), state(0.004, 0.4, 500.0)],
        &sticky(2),
        REFERENCE_VOL,
        &cfg,
    );
    assert_eq!(two, vec![Regime::Bear, Regime::Bull]);
    let shared = label_states(
        &[state(0.003, 0.3, 500.0), state(0.005, 0.45, 500.0)],
        &sticky(2),
        REFERENCE_VOL,
        &cfg,
    );
    assert_eq!(shared, vec![Regime::Bull, Regime::Bull]);
}
