use super::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

#[test]
fn caps_say_which_bound() {
    let limits = RiskLimits::default(); // 0.20 per position, 1.5 leverage
    assert_eq!(
        cap_weight(0.5, &limits, 0.0),
        (0.2, CapBound::MaxPositionWeight)
    );
    assert_eq!(cap_weight(0.1, &limits, 0.0), (0.1, CapBound::None));
    // 1.4 already used: 0.1 of leverage left, tighter than 0.2.
    let (w, bound) = cap_weight(0.5, &limits, 1.4);
    assert!((w - 0.1).abs() < 1e-12);
    assert_eq!(bound, CapBound::MaxLeverage);
    // Over the limit already: nothing more.
    assert_eq!(cap_weight(0.5, &limits, 2.0), (0.0, CapBound::MaxLeverage));
    assert_eq!(cap_weight(-0.3, &limits, 0.0), (0.0, CapBound::NoEdge));
}

#[test]
fn volatility_target_size() {
    // 15 % target / 150 % asset volatility = 0.1 of equity; 10 000 equity -> 1 000.
    let w = volatility_target_weight(0.15, 1.5).unwrap();
    assert!((w - 0.1).abs() < 1e-15);
    let s = size_position(w, dec!(10000), &RiskLimits::default(), 0.0).unwrap();
    assert_eq!(s.value, dec!(1000));
    assert_eq!(s.bound, CapBound::None);
    assert_eq!(s.quantity(dec!(50000)), Some(dec!(0.02)));
    assert!(volatility_target_weight(0.15, 0.0).is_err());
}

#[test]
fn kelly_both_variants() {
    // Continuous: μ = 0.001, σ = 0.02 a day: f* = 0.001 / 0.0004 = 2.5 (same annualised:
    // 0.365 / (0.0004 · 365) = 2.5).
    let f = kelly_fraction(KellyInput::Continuous {
        mean: 0.001,
        std_dev: 0.02,
    })
    .unwrap()
    .unwrap();
    assert!((f - 2.5).abs() < 1e-12);
    let annual = kelly_fraction(KellyInput::Continuous {
        mean: 0.365,
        std_dev: 0.02 * 365_f64.sqrt(),
    })
    .unwrap()
    .unwrap();
    assert!((annual - 2.5).abs() < 1e-9);
    // Win/loss: p = 0.55, b = 1.5: f* = 0.55 - 0.45 / 1.5 = 0.25.
    let f = kelly_fraction(KellyInput::WinLoss {
        win_probability: 0.55,
        payoff_ratio: 1.5,
    })
    .unwrap()
    .unwrap();
    assert!((f - 0.25).abs() < 1e-12);
    // Zero variance: undefined.
    let none = kelly_fraction(KellyInput::Continuous {
        mean: 0.001,
        std_dev: 0.0,
    });
    assert_eq!(none, Ok(None));
    assert!(kelly_fraction(KellyInput::WinLoss {
        win_probability: 1.2,
        payoff_ratio: 1.0
    })
    .is_err());
}

fn input() -> SizingInput {
    SizingInput {
        equity: dec!(10000),
        price: dec!(50000),
        asset_volatility: 0.6,
        kelly: Some(KellyInput::WinLoss {
            win_probability: 0.55,
            payoff_ratio: 1.5,
        }),
        kelly_fraction: DEFAULT_KELLY_FRACTION,
        existing_gross_weight: 0.0,
        atr: 1500.0,
        stops: StopRule::default(),
        side: Side::Long,
    }
}

#[test]
fn recommendation_takes_the_smaller_size() {
    // Volatility target: 0.15 / 0.6 = 0.25 -> capped at 0.20 -> 2 000.
    // Quarter Kelly: 0.25 · 0.25 = 0.0625 -> 625, smaller, so it is the recommendation.
    // 625 / 50 000 = 0.0125 BTC; stop 50 000 - 2 · 1 500 = 47 000, target 50 000 + 4 500;
    // risk per trade 0.0125 · 3 000 = 37.5.
    let r = recommend(&input(), &RiskLimits::default()).unwrap();
    assert_eq!(r.volatility_target.bound, CapBound::MaxPositionWeight);
    assert_eq!(r.volatility_target.value, dec!(2000));
    assert_eq!(r.method, SizingMethod::FractionalKelly);
    assert_eq!(r.recommended.value, dec!(625));
    assert_eq!(r.quantity, dec!(0.0125));
    assert_eq!(r.max_size, dec!(2000));
    assert_eq!(r.stops.stop_loss, dec!(47000));
    assert_eq!(r.stops.take_profit, dec!(54500));
    assert_eq!(r.risk_per_trade, dec!(37.5));

    // Without an edge estimate the volatility target decides.
    let r = recommend(
        &SizingInput {
            kelly: None,
            ..input()
        },
        &RiskLimits::default(),
    )
    .unwrap();
    assert_eq!(r.method, SizingMethod::VolatilityTarget);
    assert_eq!(r.recommended.value, dec!(2000));

    // A losing record: no edge, size 0.
    let r = recommend(
        &SizingInput {
            kelly: Some(KellyInput::WinLoss {
                win_probability: 0.3,
                payoff_ratio: 1.0,
            }),
            ..input()
        },
        &RiskLimits::default(),
    )
    .unwrap();
    assert_eq!(r.recommended.bound, CapBound::NoEdge);
    assert_eq!(r.quantity, Decimal::ZERO);
    assert_eq!(r.risk_per_trade, Decimal::ZERO);
}

#[test]
fn limits_are_validated() {
    assert!(check_limits(&RiskLimits::default()).is_ok());
    let bad = RiskLimits {
        max_drawdown: 1.5,
        ..RiskLimits::default()
    };
    assert_eq!(
        check_limits(&bad),
        Err(RiskError::InvalidParameter {
            name: "max_drawdown",
            reason: "outside its valid range"
        })
    );
    let bad = RiskLimits {
        max_leverage: f64::NAN,
        ..RiskLimits::default()
    };
    assert!(check_limits(&bad).is_err());
    // A leverage limit below 1 is not a limit the domain accepts.
    let bad = RiskLimits {
        max_leverage: 0.5,
        ..RiskLimits::default()
    };
    assert!(size_position(0.1, dec!(1), &bad, 0.0).is_err());
    assert!(size_position(0.1, dec!(0), &RiskLimits::default(), 0.0).is_err());
    assert!(size_position(0.1, dec!(1), &RiskLimits::default(), -1.0).is_err());
}

proptest! {
    #[test]
    fn capped_weight_respects_every_limit(
        raw in -2.0_f64..5.0,
        gross in 0.0_f64..3.0,
        max_w in 0.01_f64..1.0,
        max_lev in 0.1_f64..10.0,
    ) {
        let limits = RiskLimits {
            max_position_weight: max_w,
            max_leverage: max_lev,
            ..RiskLimits::default()
        };
        let (w, bound) = cap_weight(raw, &limits, gross);
        prop_assert!(w >= 0.0 && w <= max_w);
        prop_assert!(w <= (max_lev - gross).max(0.0) + 1e-12);
        if bound == CapBound::None {
            prop_assert_eq!(w, raw);
        }
    }
}
