//! Rebalancing a risk budget: target allocations, drift, and what a move would change.
//!
//! Target shares of the budget by [`AllocationMethod`]:
//! - `EqualWeight`: `1/n` each.
//! - `InverseVolatility`: `w_i ∝ 1/σ_i` ("naive risk parity"; equal risk contributions when the
//!   entities are uncorrelated). `σ_i` from the covariance diagonal.
//! - `EqualRisk`: equal risk contributions `RC_i = σ_p/n` under the full covariance (Maillard,
//!   Roncalli & Teiletche 2010), solved by cyclical coordinate descent on
//!   `min ½ yᵀΣy − Σ bᵢ ln yᵢ` with `bᵢ = 1/n`, each step the positive root
//!   `yᵢ = (−cᵢ + √(cᵢ² + 4Σᵢᵢbᵢ)) / (2Σᵢᵢ)`, `cᵢ = Σ_{j≠i} Σᵢⱼyⱼ`, then `w = y/Σy`
//!   (Griveau-Billion, Richard & Roncalli, "A Fast Algorithm for Computing High-Dimensional
//!   Risk Parity Portfolios", 2013). Converges for a positive-definite `Σ`.
//! - `Proportional`: `w_i = b_i / Σb` for given budgets `b` (e.g. the regime table's, or the
//!   tenant's own split).
//!
//! Drift is `|current share − target share|` per entity, current shares being
//! `allocated_i / Σ allocated`. A proposal **requires rebalancing** when the largest drift
//! exceeds the threshold (strictly). Priority: high above twice the threshold, medium above it,
//! low otherwise. Turnover `Σ|Δshare| / 2` is the share of the budget that moves.
//!
//! Expected improvement, when the entities' return covariance is known: portfolio volatility,
//! effective number of risk sources and risk concentration (see [`crate::concentration`]) of the
//! current and the target shares. The figures are *ex ante* under that covariance, not a
//! forecast of returns.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{check_allocations, Allocation};
use crate::concentration::{check_covariance, concentration};
use crate::error::{Result, RiskError};
use crate::sizing::SIZE_DECIMALS;
use crate::stats::check_finite;

/// How target allocations are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AllocationMethod {
    /// `1/n` each.
    EqualWeight,
    /// Proportional to `1/σ_i`.
    InverseVolatility,
    /// Equal risk contributions under the covariance.
    EqualRisk,
    /// Proportional to given budgets.
    Proportional,
}

impl AllocationMethod {
    /// Every method.
    pub const ALL: [AllocationMethod; 4] = [
        Self::EqualWeight,
        Self::InverseVolatility,
        Self::EqualRisk,
        Self::Proportional,
    ];

    /// The method named `text` (its [`AllocationMethod::as_str`] form).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The snake_case name used in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EqualWeight => "equal_weight",
            Self::InverseVolatility => "inverse_volatility",
            Self::EqualRisk => "equal_risk",
            Self::Proportional => "proportional",
        }
    }
}

/// What the methods may need, in the entities' order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TargetInputs<'a> {
    /// Covariance of the entities' returns (inverse volatility, equal risk, expected improvement).
    pub covariance: Option<&'a [Vec<f64>]>,
    /// Budgets for `Proportional`.
    pub budgets: Option<&'a [f64]>,
}

const ERC_MAX_SWEEPS: usize = 10_000;
const ERC_TOLERANCE: f64 = 1e-12;

/// Equal-risk-contribution weights (sum to 1) by cyclical coordinate descent.
///
/// # Errors
/// An invalid covariance matrix, a zero variance, or no convergence (a singular matrix).
pub fn equal_risk_weights(cov: &[Vec<f64>]) -> Result<Vec<f64>> {
    let n = cov.len();
    if n == 0 {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    }
    check_covariance(cov, n)?;
    if cov.iter().enumerate().any(|(i, row)| row[i] <= 0.0) {
        return Err(RiskError::InvalidParameter {
            name: "covariance",
            reason: "equal risk needs every variance > 0",
        });
    }
    let b = 1.0 / n as f64;
    // Start from inverse volatility: exact for uncorrelated entities.
    let mut y: Vec<f64> = (0..n).map(|i| 1.0 / cov[i][i].sqrt()).collect();
    for _ in 0..ERC_MAX_SWEEPS {
        let mut max_change: f64 = 0.0;
        for i in 0..n {
            let c: f64 = (0..n).filter(|&j| j != i).map(|j| cov[i][j] * y[j]).sum();
            let s = cov[i][i];
            let next = (-c + (c * c + 4.0 * s * b).sqrt()) / (2.0 * s);
            max_change = max_change.max(((next - y[i]) / y[i]).abs());
            y[i] = next;
        }
        if !y.iter().all(|v| v.is_finite() && *v > 0.0) {
            break;
        }
        if max_change < ERC_TOLERANCE {
            let total: f64 = y.iter().sum();
            return Ok(y.iter().map(|v| v / total).collect());
        }
    }
    Err(RiskError::NoConvergence {
        what: "equal-risk weights",
        iterations: ERC_MAX_SWEEPS,
    })
}

