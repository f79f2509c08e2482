use super::*;
use crate::budget::EntityType;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn cov_from(vols: &[f64], corr: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..vols.len())
        .map(|i| {
            (0..vols.len())
                .map(|j| vols[i] * vols[j] * corr[i][j])
                .collect()
        })
        .collect()
}

fn alloc(entity: &str, allocated: Decimal) -> Allocation {
    Allocation {
        entity: entity.into(),
        entity_type: EntityType::Strategy,
        allocated_amount: allocated,
        utilized_amount: Decimal::ZERO,
    }
}

#[test]
fn simple_targets() {
    // σ = (0.2, 0.1), ρ = 0.5: inverse volatility 1/0.2 = 5 and 1/0.1 = 10 -> (1/3, 2/3).
    // With two assets ERC is inverse volatility whatever ρ.
    let cov = cov_from(&[0.2, 0.1], &[vec![1.0, 0.5], vec![0.5, 1.0]]);
    let inputs = TargetInputs {
        covariance: Some(&cov),
        budgets: None,
    };
    let iv = target_weights(AllocationMethod::InverseVolatility, 2, inputs).unwrap();
    assert!((iv[0] - 1.0 / 3.0).abs() < 1e-12 && (iv[1] - 2.0 / 3.0).abs() < 1e-12);
    let erc = target_weights(AllocationMethod::EqualRisk, 2, inputs).unwrap();
    assert!((erc[0] - 1.0 / 3.0).abs() < 1e-9 && (erc[1] - 2.0 / 3.0).abs() < 1e-9);
    let ew = target_weights(AllocationMethod::EqualWeight, 4, TargetInputs::default()).unwrap();
    assert_eq!(ew, vec![0.25; 4]);
    let budgets = [1.0, 3.0];
    let p = target_weights(
        AllocationMethod::Proportional,
        2,
        TargetInputs {
            covariance: None,
            budgets: Some(&budgets),
        },
    )
    .unwrap();
    assert_eq!(p, vec![0.25, 0.75]);
}

#[test]
fn equal_risk_four_asset_textbook_example() {
    // Maillard, Roncalli & Teiletche (2010)'s four-asset illustration: σ = 10, 20, 30, 40 %,
    // ρ12 = 0.8, ρ34 = -0.5, other pairs 0. ERC weights 38.4 %, 19.2 %, 24.3 %, 18.2 %
    // (more digits: 0.383613, 0.191806, 0.242618, 0.181963), σ_p = 10.29 %.
    let corr = vec![
        vec![1.0, 0.8, 0.0, 0.0],
        vec![0.8, 1.0, 0.0, 0.0],
        vec![0.0, 0.0, 1.0, -0.5],
        vec![0.0, 0.0, -0.5, 1.0],
    ];
    let cov = cov_from(&[0.1, 0.2, 0.3, 0.4], &corr);
    let w = equal_risk_weights(&cov).unwrap();
    let expected = [0.383_613, 0.191_806, 0.242_618, 0.181_963];
    for (a, b) in w.iter().zip(expected) {
        assert!((a - b).abs() < 1e-6, "{w:?}");
    }
    let c = concentration(&w, &cov).unwrap();
    assert!((c.portfolio_volatility - 0.102_934).abs() < 1e-6);
    for s in c.risk_shares.unwrap() {
        assert!((s - 0.25).abs() < 1e-9);
    }
}

#[test]
fn missing_or_bad_inputs() {
    assert_eq!(
        target_weights(AllocationMethod::EqualRisk, 2, TargetInputs::default()),
        Err(RiskError::MissingInput { what: "covariance" })
    );
    assert_eq!(
        target_weights(AllocationMethod::Proportional, 2, TargetInputs::default()),
        Err(RiskError::MissingInput { what: "budgets" })
    );
    let zero = vec![vec![0.0, 0.0], vec![0.0, 0.01]];
    let inputs = TargetInputs {
        covariance: Some(&zero),
        budgets: None,
    };
    assert!(target_weights(AllocationMethod::InverseVolatility, 2, inputs).is_err());
    // A perfect hedge has no equal-risk solution (σ_p can go to 0).
    let hedge = vec![vec![1.0, -1.0], vec![-1.0, 1.0]];
    assert!(matches!(
        equal_risk_weights(&hedge),
        Err(RiskError::NoConvergence { .. })
    ));
    assert!(target_weights(AllocationMethod::EqualWeight, 0, TargetInputs::default()).is_err());
}

