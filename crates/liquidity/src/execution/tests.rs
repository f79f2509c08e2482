//! Tests of the execution planner.

use super::*;
use proptest::prelude::*;

fn market(adv: f64, sigma: f64, spread: f64) -> MarketConditions {
    MarketConditions {
        adv,
        sigma_daily: sigma,
        spread,
        sigma_observations: 29,
    }
}

fn plan(q: f64, m: &MarketConditions, urgency: Urgency) -> ExecutionPlan {
    plan_execution(q, m, urgency, 0.01, &ExecutionParams::default()).unwrap()
}

#[test]
fn small_order_is_twap_over_the_minimum_horizon() {
    // p = 100 / 100 000 = 0.001; days_rate = 0.001 / 0.10 = 0.01 day = 14.4 min, below the
    // 60 min minimum -> 60 min, 60 / 5 = 12 slices; participation = 0.001 / (60/1440)
    // = 2.4 %; impact = 0.03 x sqrt(0.001) = 9.4868 bps.
    let p = plan(100.0, &market(100_000.0, 0.03, 0.0005), Urgency::Normal);
    assert_eq!(p.strategy, ExecutionStrategy::Twap);
    assert_eq!((p.horizon_minutes, p.slices), (60, 12));
    assert!((p.participation_rate - 0.024).abs() < 1e-12);
    assert!((p.expected_impact_bps - 300.0 * 0.001f64.sqrt()).abs() < 1e-9);
    assert!(p.within_budget);
    assert!(p.rationale.starts_with("TWAP: "), "{}", p.rationale);
}

#[test]
fn low_urgency_with_a_wide_spread_rests_as_an_iceberg() {
    // 50 bps spread >= 25 bps and urgency low: 240 min minimum, 240 / 15 = 16 slices.
    let p = plan(100.0, &market(100_000.0, 0.03, 0.005), Urgency::Low);
    assert_eq!(p.strategy, ExecutionStrategy::Iceberg);
    assert_eq!((p.horizon_minutes, p.slices), (240, 16));
    // The same order at normal urgency crosses the spread with TWAP.
    let normal = plan(100.0, &market(100_000.0, 0.03, 0.005), Urgency::Normal);
    assert_eq!(normal.strategy, ExecutionStrategy::Twap);
}

#[test]
fn five_percent_of_adv_is_vwap_within_the_day() {
    // p = 0.05; days_rate = 0.5 day = 720 min -> 144 slices; I = 0.03 sqrt(0.05) = 67.08
    // bps < 100 bps; participation exactly the 10 % limit.
    let p = plan(5_000.0, &market(100_000.0, 0.03, 0.0005), Urgency::Normal);
    assert_eq!(p.strategy, ExecutionStrategy::Vwap);
    assert_eq!((p.horizon_minutes, p.slices), (720, 144));
    assert!((p.participation_rate - 0.10).abs() < 1e-12);
    assert!((p.expected_impact_bps - 300.0 * 0.05f64.sqrt()).abs() < 1e-9);
}

#[test]
fn the_budget_lengthens_the_horizon() {
    // p = 0.5, sigma = 6 %: I = 0.06 sqrt(0.5) = 424.26 bps > 100 bps.
    //   days_rate = 0.5 / 0.1 = 5; days_cost = (424.26 / 100)^2 = 18 -> 18 days.
    //   daily share = 0.5 / 18 = 0.027778, impact = 0.06 sqrt(0.027778) = 100 bps.
    let p = plan(50_000.0, &market(100_000.0, 0.06, 0.0005), Urgency::Normal);
    assert_eq!(p.strategy, ExecutionStrategy::Vwap);
    assert!((p.horizon_days - 18.0).abs() < 1e-9, "{}", p.horizon_days);
    assert!((p.expected_impact_bps - 100.0).abs() < 1e-6);
    assert!(p.within_budget);
    assert!(p.rationale.contains("impact budget"), "{}", p.rationale);
    // With sigma = 3 %, I = 212.13 bps, days_cost = 4.5 < days_rate = 5: the rate binds,
    // daily share 0.1, impact 0.03 sqrt(0.1) = 94.87 bps.
    let p = plan(50_000.0, &market(100_000.0, 0.03, 0.0005), Urgency::Normal);
    assert!((p.horizon_days - 5.0).abs() < 1e-9);
    assert!((p.expected_impact_bps - 300.0 * 0.1f64.sqrt()).abs() < 1e-9);
    assert!(!p.rationale.contains("impact budget"));
}