fn normalised(values: Vec<f64>) -> Result<Vec<f64>> {
    let total: f64 = values.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(RiskError::InvalidParameter {
            name: "budgets",
            reason: "must be at least 0 with a positive sum",
        });
    }
    Ok(values.into_iter().map(|v| v / total).collect())
}

/// Target shares (sum to 1) for `n` entities.
///
/// # Errors
/// `n == 0`, a missing or mis-sized input the method needs, a zero volatility for inverse
/// volatility, negative budgets, or a failure of [`equal_risk_weights`].
pub fn target_weights(
    method: AllocationMethod,
    n: usize,
    inputs: TargetInputs<'_>,
) -> Result<Vec<f64>> {
    if n == 0 {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    }
    let covariance = || {
        let cov = inputs
            .covariance
            .ok_or(RiskError::MissingInput { what: "covariance" })?;
        check_covariance(cov, n).map(|()| cov)
    };
    match method {
        AllocationMethod::EqualWeight => Ok(vec![1.0 / n as f64; n]),
        AllocationMethod::InverseVolatility => {
            let cov = covariance()?;
            let inv = (0..n)
                .map(|i| {
                    let vol = cov[i][i].sqrt();
                    if vol > 0.0 {
                        Ok(1.0 / vol)
                    } else {
                        Err(RiskError::InvalidParameter {
                            name: "covariance",
                            reason: "inverse volatility needs every variance > 0",
                        })
                    }
                })
                .collect::<Result<Vec<f64>>>()?;
            normalised(inv)
        }
        AllocationMethod::EqualRisk => equal_risk_weights(covariance()?),
        AllocationMethod::Proportional => {
            let budgets = inputs
                .budgets
                .ok_or(RiskError::MissingInput { what: "budgets" })?;
            if budgets.len() != n {
                return Err(RiskError::LengthMismatch {
                    what: "budgets",
                    expected: n,
                    got: budgets.len(),
                });
            }
            check_finite(budgets, "budgets")?;
            if budgets.iter().any(|b| *b < 0.0) {
                return Err(RiskError::InvalidParameter {
                    name: "budgets",
                    reason: "must be at least 0 with a positive sum",
                });
            }
            normalised(budgets.to_vec())
        }
    }
}

/// How urgent a rebalance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Within the threshold.
    Low,
    /// Above the threshold.
    Medium,
    /// Above twice the threshold.
    High,
}

/// One entity's move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityChange {
    /// Entity name.
    pub entity: String,
    /// Share of the allocated budget today.
    pub current_share: f64,
    /// Target share.
    pub target_share: f64,
    /// Allocated today.
    pub current_amount: Decimal,
    /// Target amount (of the total budget).
    pub target_amount: Decimal,
    /// `target − current` amount.
    pub change: Decimal,
    /// `|target share − current share|`.
    pub drift: f64,
}

/// Risk before and after the move, under the entities' covariance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExpectedImprovement {
    /// Volatility of the current shares.
    pub volatility_before: f64,
    /// Volatility of the target shares.
    pub volatility_after: f64,
    /// `after − before` (negative = less risk).
    pub volatility_change: f64,
    /// Effective number of risk sources now.
    pub effective_assets_before: Option<f64>,
    /// Effective number of risk sources after.
    pub effective_assets_after: Option<f64>,
    /// Risk concentration (Herfindahl of risk shares) now.
    pub concentration_before: Option<f64>,
    /// Risk concentration after.
    pub concentration_after: Option<f64>,
}

/// The recommendation / rebalance answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebalanceProposal {
    /// Method of the targets.
    pub method: AllocationMethod,
    /// Largest drift above `drift_threshold`.
    pub requires_rebalancing: bool,
    /// Why (or why not), for people.
    pub reason: String,
    /// The threshold used.
    pub drift_threshold: f64,
    /// Largest drift.
    pub max_drift: f64,
    /// `Σ|Δshare| / 2`.
    pub turnover: f64,
    /// Per entity, in input order.
    pub changes: Vec<EntityChange>,
    /// Present when a covariance was given.
    pub expected_improvement: Option<ExpectedImprovement>,
    /// Urgency.
    pub priority: Priority,
}