#[test]
fn proposal_drift_priority_and_amounts() {
    // 600 / 400 today, equal-weight target on a 1 000 budget: 500 / 500.
    // Drift 0.1 each: above 0.05, not above 2 · 0.05 = 0.1 -> medium. Turnover 0.1.
    let allocations = [alloc("trend", dec!(600)), alloc("carry", dec!(400))];
    let p = rebalance(
        &allocations,
        dec!(1000),
        AllocationMethod::EqualWeight,
        TargetInputs::default(),
        0.05,
    )
    .unwrap();
    assert!(p.requires_rebalancing);
    assert_eq!(p.priority, Priority::Medium);
    assert!((p.max_drift - 0.1).abs() < 1e-12);
    assert!((p.turnover - 0.1).abs() < 1e-12);
    assert_eq!(p.changes[0].target_amount, dec!(500));
    assert_eq!(p.changes[0].change, dec!(-100));
    assert_eq!(p.changes[1].change, dec!(100));
    assert_eq!(
        p.reason,
        "largest drift 10.0% (trend) exceeds the 5.0% threshold"
    );
    assert_eq!(p.expected_improvement, None);

    // A 0.2 threshold: no rebalance, low priority.
    let p = rebalance(
        &allocations,
        dec!(1000),
        AllocationMethod::EqualWeight,
        TargetInputs::default(),
        0.2,
    )
    .unwrap();
    assert!(!p.requires_rebalancing);
    assert_eq!(p.priority, Priority::Low);
}

#[test]
fn expected_improvement_under_covariance() {
    // Two uncorrelated strategies, σ = 0.2 and 0.1, allocated 80 / 20.
    // Before: w = (0.8, 0.2), σ_p = √(0.64·0.04 + 0.04·0.01) = √0.026 = 0.161245.
    // ERC target (1/3, 2/3): σ_p = √(0.04/9 + 0.04/9) = √(0.08/9) = 0.094281.
    // Drift 0.4667 > 2 · 0.1 -> high. Amounts of 900: 300 / 600.
    let cov = cov_from(&[0.2, 0.1], &[vec![1.0, 0.0], vec![0.0, 1.0]]);
    let p = rebalance(
        &[alloc("a", dec!(80)), alloc("b", dec!(20))],
        dec!(900),
        AllocationMethod::EqualRisk,
        TargetInputs {
            covariance: Some(&cov),
            budgets: None,
        },
        0.1,
    )
    .unwrap();
    assert_eq!(p.priority, Priority::High);
    let e = p.expected_improvement.unwrap();
    assert!((e.volatility_before - 0.026_f64.sqrt()).abs() < 1e-12);
    assert!((e.volatility_after - (0.08_f64 / 9.0).sqrt()).abs() < 1e-9);
    assert!(e.volatility_change < 0.0);
    assert!((e.effective_assets_after.unwrap() - 2.0).abs() < 1e-9);
    assert!(e.effective_assets_before.unwrap() < 1.1);
    let total: Decimal = p.changes.iter().map(|c| c.target_amount).sum();
    assert_eq!(total, dec!(900));
    assert_eq!(p.changes[0].target_amount.round_dp(4), dec!(300));
}

#[test]
fn proposal_input_errors() {
    let a = [alloc("a", dec!(1))];
    let m = AllocationMethod::EqualWeight;
    let none = TargetInputs::default();
    assert!(rebalance(&[], dec!(1), m, none, 0.1).is_err());
    assert!(rebalance(&a, dec!(0), m, none, 0.1).is_err());
    assert!(rebalance(&a, dec!(1), m, none, 1.5).is_err());
    // Nothing allocated yet: current shares are 0, the drift is the target.
    let p = rebalance(&[alloc("a", dec!(0))], dec!(10), m, none, 0.1).unwrap();
    assert_eq!(p.max_drift, 1.0);
}

/// A positive-definite covariance `A·Aᵀ + εI` of 1..8 entities, with budgets.
fn book() -> impl Strategy<Value = (Vec<Vec<f64>>, Vec<f64>)> {
    (1_usize..8).prop_flat_map(|n| {
        (
            prop::collection::vec(prop::collection::vec(-0.3_f64..0.3, n), n),
            prop::collection::vec(0.0_f64..5.0, n),
        )
            .prop_map(|(a, mut budgets)| {
                let n = a.len();
                let cov = (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| {
                                let d: f64 = a[i].iter().zip(&a[j]).map(|(x, y)| x * y).sum();
                                d + if i == j { 1e-3 } else { 0.0 }
                            })
                            .collect()
                    })
                    .collect();
                budgets[0] += 0.1; // a positive sum
                (cov, budgets)
            })
    })
}

proptest! {
    #[test]
    fn every_method_gives_weights_summing_to_one((cov, budgets) in book()) {
        let n = cov.len();
        let inputs = TargetInputs { covariance: Some(&cov), budgets: Some(&budgets) };
        for method in [
            AllocationMethod::EqualWeight,
            AllocationMethod::InverseVolatility,
            AllocationMethod::EqualRisk,
            AllocationMethod::Proportional,
        ] {
            let w = target_weights(method, n, inputs).unwrap();
            prop_assert_eq!(w.len(), n);
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(w.iter().all(|x| *x >= 0.0));
        }
        // Equal risk really is equal.
        let w = equal_risk_weights(&cov).unwrap();
        let shares = concentration(&w, &cov).unwrap().risk_shares.unwrap();
        for s in shares {
            prop_assert!((s - 1.0 / n as f64).abs() < 1e-8);
        }
    }
}
