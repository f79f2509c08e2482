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
        if self.current.is_none() || self.triggers.iter().any(|t| t.starts_with("utilisation")) {
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

/// Each budget view's covariance matrix of its entities' daily returns.
type CovariancesByView = BTreeMap<BudgetEntityType, Vec<Vec<f64>>>;

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

    /// Rebalances the budget (admin): writes a new version when a trigger fires, when forced
    /// or when there is none, else skips; audited either way. With `key`, a retry with the
    /// same request answers the first result and writes nothing.
    ///
    /// # Errors
    /// 409 when the key is in use or was used with another request, or another rebalance
    /// wrote a version meanwhile; the exchange's and storage failures.
    pub fn rebalance(
        &self,
        principal: &Principal,
        key: Option<String>,
        force: bool,
    ) -> Result<RebalanceAnswer, ServiceError> {
        let actor = principal.actor();
        let ports = &self.core.ports;
        if let Some(key) = &key {
            match ports.idempotency.begin(
                &actor,
                REBALANCE_SCOPE,
                key,
                &request_hash(force),
                REBALANCE_STALE_AFTER,
            )? {
                // A claim left unfinished by a crashed process: a rebalance writes one
                // version in one transaction, so running it again is the reconciliation.
                IdempotencyBegin::Started | IdempotencyBegin::Resumed { .. } => {}
                IdempotencyBegin::Completed { status, body } => {
                    return Ok(RebalanceAnswer::Replayed { status, body })
                }
                IdempotencyBegin::InProgress => return Err(ServiceError::KeyInProgress),
                IdempotencyBegin::Mismatch => return Err(ServiceError::KeyMismatch),
            }
        }
        let done = self.rebalance_claimed(principal, &actor, key.as_deref(), force);
        if done.is_err() {
            if let Some(key) = &key {
                if let Err(e) = ports.idempotency.release(&actor, REBALANCE_SCOPE, key) {
                    tracing::warn!(error = %e, "idempotency key not released");
                }
            }
        }
        done.map(RebalanceAnswer::Fresh)
    }

    fn rebalance_claimed(
        &self,
        principal: &Principal,
        actor: &Actor,
        key: Option<&str>,
        force: bool,
    ) -> Result<RebalanceView, ServiceError> {
        // One rebalance of a tenant at a time in this process; across processes the
        // repository's version check makes the loser a conflict.
        let lock = self
            .locks
            .get_with(actor.tenant_id, || Arc::new(std::sync::Mutex::new(())));
        let _guard = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let plan = self.plan(actor, force)?;
        let now = self.core.now();
        let write = plan.requires_rebalancing();
        let (status, version, allocations) = if write {
            let next = plan.current.as_ref().map_or(1, |b| b.version + 1);
            ("completed", Some(next), plan.targets())
        } else {
            (
                "skipped",
                plan.current.as_ref().map(|b| b.version),
                plan.current
                    .as_ref()
                    .map(current_targets)
                    .unwrap_or_default(),
            )
        };
        let view = RebalanceView {
            status,
            reason: plan.reason(),
            version,
            changes: plan.changes.clone(),
            new_allocations: allocations,
            timestamp: now,
        };
        let body = serde_json::to_value(&view).map_err(|e| {
            alphapulse_domain::RepoError::Internal(format!("rebalance answer: {e}"))
        })?;
        let note = principal.note(
            REBALANCE_SCOPE,
            serde_json::json!({
                "status": status,
                "version": version,
                "force": force,
                "reason": view.reason,
            }),
        );
        let answer = key.map(|k| IdempotentAnswer {
            scope: REBALANCE_SCOPE.to_owned(),
            key: k.to_owned(),
            status: 200,
            body: body.clone(),
        });
        let ports = &self.core.ports;
        if let Some(next) = version.filter(|_| write) {
            let new = NewRiskBudget {
                version: next,
                allocation_method: plan.method.as_str().to_owned(),
                total_budget: plan.total,
                volatility_target: plan.volatility_target,
                leverage_limit: plan.leverage_limit,
                regime: RiskCore::regime_of(&plan.regime),
                reason: view.reason.clone(),
                allocations: plan
                    .targets()
                    .into_iter()
                    .map(|t| BudgetAllocation {
                        entity: t.entity,
                        entity_type: t.entity_type,
                        allocated_amount: t.allocated_amount,
                        scope: t.constraints,
                    })
                    .collect(),
            };
            let stored = ports.budgets.save(actor, &new, &note, answer)?;
            tracing::info!(version = stored.version, "risk budget rebalanced");
        } else {
            let entry: NewAuditEntry = note.success(
                actor.tenant_id,
                plan.current
                    .as_ref()
                    .map_or("risk_budget:none".to_owned(), |b| {
                        format!("risk_budget:{}", b.id)
                    }),
            );
            match answer {
                Some(a) => ports
                    .idempotency
                    .complete(actor, &a.scope, &a.key, a.status, &a.body, &entry)?,
                None => {
                    ports.audit.append(entry)?;
                }
            }
            tracing::info!("risk budget rebalance skipped");
        }
        Ok(view)
    }

    /// The budget's daily history over the last `days` (1..=365): utilisation, leverage and
    /// realised volatility from the daily portfolio snapshots, the budget version and regime
    /// of each day.
    ///
    /// # Errors
    /// 422 for `days` out of range; storage failures.
    pub fn history(&self, actor: &Actor, days: i64) -> Result<BudgetHistory, ServiceError> {
        if !(HISTORY_DAYS.0..=HISTORY_DAYS.1).contains(&days) {
            return Err(ServiceError::invalid(
                "days",
                format!("must be between {} and {}", HISTORY_DAYS.0, HISTORY_DAYS.1),
            ));
        }
        let now = self.core.now();
        let since = now - Duration::days(days);
        let ports = &self.core.ports;
        let trailing = i64::try_from(HISTORY_VOLATILITY_DAYS).unwrap_or(30);
        let snapshots = ports
            .snapshots
            .daily(actor, since - Duration::days(trailing))?;
        let versions = ports.budgets.versions_since(actor, since)?;
        let history_days = u32::try_from(days + 1).unwrap_or(u32::MAX);
        let regimes = ports.regimes.history(actor, history_days)?;
        let regime_on: BTreeMap<NaiveDate, Regime> =
            regimes.iter().map(|d| (d.date, d.regime)).collect();
        let values: Vec<f64> = snapshots.iter().map(|s| to_f64(s.total_value)).collect();
        let mut points = Vec::new();
        for (i, s) in snapshots.iter().enumerate() {
            if s.taken_at < since {
                continue;
            }
            let budget = versions.iter().rev().find(|b| b.created_at <= s.taken_at);
            let start = i.saturating_sub(HISTORY_VOLATILITY_DAYS);
            let window = &values[start..=i];
            let volatility = crate::returns::simple_returns(window)
                .ok()
                .filter(|r| r.len() >= 2)
                .and_then(|r| {
                    crate::ratios::annualised_volatility(&r, CRYPTO_PERIODS_PER_YEAR).ok()
                });
            points.push(BudgetSnapshotPoint {
                timestamp: s.taken_at,
                budget_version: budget.map(|b| b.version),
                total_budget: budget.map(|b| b.total_budget),
                gross_exposure: s.gross_exposure,
                utilization: match (budget, s.gross_exposure) {
                    (Some(b), Some(g)) => share(g, b.total_budget),
                    _ => None,
                },
                leverage: s.gross_exposure.and_then(|g| share(g, s.total_value)),
                volatility,
                regime: regime_on.get(&s.taken_at.date_naive()).copied(),
            });
        }
        let in_window: Vec<&RegimeDay> = regimes
            .iter()
            .filter(|d| d.date >= since.date_naive())
            .collect();
        let regime_changes: Vec<RegimeTransition> = in_window
            .windows(2)
            .filter(|w| w[0].regime != w[1].regime)
            .map(|w| RegimeTransition {
                from_regime: w[0].regime,
                to_regime: w[1].regime,
                date: w[1].date,
            })
            .collect();
        let stat = |f: fn(&BudgetSnapshotPoint) -> Option<f64>| -> (Option<f64>, Option<f64>) {
            let v: Vec<f64> = points.iter().filter_map(f).collect();
            if v.is_empty() {
                (None, None)
            } else {
                (
                    Some(v.iter().sum::<f64>() / v.len() as f64),
                    v.iter().copied().reduce(f64::max),
                )
            }
        };
        let (avg_utilization, max_utilization) = stat(|p| p.utilization);
        let (avg_leverage, max_leverage) = stat(|p| p.leverage);
        let (avg_volatility, _) = stat(|p| p.volatility);
        Ok(BudgetHistory {
            days,
            performance_metrics: BudgetPerformance {
                avg_utilization,
                max_utilization,
                avg_leverage,
                max_leverage,
                avg_volatility,
                rebalances: versions.iter().filter(|b| b.created_at >= since).count(),
                regime_changes: regime_changes.len(),
            },
            snapshots: points,
            regime_changes,
        })
    }

    /// The budget for one of the five regimes, from the tenant's portfolio value and limits.
    ///
    /// # Errors
    /// 404 listing the regimes for another name; the exchange's and storage failures.
    pub fn regime_budget(
        &self,
        actor: &Actor,
        regime: &str,
    ) -> Result<RegimeBudgetView, ServiceError> {
        let regime = Regime::parse_field(regime)
            .map_err(|_| ServiceError::UnknownRegime(regime.chars().take(40).collect()))?;
        let limits = self.core.limits(actor)?;
        let book = self.core.book(actor)?;
        let base = base_budget(&book, &limits);
        let b = regime_budget(
            regime,
            &BaseBudget {
                total_budget: base,
                volatility_target: limits.target_volatility,
                leverage_limit: limits.max_leverage,
            },
        )?;
        let current = RiskCore::regime_of(&self.core.current_regime(actor)?) == Some(regime);
        Ok(RegimeBudgetView {
            regime,
            current,
            base_budget: base,
            total_budget: b.total_budget,
            volatility_target: b.volatility_target,
            leverage_limit: b.leverage_limit,
            concentration_limit: b.concentration_limit,
            allocation_method: b.allocation_method,
            scaling: RegimeFactors {
                budget: b.scaling.budget,
                volatility_target: b.scaling.volatility_target,
                leverage: b.scaling.leverage.min(1.0),
            },
            description: b.description,
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

    fn plan(&self, actor: &Actor, force: bool) -> Result<Plan, ServiceError> {
        let current = self.core.ports.budgets.current(actor)?;
        let limits = self.core.limits(actor)?;
        let regime = self.core.current_regime(actor)?;
        let book = self.core.book(actor)?;
        let base = base_budget(&book, &limits);
        let known = RiskCore::regime_of(&regime);
        let (total, volatility_target, leverage_limit, method) = match known {
            Some(r) => {
                let b = regime_budget(
                    r,
                    &BaseBudget {
                        total_budget: base,
                        volatility_target: limits.target_volatility,
                        leverage_limit: limits.max_leverage,
                    },
                )?;
                (
                    b.total_budget,
                    b.volatility_target,
                    b.leverage_limit,
                    regime_scaling(r).allocation_method,
                )
            }
            None => (
                base,
                limits.target_volatility,
                limits.max_leverage,
                current
                    .as_ref()
                    .and_then(|b| AllocationMethod::parse(&b.allocation_method))
                    .unwrap_or(AllocationMethod::EqualWeight),
            ),
        };
        let entities = current
            .as_ref()
            .map(entities_of)
            .filter(|e| !e.is_empty())
            .unwrap_or_else(default_entities);
        let (used, _) = utilized(&entities, &book);
        let mut notes = Vec::new();
        let covariances = self.entity_covariances(actor, &book, &entities, method, &mut notes)?;
        let method_used = if covariances.is_none() && needs_covariance(method) {
            AllocationMethod::EqualWeight
        } else {
            method
        };
        let mut targets = vec![Decimal::ZERO; entities.len()];
        let mut changes = Vec::new();
        let mut proposals = Vec::new();
        for view in VIEWS {
            let idx: Vec<usize> = (0..entities.len())
                .filter(|i| entities[*i].1 == view)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let allocations: Vec<Allocation> = idx
                .iter()
                .map(|&i| Allocation {
                    entity: entities[i].0.clone(),
                    entity_type: view,
                    allocated_amount: current
                        .as_ref()
                        .and_then(|b| b.allocations.get(i))
                        .map_or(Decimal::ZERO, |a| a.allocated_amount),
                    utilized_amount: used[i],
                })
                .collect();
            let utilised: Vec<f64> = idx.iter().map(|&i| to_f64(used[i])).collect();
            let cov = covariances.as_ref().and_then(|c| c.get(&view));
            let inputs = TargetInputs {
                covariance: cov.map(Vec::as_slice),
                budgets: Some(&utilised),
            };
            // A zero total still needs shares: plan against one unit, amounts are zero.
            let plan_total = if total > Decimal::ZERO {
                total
            } else {
                Decimal::ONE
            };
            let proposal = match rebalance(
                &allocations,
                plan_total,
                method_used,
                inputs,
                DRIFT_THRESHOLD,
            ) {
                Ok(p) => p,
                Err(e) => {
                    notes.push(format!(
                        "{} targets fall back to equal weights ({e})",
                        view.as_str()
                    ));
                    rebalance(
                        &allocations,
                        plan_total,
                        AllocationMethod::EqualWeight,
                        TargetInputs::default(),
                        DRIFT_THRESHOLD,
                    )?
                }
            };
            for (k, c) in proposal.changes.iter().enumerate() {
                let amount = if total > Decimal::ZERO {
                    c.target_amount
                } else {
                    Decimal::ZERO
                };
                targets[idx[k]] = amount;
                changes.push(AllocationChange {
                    entity: c.entity.clone(),
                    entity_type: view,
                    current_amount: c.current_amount,
                    target_amount: amount,
                    change: amount - c.current_amount,
                    current_share: c.current_share,
                    target_share: c.target_share,
                    drift: c.drift,
                });
            }
            proposals.push((view, proposal));
        }
        let mut triggers = Vec::new();
        match &current {
            None => triggers.push("the tenant has no risk budget yet".to_owned()),
            Some(b) => {
                if force {
                    triggers.push("forced".to_owned());
                }
                if let (Some(now), Some(then)) = (known, b.regime) {
                    if now != then {
                        triggers.push(format!("the regime changed from {then} to {now}"));
                    }
                } else if known.is_some() && b.regime.is_none() {
                    triggers.push(format!(
                        "the regime is now known ({})",
                        known.map_or("", |r| r.as_str())
                    ));
                }
                let moved = if b.total_budget.is_zero() {
                    !total.is_zero()
                } else {
                    share((total - b.total_budget).abs(), b.total_budget)
                        .is_none_or(|m| m > TOTAL_MOVE_TRIGGER)
                };
                if moved {
                    triggers.push(format!(
                        "the total budget moved from {} to {}",
                        b.total_budget.normalize(),
                        total.normalize()
                    ));
                }
                let used_total = used_by_views(&entities, &used);
                let over = if b.total_budget.is_zero() {
                    !used_total.is_zero()
                } else {
                    share(used_total, b.total_budget).is_none_or(|u| u > OVERUSE_TRIGGER)
                };
                if over {
                    triggers.push(format!(
                        "utilisation {} is above {:.0}% of the budget",
                        used_total.normalize(),
                        OVERUSE_TRIGGER * 100.0
                    ));
                }
                for (view, p) in &proposals {
                    if p.requires_rebalancing {
                        triggers.push(format!("{}: {}", view.as_str(), p.reason));
                    }
                }
            }
        }
        if method_used != method {
            notes.push(format!(
                "{} targets need every entity's returns; equal weights used instead",
                method.as_str()
            ));
        }
        Ok(Plan {
            current,
            regime,
            method: method_used,
            total,
            volatility_target,
            leverage_limit,
            entities,
            targets: targets
                .into_iter()
                .map(|t| t.round_dp(SIZE_DECIMALS))
                .collect(),
            changes,
            proposals,
            triggers,
            notes,
        })
    }

    /// Each view's covariance of its entities' daily returns, when the method needs one and
    /// every entity has positions with enough history; `None` otherwise (with a note).
    fn entity_covariances(
        &self,
        actor: &Actor,
        book: &Book,
        entities: &[(String, BudgetEntityType, EntityScope)],
        method: AllocationMethod,
        notes: &mut Vec<String>,
    ) -> Result<Option<CovariancesByView>, ServiceError> {
        if book.positions.is_empty() {
            return Ok(None);
        }
        let symbols: Vec<Symbol> = book.net_by_symbol().into_keys().collect();
        if symbols.is_empty() {
            return Ok(None);
        }
        let limit = u32::try_from(BUDGET_LOOKBACK_DAYS + 1).unwrap_or(u32::MAX);
        let closes = closes(&self.core.ports, actor, &symbols, limit)?;
        let aligned = match aligned_returns(
            &closes,
            &symbols,
            BUDGET_LOOKBACK_DAYS,
            MIN_OBSERVATIONS,
            "lookback_days",
            false,
        ) {
            Ok(a) => a,
            Err(ServiceError::TooFewObservations { subject, have, .. }) => {
                if needs_covariance(method) {
                    notes.push(format!(
                        "{subject} has {have} daily returns, too few for the entities' covariance"
                    ));
                }
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let column: BTreeMap<&Symbol, &Vec<f64>> =
            aligned.keys.iter().zip(&aligned.series).collect();
        let n = aligned.observations();
        let mut out = BTreeMap::new();
        for view in VIEWS {
            let idx: Vec<usize> = (0..entities.len())
                .filter(|i| entities[*i].1 == view)
                .collect();
            let mut series = Vec::new();
            for &e in &idx {
                let members: Vec<&BookPosition> = book
                    .positions
                    .iter()
                    .filter(|p| entity_of(entities, view, p) == Some(e))
                    .collect();
                let gross: f64 = members.iter().map(|p| to_f64(p.market_value().abs())).sum();
                if gross <= 0.0 {
                    if needs_covariance(method) {
                        notes.push(format!(
                            "{} {} has no position to estimate its risk from",
                            view.as_str(),
                            entities[e].0
                        ));
                    }
                    return Ok(None);
                }
                let mut r = vec![0.0; n];
                for p in members {
                    let w = to_f64(p.market_value()) / gross;
                    if let Some(col) = column.get(&p.symbol) {
                        for (t, x) in col.iter().enumerate() {
                            r[t] += w * x;
                        }
                    }
                }
                series.push(r);
            }
            if !series.is_empty() {
                out.insert(view, covariance_matrix(&series)?);
            }
        }
        Ok(Some(out))
    }
}

fn needs_covariance(method: AllocationMethod) -> bool {
    matches!(
        method,
        AllocationMethod::EqualRisk | AllocationMethod::InverseVolatility
    )
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