/// Target amounts `share × total`, rounded to [`SIZE_DECIMALS`], the rounding remainder put on
/// the largest target so they add up to `total` exactly.
fn amounts(shares: &[f64], total: Decimal) -> Result<Vec<Decimal>> {
    let mut out = shares
        .iter()
        .map(|s| {
            Decimal::from_f64(*s)
                .and_then(|s| total.checked_mul(s))
                .map(|v| v.round_dp(SIZE_DECIMALS))
                .ok_or(RiskError::InvalidParameter {
                    name: "total_budget",
                    reason: "out of decimal range",
                })
        })
        .collect::<Result<Vec<Decimal>>>()?;
    let rest = total - out.iter().sum::<Decimal>();
    let largest = (0..shares.len()).max_by(|&a, &b| shares[a].total_cmp(&shares[b]));
    if let Some(i) = largest {
        out[i] += rest;
    }
    Ok(out)
}

/// Compares today's allocations with the method's targets.
///
/// Pass one view (strategies *or* asset classes); inputs are in the allocations' order.
///
/// # Errors
/// No allocations, negative amounts, `total_budget <= 0`, `drift_threshold` outside [0, 1], or
/// a failure of [`target_weights`].
pub fn rebalance(
    allocations: &[Allocation],
    total_budget: Decimal,
    method: AllocationMethod,
    inputs: TargetInputs<'_>,
    drift_threshold: f64,
) -> Result<RebalanceProposal> {
    if allocations.is_empty() {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    }
    check_allocations(allocations)?;
    if total_budget <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "total_budget",
            reason: "must be greater than 0",
        });
    }
    if !(0.0..=1.0).contains(&drift_threshold) {
        return Err(RiskError::InvalidParameter {
            name: "drift_threshold",
            reason: "must be in [0, 1]",
        });
    }
    let n = allocations.len();
    let target = target_weights(method, n, inputs)?;
    let allocated: Decimal = allocations.iter().map(|a| a.allocated_amount).sum();
    let current: Vec<f64> = allocations
        .iter()
        .map(|a| super::ratio(a.allocated_amount, allocated).unwrap_or(0.0))
        .collect();
    let target_amounts = amounts(&target, total_budget)?;
    let changes: Vec<EntityChange> = allocations
        .iter()
        .enumerate()
        .map(|(i, a)| EntityChange {
            entity: a.entity.clone(),
            current_share: current[i],
            target_share: target[i],
            current_amount: a.allocated_amount,
            target_amount: target_amounts[i],
            change: target_amounts[i] - a.allocated_amount,
            drift: (target[i] - current[i]).abs(),
        })
        .collect();
    let (worst, max_drift) = changes
        .iter()
        .map(|c| (c.entity.as_str(), c.drift))
        .fold(("", 0.0), |best, c| if c.1 > best.1 { c } else { best });
    let requires_rebalancing = max_drift > drift_threshold;
    let priority = if max_drift > 2.0 * drift_threshold {
        Priority::High
    } else if requires_rebalancing {
        Priority::Medium
    } else {
        Priority::Low
    };
    let reason = if requires_rebalancing {
        format!(
            "largest drift {:.1}% ({worst}) exceeds the {:.1}% threshold",
            max_drift * 100.0,
            drift_threshold * 100.0
        )
    } else {
        format!(
            "every allocation is within {:.1}% of its {} target",
            drift_threshold * 100.0,
            method.as_str()
        )
    };
    let expected_improvement = match inputs.covariance {
        Some(cov) => {
            let before = concentration(&current, cov)?;
            let after = concentration(&target, cov)?;
            Some(ExpectedImprovement {
                volatility_before: before.portfolio_volatility,
                volatility_after: after.portfolio_volatility,
                volatility_change: after.portfolio_volatility - before.portfolio_volatility,
                effective_assets_before: before.effective_assets,
                effective_assets_after: after.effective_assets,
                concentration_before: before.concentration_score,
                concentration_after: after.concentration_score,
            })
        }
        None => None,
    };
    Ok(RebalanceProposal {
        method,
        requires_rebalancing,
        reason,
        drift_threshold,
        max_drift,
        turnover: changes.iter().map(|c| c.drift).sum::<f64>() / 2.0,
        changes,
        expected_improvement,
        priority,
    })
}

#[cfg(test)]
mod tests;
