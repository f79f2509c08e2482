//! Risk budgets per strategy and asset class.
//!
//! **What is budgeted.** The budget is the tenant's exposure budget in quote currency: the net
//! asset value times its leverage limit (`max_leverage`), scaled by the market regime's budget
//! factor (see [`crate::budget::regime`]) when the tenant's regime history knows the regime.
//! It is split twice, into **strategies** and into **asset classes**; each allocation covers
//! the positions its scope names (markets, symbols). An allocation's **utilisation** is the
//! gross market value `Σ |q·p|` of the positions it covers, at current prices; total
//! utilisation is the larger of the two views' sums over the total budget.
//!
//! Default entities (the first budget): strategies `spot` (spot holdings) and `futures`
//! (futures positions); asset classes `majors` (BTCUSDT, ETHUSDT) and `altcoins` (every other
//! symbol). Later versions keep the entities of the version before.
//!
//! **Targets.** Each view's target shares come from the regime's allocation method
//! (inverse volatility, equal risk, equal weight), or the current budget's method without a
//! known regime. The covariance-based methods use the entities' daily returns (each entity's
//! positions weighted by their signed value over its gross, on the holdings' aligned candles);
//! when an entity has no position or the holdings too little history, the targets fall back to
//! equal weights and the reason says so.
//!
//! **Rebalancing** writes a new version when there is no budget yet, when forced, or when a
//! trigger fires: the regime differs from the budget's, the total budget moved by more than
//! 10 %, utilisation is above 110 % of the budget, or an entity's share drifted more than 10
//! points from its target. Otherwise it is skipped. Both outcomes are audited
//! (`risk_budget.rebalance`); with an `Idempotency-Key`, a retry answers the first result.

use std::{collections::BTreeMap, sync::Arc};

