//! Risk-budget maths: how much of a risk budget each strategy or asset class has, how much it
//! uses, where to move it, and how the budget changes with the market regime.
//!
//! A **risk budget** is an amount of risk capital (quote currency) split into allocations per
//! entity. Strategies and asset classes are two *views* of the same budget: the strategy
//! allocations add up to the budget, and so do the asset-class allocations.
//!
//! - Utilisation (this module): `rate_i = utilised_i / allocated_i` per entity (undefined for a
//!   zero allocation); total utilisation `U = utilised / total budget`, where the utilised total
//!   is the sum over one view. If both views are given and disagree, the larger sum is used,
//!   so a data inconsistency can only make the warning earlier. Available budget
//!   `max(0, total − utilised)`. Warnings when `U > 0.90` ([`TOTAL_WARNING_THRESHOLD`]) and
//!   when any entity's rate `> 0.95` ([`ENTITY_WARNING_THRESHOLD`]), both strictly above, as in
//!   the original service's monitoring.
//! - Rebalancing proposals: [`mod@rebalance`].
//! - Budgets by market regime: [`regime`].

pub mod rebalance;
pub mod regime;

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

pub use rebalance::{
    equal_risk_weights, rebalance, target_weights, AllocationMethod, EntityChange,
    ExpectedImprovement, Priority, RebalanceProposal, TargetInputs,
};
pub use regime::{
    all_regime_budgets, regime_budget, regime_scaling, BaseBudget, RegimeBudget, RegimeScaling,
    REGIME_TABLE,
};

use crate::error::{Result, RiskError};

/// Total utilisation above which a warning is raised.
pub const TOTAL_WARNING_THRESHOLD: f64 = 0.90;

/// Per-entity utilisation above which a warning is raised.
pub const ENTITY_WARNING_THRESHOLD: f64 = 0.95;

/// What an allocation is for: the domain's one definition (strategy or asset class).
pub use alphapulse_domain::ports::BudgetEntityType as EntityType;

/// One entity's slice of the budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// Entity name (strategy or asset-class name).
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: EntityType,
    /// Budget allocated, `>= 0`.
    pub allocated_amount: Decimal,
    /// Budget in use, `>= 0` (may exceed the allocation: a breach).
    pub utilized_amount: Decimal,
}

/// An allocation with its utilisation rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationUse {
    /// Entity name.
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: EntityType,
    /// Budget allocated.
    pub allocated_amount: Decimal,
    /// Budget in use.
    pub utilized_amount: Decimal,
    /// `utilized / allocated`; `None` for a zero allocation.
    pub utilization_rate: Option<f64>,
}

/// A utilisation warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Warning {
    /// Total utilisation above [`TOTAL_WARNING_THRESHOLD`].
    Total {
        /// The total utilisation.
        rate: f64,
        /// The threshold crossed.
        threshold: f64,
    },
    /// One entity above [`ENTITY_WARNING_THRESHOLD`].
    Entity {
        /// The entity.
        entity: String,
        /// Its type.
        entity_type: EntityType,
        /// Its utilisation.
        rate: f64,
        /// The threshold crossed.
        threshold: f64,
    },
}

impl fmt::Display for Warning {
    /// The human message the API lists (the original service's wording).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Total { threshold, .. } => write!(
                f,
                "Total utilization above {:.0}% - consider reducing positions",
                threshold * 100.0
            ),
            Warning::Entity {
                entity, threshold, ..
            } => write!(f, "{entity} utilization above {:.0}%", threshold * 100.0),
        }
    }
}

/// The utilisation answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Utilization {
    /// The budget.
    pub total_budget: Decimal,
    /// Budget in use (see the module docs for two views).
    pub utilized_budget: Decimal,
    /// `utilized / total`.
    pub total_utilization: f64,
    /// `max(0, total − utilized)`.
    pub available_budget: Decimal,
    /// Every allocation with its rate.
    pub allocations: Vec<AllocationUse>,
    /// Rate per strategy (zero allocations left out).
    pub by_strategy: BTreeMap<String, f64>,
    /// Rate per asset class (zero allocations left out).
    pub by_asset_class: BTreeMap<String, f64>,
    /// Warnings, total first.
    pub warnings: Vec<Warning>,
}

/// `a / b` as `f64`; `None` for `b == 0` or a ratio out of range.
pub(crate) fn ratio(a: Decimal, b: Decimal) -> Option<f64> {
    if b.is_zero() {
        return None;
    }
    a.checked_div(b).and_then(|r| r.to_f64())
}

pub(crate) fn check_allocations(allocations: &[Allocation]) -> Result<()> {
    for a in allocations {
        if a.allocated_amount < Decimal::ZERO || a.utilized_amount < Decimal::ZERO {
            return Err(RiskError::InvalidParameter {
                name: "allocations",
                reason: "amounts must be at least 0",
            });
        }
    }
    Ok(())
}