#[test]
fn high_urgency_is_implementation_shortfall_and_may_exceed_the_budget() {
    // p = 0.5 at 25 %: 2 days; the budget does not lengthen it. Daily share 0.25,
    // impact = 0.06 x 0.5 = 300 bps > 100 bps.
    let p = plan(50_000.0, &market(100_000.0, 0.06, 0.0005), Urgency::High);
    assert_eq!(p.strategy, ExecutionStrategy::ImplementationShortfall);
    assert!((p.horizon_days - 2.0).abs() < 1e-9);
    assert_eq!(p.slices, 2_880);
    assert!((p.expected_impact_bps - 300.0).abs() < 1e-9);
    assert!(!p.within_budget);
    assert!(p.rationale.contains("Over budget"), "{}", p.rationale);
}

#[test]
fn the_horizon_is_capped() {
    let p = plan(1e8, &market(100_000.0, 0.03, 0.0005), Urgency::Normal);
    assert_eq!(p.horizon_minutes, 365 * 1_440);
    assert!(p.participation_rate > 0.10);
    assert!(!p.within_budget);
    assert!(p.rationale.contains("capped"));
    assert!(p.rationale.contains("extrapolated"));
}

#[test]
fn invalid_inputs() {
    let m = market(100_000.0, 0.03, 0.0005);
    let params = ExecutionParams::default();
    assert!(plan_execution(0.0, &m, Urgency::Normal, 0.01, &params).is_err());
    assert!(plan_execution(-1.0, &m, Urgency::Normal, 0.01, &params).is_err());
    assert!(plan_execution(1.0, &m, Urgency::Normal, 0.0, &params).is_err());
    assert!(plan_execution(1.0, &m, Urgency::Normal, 1.5, &params).is_err());
    assert_eq!(
        plan_execution(1.0, &market(0.0, 0.03, 0.0), Urgency::Normal, 0.01, &params),
        Err(LiquidityError::ZeroAdv)
    );
}

#[test]
fn names() {
    assert_eq!("high".parse::<Urgency>(), Ok(Urgency::High));
    assert_eq!(Urgency::Low.as_str(), "low");
    assert!("urgent".parse::<Urgency>().is_err());
    assert_eq!(Urgency::default(), Urgency::Normal);
    // The text forms come from the strum derives: every name parses back, and the parse
    // error names every valid one.
    let names = <Urgency as strum::VariantNames>::VARIANTS;
    assert_eq!(names, ["low", "normal", "high"]);
    let unknown = "urgent".parse::<Urgency>().unwrap_err();
    assert_eq!(unknown, LiquidityError::UnknownUrgency("urgent".to_owned()));
    for name in names {
        let urgency: Urgency = name.parse().unwrap();
        assert_eq!(
            (urgency.as_str(), urgency.to_string()),
            (*name, name.to_string())
        );
        assert_eq!(
            serde_json::to_value(urgency).unwrap(),
            serde_json::Value::String(name.to_string())
        );
        assert!(unknown.to_string().contains(name), "{unknown}");
    }
    let json = serde_json::to_string(&[
        ExecutionStrategy::Twap,
        ExecutionStrategy::Vwap,
        ExecutionStrategy::Iceberg,
        ExecutionStrategy::ImplementationShortfall,
    ])
    .unwrap();
    assert_eq!(
        json,
        r#"["TWAP","VWAP","Iceberg","ImplementationShortfall"]"#
    );
    assert_eq!(ExecutionStrategy::Vwap.as_str(), "VWAP");
    assert_eq!(describe_minutes(45), "45 min");
    assert_eq!(describe_minutes(90), "1h 30m");
    assert_eq!(describe_minutes(2_880), "2.0 days");
}

proptest! {
    #[test]
    fn plans_are_sane(
        q in 1e-6f64..1e9,
        adv in 1e-3f64..1e9,
        sigma in 0.0f64..0.3,
        spread in 0.0f64..0.05,
        urgency in prop_oneof![Just(Urgency::Low), Just(Urgency::Normal), Just(Urgency::High)],
        budget in 1e-4f64..=1.0,
    ) {
        let m = market(adv, sigma, spread);
        let params = ExecutionParams::default();
        let p = plan_execution(q, &m, urgency, budget, &params).unwrap();
        let profile = params.profile(urgency);
        prop_assert!(p.slices >= 1);
        prop_assert!(p.horizon_minutes >= u64::from(profile.min_horizon_minutes));
        prop_assert!(p.horizon_days <= MAX_HORIZON_DAYS);
        prop_assert!(p.expected_impact_bps.is_finite() && p.expected_impact_bps >= 0.0);
        prop_assert!(p.participation_rate.is_finite() && p.participation_rate > 0.0);
        if p.horizon_days < MAX_HORIZON_DAYS {
            prop_assert!(p.participation_rate <= profile.max_participation * (1.0 + 1e-9));
        }
        if urgency != Urgency::High && p.horizon_days < MAX_HORIZON_DAYS {
            prop_assert!(p.within_budget, "{p:?}");
        }
    }
}