use alphapulse_domain::{
    ports::{
        Actor, AlertSeverity, AlertSource, BudgetAllocation, BudgetEntityType, EntityScope,
        IdempotencyBegin, IdempotentAnswer, NewRiskBudget, RegimeDay, RiskBudget, RiskLimits,
    },
    Market, NewAuditEntry, Principal, Regime, Symbol, TenantId, TextEnum,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use moka::sync::Cache;
use rust_decimal::{prelude::FromPrimitive, Decimal};
use serde::Serialize;

use super::{
    alerts::alert,
    book::{Book, BookPosition},
    core::RiskCore,
    correlation::RegimeTransition,
    risk::share,
    series::{aligned_returns, closes, MIN_OBSERVATIONS},
    to_f64, ServiceError,
};
use crate::{
    budget::{
        rebalance, regime_budget, regime_scaling, utilization, Allocation, AllocationMethod,
        BaseBudget, Priority, RebalanceProposal, TargetInputs, Warning, TOTAL_WARNING_THRESHOLD,
    },
    concentration::covariance_matrix,
    ratios::CRYPTO_PERIODS_PER_YEAR,
    sizing::SIZE_DECIMALS,
};

/// The two views of a budget, strategies first.
pub const VIEWS: [BudgetEntityType; 2] = [BudgetEntityType::Strategy, BudgetEntityType::AssetClass];

/// Largest share drift before a rebalance is due (10 points).
pub const DRIFT_THRESHOLD: f64 = 0.10;
/// Utilisation above this multiple of the budget is a rebalancing trigger.
pub const OVERUSE_TRIGGER: f64 = 1.10;
/// A total budget moved by more than this fraction is a rebalancing trigger.
pub const TOTAL_MOVE_TRIGGER: f64 = 0.10;
/// The idempotency scope of `POST /api/v1/risk-budget/rebalance`.
pub const REBALANCE_SCOPE: &str = "risk_budget.rebalance";
/// Days of returns behind the entities' covariance.
pub const BUDGET_LOOKBACK_DAYS: usize = 252;
/// Bounds of `days` of the history route.
pub const HISTORY_DAYS: (i64, i64) = (1, 365);
/// Trailing days of the history's realised volatility.
pub const HISTORY_VOLATILITY_DAYS: usize = 30;

/// The request hash stored with an `Idempotency-Key`: SHA-256 (hex) of the canonical JSON
/// of the request's parameters (`{"force":false}`).
fn request_hash(force: bool) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!({ "force": force }).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

mod history;
mod plan;
mod rebalancing;
mod views;
pub use views::*;

/// Risk budgets.
#[derive(Debug, Clone)]
pub struct BudgetService {
    core: Arc<RiskCore>,
    locks: Cache<TenantId, Arc<std::sync::Mutex<()>>>,
}

/// The default entities of a first budget.
pub fn default_entities() -> Vec<(String, BudgetEntityType, EntityScope)> {
    let symbols = |names: &[&str]| names.iter().filter_map(|s| Symbol::parse(s).ok()).collect();
    vec![
        (
            "spot".to_owned(),
            BudgetEntityType::Strategy,
            EntityScope {
                markets: vec![Market::Spot],
                symbols: vec![],
            },
        ),
        (
            "futures".to_owned(),
            BudgetEntityType::Strategy,
            EntityScope {
                markets: vec![Market::Futures],
                symbols: vec![],
            },
        ),
        (
            "majors".to_owned(),
            BudgetEntityType::AssetClass,
            EntityScope {
                markets: vec![],
                symbols: symbols(&["BTCUSDT", "ETHUSDT"]),
            },
        ),
        (
            "altcoins".to_owned(),
            BudgetEntityType::AssetClass,
            EntityScope::default(),
        ),
    ]
}

/// The index (into `entities`) of the entity of `view` covering `p`: one naming its symbol
/// first, else a catch-all one; `None` when none covers it.
fn entity_of(
    entities: &[(String, BudgetEntityType, EntityScope)],
    view: BudgetEntityType,
    p: &BookPosition,
) -> Option<usize> {
    let in_market = |s: &EntityScope| s.markets.is_empty() || s.markets.contains(&p.market);
    let of_view = || entities.iter().enumerate().filter(|(_, e)| e.1 == view);
    of_view()
        .find(|(_, e)| in_market(&e.2) && e.2.symbols.contains(&p.symbol))
        .or_else(|| of_view().find(|(_, e)| in_market(&e.2) && e.2.symbols.is_empty()))
        .map(|(i, _)| i)
}

/// Gross value of the positions each entity covers (by index), and of those none covers,
/// per view.
fn utilized(
    entities: &[(String, BudgetEntityType, EntityScope)],
    book: &Book,
) -> (Vec<Decimal>, Decimal) {
    let mut used = vec![Decimal::ZERO; entities.len()];
    let mut unallocated = Decimal::ZERO;
    for view in VIEWS {
        for p in &book.positions {
            match entity_of(entities, view, p) {
                Some(i) => used[i] += p.market_value().abs(),
                None => unallocated += p.market_value().abs(),
            }
        }
    }
    (used, unallocated)
}

/// What a rebalance would do now.
#[derive(Debug, Clone)]
struct Plan {
    current: Option<RiskBudget>,
    regime: Option<RegimeDay>,
    method: AllocationMethod,
    total: Decimal,
    volatility_target: f64,
    leverage_limit: f64,
    entities: Vec<(String, BudgetEntityType, EntityScope)>,
    targets: Vec<Decimal>,
    changes: Vec<AllocationChange>,
    proposals: Vec<(BudgetEntityType, RebalanceProposal)>,
    triggers: Vec<String>,
    /// Utilisation is above [`OVERUSE_TRIGGER`] of the budget (a high-priority trigger).
    overused: bool,
    notes: Vec<String>,
}

impl Plan {
    fn requires_rebalancing(&self) -> bool {
        !self.triggers.is_empty()
    }

    fn targets(&self) -> Vec<TargetAllocation> {
        self.entities
            .iter()
            .zip(&self.targets)
            .map(|((entity, t, scope), amount)| TargetAllocation {
                entity: entity.clone(),
                entity_type: *t,
                allocated_amount: *amount,
                constraints: scope.clone(),
            })
            .collect()
    }

    fn reason(&self) -> String {
        let mut parts = if self.triggers.is_empty() {
            vec![format!(
                "no trigger fired: every allocation is within {:.0} points of its {} target",
                DRIFT_THRESHOLD * 100.0,
                self.method.as_str()
            )]
        } else {
            self.triggers.clone()
        };
        parts.extend(self.notes.iter().cloned());
        parts.join("; ")
    }

    fn priority(&self) -> Priority {
        let worst = self
            .proposals
            .iter()
            .map(|(_, p)| p.priority)
            .max()
            .unwrap_or(Priority::Low);
        if self.current.is_none() || self.overused {
            Priority::High
        } else if self.requires_rebalancing() {
            worst.max(Priority::Medium)
        } else {
            worst
        }
    }
}

fn current_targets(budget: &RiskBudget) -> Vec<TargetAllocation> {
    budget
        .allocations
        .iter()
        .map(|a| TargetAllocation {
            entity: a.entity.clone(),
            entity_type: a.entity_type,
            allocated_amount: a.allocated_amount,
            constraints: a.scope.clone(),
        })
        .collect()
}

fn allocation_views(budget: &RiskBudget, used: &[Decimal]) -> Vec<AllocationView> {
    budget
        .allocations
        .iter()
        .zip(used)
        .map(|(a, u)| AllocationView {
            entity: a.entity.clone(),
            entity_type: a.entity_type,
            allocated_amount: a.allocated_amount,
            utilized_amount: *u,
            utilization_rate: share(*u, a.allocated_amount),
            constraints: a.scope.clone(),
        })
        .collect()
}

fn entities_of(budget: &RiskBudget) -> Vec<(String, BudgetEntityType, EntityScope)> {
    budget
        .allocations
        .iter()
        .map(|a| (a.entity.clone(), a.entity_type, a.scope.clone()))
        .collect()
}

/// How long an unfinished rebalance's `Idempotency-Key` holds before a retry takes it over.
pub const REBALANCE_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

impl BudgetService {
    /// The service over the shared core.
    pub fn new(core: Arc<RiskCore>) -> Self {
        Self {
            core,
            locks: Cache::builder()
                .max_capacity(super::CACHE_CAPACITY)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        }
    }

    fn current(&self, actor: &Actor) -> Result<RiskBudget, ServiceError> {
        self.core
            .ports
            .budgets
            .current(actor)?
            .ok_or(ServiceError::NoBudget)
    }

    /// The budget in force with its use now.
    ///
    /// # Errors
    /// 404 without a budget; the exchange's and storage failures.
    pub fn current_budget(&self, actor: &Actor) -> Result<BudgetView, ServiceError> {
        let budget = self.current(actor)?;
        let book = self.core.book(actor)?;
        let (used, _) = utilized(&entities_of(&budget), &book);
        let allocations = allocation_views(&budget, &used);
        let utilized_budget = view_total(&allocations);
        Ok(BudgetView {
            version: budget.version,
            budget_type: "exposure",
            allocation_method: budget.allocation_method.clone(),
            total_budget: budget.total_budget,
            utilized_budget,
            utilization_rate: share(utilized_budget, budget.total_budget),
            allocations,
            volatility_target: budget.volatility_target,
            leverage_limit: budget.leverage_limit,
            regime: budget.regime,
            reason: budget.reason,
            last_updated: budget.created_at,
        })
    }

    /// Utilisation of the budget in force by the live positions, with warnings; total
    /// utilisation above 90 % raises a `risk_budget` alert.
    ///
    /// # Errors
    /// 404 without a budget; the exchange's and storage failures.
    pub fn utilization(&self, actor: &Actor) -> Result<UtilizationView, ServiceError> {
        let budget = self.current(actor)?;
        let book = self.core.book(actor)?;
        let entities = entities_of(&budget);
        let (used, unallocated) = utilized(&entities, &book);
        let allocations: Vec<Allocation> = budget
            .allocations
            .iter()
            .zip(&used)
            .map(|(a, u)| Allocation {
                entity: a.entity.clone(),
                entity_type: a.entity_type,
                allocated_amount: a.allocated_amount,
                utilized_amount: *u,
            })
            .collect();
        let view = if budget.total_budget > Decimal::ZERO {
            let u = utilization(budget.total_budget, &allocations)?;
            UtilizationView {
                budget_version: budget.version,
                total_budget: u.total_budget,
                utilized_budget: u.utilized_budget,
                total_utilization: Some(u.total_utilization),
                by_strategy: u.by_strategy,
                by_asset_class: u.by_asset_class,
                available_budget: u.available_budget,
                unallocated_exposure: unallocated,
                warnings: u.warnings.iter().map(Warning::to_string).collect(),
            }
        } else {
            // A zero budget (written for an empty book): any use is beyond it.
            let utilized_budget = view_total(&allocation_views(&budget, &used));
            UtilizationView {
                budget_version: budget.version,
                total_budget: budget.total_budget,
                utilized_budget,
                total_utilization: share(utilized_budget, budget.total_budget),
                by_strategy: BTreeMap::new(),
                by_asset_class: BTreeMap::new(),
                available_budget: Decimal::ZERO,
                unallocated_exposure: unallocated,
                warnings: if utilized_budget.is_zero() {
                    Vec::new()
                } else {
                    vec!["The risk budget is zero while positions are open - rebalance".to_owned()]
                },
            }
        };
        let over = view
            .total_utilization
            .map_or(!view.utilized_budget.is_zero(), |u| {
                u > TOTAL_WARNING_THRESHOLD
            });
        if over {
            let rate = view
                .total_utilization
                .map_or("beyond".to_owned(), |u| format!("{:.1}% of", u * 100.0));
            self.core.raise(
                actor,
                alert(
                    AlertSource::RiskBudget,
                    if view.total_utilization.is_none_or(|u| u > 1.0) {
                        AlertSeverity::Critical
                    } else {
                        AlertSeverity::Warning
                    },
                    "risk_budget:total_utilization".to_owned(),
                    "Risk budget use above 90%".to_owned(),
                    format!(
                        "positions use {rate} the risk budget (version {}, {} {})",
                        budget.version,
                        budget.total_budget.normalize(),
                        "USDT"
                    ),
                    vec!["utilization".to_owned()],
                ),
            );
        }
        Ok(view)
    }

    /// Where the budget should move now, without moving it.
    ///
    /// # Errors
    /// The exchange's and storage failures.
    pub fn recommendations(&self, actor: &Actor) -> Result<RecommendationView, ServiceError> {
        let plan = self.plan(actor, false)?;
        Ok(RecommendationView {
            requires_rebalancing: plan.requires_rebalancing(),
            reason: plan.reason(),
            triggers: plan.triggers.clone(),
            priority: plan.priority(),
            allocation_method: plan.method,
            regime: RiskCore::regime_of(&plan.regime),
            current_total_budget: plan.current.as_ref().map(|b| b.total_budget),
            target_total_budget: plan.total,
            current_allocations: plan
                .current
                .as_ref()
                .map(current_targets)
                .unwrap_or_default(),
            target_allocations: plan.targets(),
            changes: plan.changes.clone(),
            expected_improvement: plan
                .proposals
                .iter()
                .filter_map(|(t, p)| {
                    p.expected_improvement.map(|e| {
                        let annual = CRYPTO_PERIODS_PER_YEAR.sqrt();
                        ExpectedImprovement {
                            entity_type: *t,
                            volatility_before: e.volatility_before * annual,
                            volatility_after: e.volatility_after * annual,
                            volatility_change: e.volatility_change * annual,
                            effective_assets_before: e.effective_assets_before,
                            effective_assets_after: e.effective_assets_after,
                        }
                    })
                })
                .collect(),
        })
    }

    /// The budget use check of the snapshot job (raises the alert, as [`Self::utilization`]);
    /// a tenant without a budget has nothing to check.
    ///
    /// # Errors
    /// As [`Self::utilization`], except "no budget".
    pub fn check(&self, actor: &Actor) -> Result<(), ServiceError> {
        match self.utilization(actor) {
            Ok(_) | Err(ServiceError::NoBudget) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The larger of the two views' utilised sums.
fn used_by_views(
    entities: &[(String, BudgetEntityType, EntityScope)],
    used: &[Decimal],
) -> Decimal {
    VIEWS
        .iter()
        .map(|v| {
            entities
                .iter()
                .zip(used)
                .filter(|(e, _)| e.1 == *v)
                .map(|(_, u)| *u)
                .sum::<Decimal>()
        })
        .max()
        .unwrap_or_default()
}

fn view_total(allocations: &[AllocationView]) -> Decimal {
    VIEWS
        .iter()
        .map(|v| {
            allocations
                .iter()
                .filter(|a| a.entity_type == *v)
                .map(|a| a.utilized_amount)
                .sum::<Decimal>()
        })
        .max()
        .unwrap_or_default()
}

/// The base budget: portfolio value × `max_leverage`, never below zero.
fn base_budget(book: &Book, limits: &RiskLimits) -> Decimal {
    let nav = book.total_value().max(Decimal::ZERO);
    Decimal::from_f64(limits.max_leverage)
        .and_then(|l| nav.checked_mul(l))
        .map_or(Decimal::ZERO, |v| v.round_dp(SIZE_DECIMALS))
}

#[cfg(test)]
mod tests;