/// Utilisation of a budget and its warnings.
///
/// # Errors
/// `total_budget <= 0`, or a negative amount in an allocation.
///
/// # Examples
/// ```
/// use alphapulse_risk::budget::{utilization, Allocation, EntityType};
/// use rust_decimal::Decimal;
/// let a = |name: &str, alloc: i64, used: i64| Allocation {
///     entity: name.into(),
///     entity_type: EntityType::Strategy,
///     allocated_amount: Decimal::from(alloc),
///     utilized_amount: Decimal::from(used),
/// };
/// let u = utilization(Decimal::from(100), &[a("trend", 60, 58), a("carry", 40, 20)]).unwrap();
/// assert_eq!(u.available_budget, Decimal::from(22));
/// assert_eq!(u.warnings.len(), 1); // trend at 96.7 %
/// assert_eq!(u.warnings[0].to_string(), "trend utilization above 95%");
/// ```
pub fn utilization(total_budget: Decimal, allocations: &[Allocation]) -> Result<Utilization> {
    if total_budget <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "total_budget",
            reason: "must be greater than 0",
        });
    }
    check_allocations(allocations)?;
    let used_by = |t: EntityType| -> Decimal {
        allocations
            .iter()
            .filter(|a| a.entity_type == t)
            .map(|a| a.utilized_amount)
            .sum()
    };
    let utilized_budget = used_by(EntityType::Strategy).max(used_by(EntityType::AssetClass));
    let total_utilization = ratio(utilized_budget, total_budget).ok_or(RiskError::NonFinite {
        what: "total utilization",
        index: 0,
    })?;
    let uses: Vec<AllocationUse> = allocations
        .iter()
        .map(|a| AllocationUse {
            entity: a.entity.clone(),
            entity_type: a.entity_type,
            allocated_amount: a.allocated_amount,
            utilized_amount: a.utilized_amount,
            utilization_rate: ratio(a.utilized_amount, a.allocated_amount),
        })
        .collect();
    let rates = |t: EntityType| -> BTreeMap<String, f64> {
        uses.iter()
            .filter(|u| u.entity_type == t)
            .filter_map(|u| u.utilization_rate.map(|r| (u.entity.clone(), r)))
            .collect()
    };
    let mut warnings = Vec::new();
    if total_utilization > TOTAL_WARNING_THRESHOLD {
        warnings.push(Warning::Total {
            rate: total_utilization,
            threshold: TOTAL_WARNING_THRESHOLD,
        });
    }
    for u in &uses {
        match u.utilization_rate {
            Some(rate) if rate > ENTITY_WARNING_THRESHOLD => warnings.push(Warning::Entity {
                entity: u.entity.clone(),
                entity_type: u.entity_type,
                rate,
                threshold: ENTITY_WARNING_THRESHOLD,
            }),
            _ => {}
        }
    }
    Ok(Utilization {
        total_budget,
        utilized_budget,
        total_utilization,
        available_budget: (total_budget - utilized_budget).max(Decimal::ZERO),
        by_strategy: rates(EntityType::Strategy),
        by_asset_class: rates(EntityType::AssetClass),
        allocations: uses,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn alloc(entity: &str, t: EntityType, allocated: Decimal, used: Decimal) -> Allocation {
        Allocation {
            entity: entity.into(),
            entity_type: t,
            allocated_amount: allocated,
            utilized_amount: used,
        }
    }

    #[test]
    fn utilization_rates_and_warnings() {
        // Budget 1 000. Strategies: trend 500/480 (96 %), carry 300/270 (90 %),
        // arb 200/170 (85 %): used 920 -> 92 % > 90 %: total warning; trend > 95 %.
        // Asset classes (same budget, another view): majors 700/650, alts 300/270.
        let s = EntityType::Strategy;
        let c = EntityType::AssetClass;
        let allocations = [
            alloc("trend", s, dec!(500), dec!(480)),
            alloc("carry", s, dec!(300), dec!(270)),
            alloc("arb", s, dec!(200), dec!(170)),
            alloc("majors", c, dec!(700), dec!(650)),
            alloc("alts", c, dec!(300), dec!(270)),
        ];
        let u = utilization(dec!(1000), &allocations).unwrap();
        assert_eq!(u.utilized_budget, dec!(920));
        assert!((u.total_utilization - 0.92).abs() < 1e-12);
        assert_eq!(u.available_budget, dec!(80));
        assert!((u.by_strategy["trend"] - 0.96).abs() < 1e-12);
        assert!((u.by_asset_class["alts"] - 0.9).abs() < 1e-12);
        assert_eq!(u.warnings.len(), 2);
        assert_eq!(
            u.warnings[0].to_string(),
            "Total utilization above 90% - consider reducing positions"
        );
        assert_eq!(u.warnings[1].to_string(), "trend utilization above 95%");
    }

    #[test]
    fn thresholds_are_strict_and_zero_allocations_undefined() {
        // Exactly 90 % total and 95 % per entity: no warning.
        let s = EntityType::Strategy;
        let u = utilization(
            dec!(100),
            &[
                alloc("a", s, dec!(60), dec!(57)),
                alloc("b", s, dec!(40), dec!(33)),
                alloc("idle", s, dec!(0), dec!(0)),
            ],
        )
        .unwrap();
        assert!((u.total_utilization - 0.90).abs() < 1e-12);
        assert!(u.warnings.is_empty());
        assert_eq!(u.allocations[2].utilization_rate, None);
        assert!(!u.by_strategy.contains_key("idle"));
    }

    #[test]
    fn over_budget_and_bad_input() {
        let s = EntityType::Strategy;
        let u = utilization(dec!(100), &[alloc("a", s, dec!(100), dec!(120))]).unwrap();
        assert_eq!(u.available_budget, Decimal::ZERO);
        assert!((u.total_utilization - 1.2).abs() < 1e-12);
        assert!(utilization(dec!(0), &[]).is_err());
        assert!(utilization(dec!(100), &[alloc("a", s, dec!(-1), dec!(0))]).is_err());
        // No allocations: nothing used.
        let u = utilization(dec!(100), &[]).unwrap();
        assert_eq!(u.total_utilization, 0.0);
    }
}
