//! Risk budgets by market regime: one table of scaling factors applied to a tenant's base.
//!
//! Regime-dependent risk budgeting follows the original service's dynamic budgeting (its
//! "parameters by regime" table: risk limit and multiplier 1.2 / 0.7 / 1.0 / 0.4 / 0.8 of the
//! base, concentration limits 0.40 / 0.25 / 0.35 / 0.15 / 0.30); the rationale for cutting
//! risk when volatility and correlations jump is in Ang & Bekaert, "International Asset
//! Allocation with Regime Shifts", *Review of Financial Studies* 15(4), 2002, and Kritzman,
//! Page & Turkington, "Regime Shifts: Implications for Dynamic Strategies", *Financial Analysts
//! Journal* 68(3), 2012.
//!
//! | regime   | budget | vol target | leverage | concentration limit | method             |
//! |----------|--------|------------|----------|---------------------|--------------------|
//! | bull     | × 1.2  | × 1.2      | × 1.0    | 0.40                | inverse volatility |
//! | bear     | × 0.7  | × 0.7      | × 0.75   | 0.25                | equal risk         |
//! | sideways | × 1.0  | × 1.0      | × 1.0    | 0.35                | equal weight       |
//! | crisis   | × 0.4  | × 0.4      | × 0.5    | 0.15                | equal risk         |
//! | recovery | × 0.8  | × 0.8      | × 0.8    | 0.30                | equal risk         |
//!
//! Rules on top of the table:
//! - the leverage factor is never above 1: the tenant's `max_leverage` is a hard limit, so a
//!   regime can only lower it;
//! - the volatility target is capped at [`MAX_REGIME_VOLATILITY_TARGET`] (the original's 30 %
//!   cap), whatever the base and factor;
//! - budget amounts are rounded to 8 decimals.

use alphapulse_domain::{Regime, TextEnum};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use super::AllocationMethod;
use crate::error::{Result, RiskError};
use crate::sizing::SIZE_DECIMALS;
use crate::stats::check_positive;

/// Highest volatility target any regime may set.
pub const MAX_REGIME_VOLATILITY_TARGET: f64 = 0.30;

/// One row of the regime table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegimeScaling {
    /// The regime.
    pub regime: Regime,
    /// Factor on the total risk budget.
    pub budget: f64,
    /// Factor on the volatility target.
    pub volatility_target: f64,
    /// Factor on the leverage limit (never above 1).
    pub leverage: f64,
    /// Largest share of the budget one entity may hold.
    pub concentration_limit: f64,
    /// How targets are set in this regime.
    pub allocation_method: AllocationMethod,
    /// Why, for people.
    pub description: &'static str,
}

/// The table, in [`Regime::ALL`] order.
pub const REGIME_TABLE: [RegimeScaling; 5] = [
    RegimeScaling {
        regime: Regime::Bull,
        budget: 1.2,
        volatility_target: 1.2,
        leverage: 1.0,
        concentration_limit: 0.40,
        allocation_method: AllocationMethod::InverseVolatility,
        description: "Rising prices with moderate volatility: budget and volatility target \
                      raised 20 %, leverage at the tenant's limit.",
    },
    RegimeScaling {
        regime: Regime::Bear,
        budget: 0.7,
        volatility_target: 0.7,
        leverage: 0.75,
        concentration_limit: 0.25,
        allocation_method: AllocationMethod::EqualRisk,
        description: "Falling prices: budget and volatility target cut 30 %, leverage cut 25 %, \
                      risk spread evenly.",
    },
    RegimeScaling {
        regime: Regime::Sideways,
        budget: 1.0,
        volatility_target: 1.0,
        leverage: 1.0,
        concentration_limit: 0.35,
        allocation_method: AllocationMethod::EqualWeight,
        description: "No clear trend: the base budget, equal weights.",
    },
    RegimeScaling {
        regime: Regime::Crisis,
        budget: 0.4,
        volatility_target: 0.4,
        leverage: 0.5,
        concentration_limit: 0.15,
        allocation_method: AllocationMethod::EqualRisk,
        description: "Sharp falls with very high volatility and correlations: budget and \
                      volatility target cut 60 %, leverage halved, no concentrated bets.",
    },
    RegimeScaling {
        regime: Regime::Recovery,
        budget: 0.8,
        volatility_target: 0.8,
        leverage: 0.8,
        concentration_limit: 0.30,
        allocation_method: AllocationMethod::EqualRisk,
        description: "Rebound with volatility still elevated: 80 % of the base budget, \
                      volatility target and leverage.",
    },
];

/// The table row of a regime.
pub fn regime_scaling(regime: Regime) -> &'static RegimeScaling {
    match regime {
        Regime::Bull => &REGIME_TABLE[0],
        Regime::Bear => &REGIME_TABLE[1],
        Regime::Sideways => &REGIME_TABLE[2],
        Regime::Crisis => &REGIME_TABLE[3],
        Regime::Recovery => &REGIME_TABLE[4],
    }
}

/// A tenant's budget outside any regime adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BaseBudget {
    /// Total risk budget, quote currency.
    pub total_budget: Decimal,
    /// Annualised volatility target (the tenant's `target_volatility`).
    pub volatility_target: f64,
    /// Leverage limit (the tenant's `max_leverage`).
    pub leverage_limit: f64,
}

/// The budget for one regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegimeBudget {
    /// The regime.
    pub regime: Regime,
    /// Scaled total budget.
    pub total_budget: Decimal,
    /// Scaled and capped volatility target.
    pub volatility_target: f64,
    /// Scaled leverage limit (never above the base).
    pub leverage_limit: f64,
    /// Largest share of the budget per entity.
    pub concentration_limit: f64,
    /// How targets are set.
    pub allocation_method: AllocationMethod,
    /// The factors applied.
    pub scaling: RegimeScaling,
    /// Why, for people.
    pub description: &'static str,
}

/// Applies a regime's row to a base budget.
///
/// # Errors
/// `total_budget < 0` (an empty book has a zero budget), or a volatility target or leverage
/// limit not `> 0`.
///
/// # Examples
/// ```
/// use alphapulse_domain::Regime;
/// use alphapulse_risk::budget::{regime_budget, BaseBudget};
/// use rust_decimal::Decimal;
/// let base = BaseBudget {
///     total_budget: Decimal::from(100_000),
///     volatility_target: 0.15,
///     leverage_limit: 1.5,
/// };
/// let crisis = regime_budget(Regime::Crisis, &base).unwrap();
/// assert_eq!(crisis.total_budget, Decimal::from(40_000));
/// assert!((crisis.leverage_limit - 0.75).abs() < 1e-12);
/// ```
pub fn regime_budget(regime: Regime, base: &BaseBudget) -> Result<RegimeBudget> {
    if base.total_budget < Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "total_budget",
            reason: "must be at least 0",
        });
    }
    check_positive(base.volatility_target, "volatility_target")?;
    check_positive(base.leverage_limit, "leverage_limit")?;
    let s = *regime_scaling(regime);
    let total_budget = Decimal::from_f64(s.budget)
        .and_then(|f| base.total_budget.checked_mul(f))
        .map(|v| v.round_dp(SIZE_DECIMALS))
        .ok_or(RiskError::InvalidParameter {
            name: "total_budget",
            reason: "out of decimal range",
        })?;
    Ok(RegimeBudget {
        regime,
        total_budget,
        volatility_target: (base.volatility_target * s.volatility_target)
            .min(MAX_REGIME_VOLATILITY_TARGET),
        leverage_limit: base.leverage_limit * s.leverage.min(1.0),
        concentration_limit: s.concentration_limit,
        allocation_method: s.allocation_method,
        scaling: s,
        description: s.description,
    })
}

/// The budget for every regime, in [`Regime::ALL`] order.
///
/// # Errors
/// As [`regime_budget`].
pub fn all_regime_budgets(base: &BaseBudget) -> Result<Vec<RegimeBudget>> {
    Regime::ALL
        .iter()
        .map(|r| regime_budget(*r, base))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn base() -> BaseBudget {
        BaseBudget {
            total_budget: dec!(100000),
            volatility_target: 0.15,
            leverage_limit: 1.5,
        }
    }

    #[test]
    fn table_covers_every_regime_in_order() {
        assert_eq!(REGIME_TABLE.len(), Regime::ALL.len());
        for (row, regime) in REGIME_TABLE.iter().zip(Regime::ALL) {
            assert_eq!(row.regime, *regime);
            assert_eq!(regime_scaling(*regime).regime, *regime);
            assert!(row.leverage <= 1.0, "a regime may only lower leverage");
            assert!(row.concentration_limit > 0.0 && row.concentration_limit <= 1.0);
        }
    }

    #[test]
    fn crisis_cuts_budget_and_leverage_bull_raises_within_caps() {
        let b = base();
        let crisis = regime_budget(Regime::Crisis, &b).unwrap();
        // 100 000 · 0.4 = 40 000; 0.15 · 0.4 = 0.06; 1.5 · 0.5 = 0.75.
        assert_eq!(crisis.total_budget, dec!(40000));
        assert!((crisis.volatility_target - 0.06).abs() < 1e-12);
        assert!((crisis.leverage_limit - 0.75).abs() < 1e-12);
        assert_eq!(crisis.allocation_method, AllocationMethod::EqualRisk);
        let bull = regime_budget(Regime::Bull, &b).unwrap();
        // 0.15 · 1.2 = 0.18; leverage stays 1.5.
        assert_eq!(bull.total_budget, dec!(120000));
        assert!((bull.volatility_target - 0.18).abs() < 1e-12);
        assert_eq!(bull.leverage_limit, 1.5);
        // A high base target is capped at 30 %.
        let hot = BaseBudget {
            volatility_target: 0.4,
            ..b
        };
        assert_eq!(
            regime_budget(Regime::Bull, &hot).unwrap().volatility_target,
            MAX_REGIME_VOLATILITY_TARGET
        );
        let all = all_regime_budgets(&b).unwrap();
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|r| r.leverage_limit <= b.leverage_limit));
        assert_eq!(
            serde_json::to_value(&all[0]).unwrap()["regime"],
            serde_json::json!("bull")
        );
    }

    #[test]
    fn bad_base_is_an_error_and_an_empty_book_has_a_zero_budget() {
        let zero = BaseBudget {
            total_budget: dec!(0),
            ..base()
        };
        assert_eq!(
            regime_budget(Regime::Bull, &zero).unwrap().total_budget,
            dec!(0)
        );
        let negative = BaseBudget {
            total_budget: dec!(-1),
            ..base()
        };
        assert!(regime_budget(Regime::Bull, &negative).is_err());
        let no_vol = BaseBudget {
            volatility_target: 0.0,
            ..base()
        };
        assert!(regime_budget(Regime::Bull, &no_vol).is_err());
    }
}
