//! The answers of the risk-budget use cases (what the routes serialise).

#[allow(clippy::wildcard_imports)]
use super::*;

/// One allocation with its use now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationView {
    /// Entity name.
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: BudgetEntityType,
    /// Budget allocated.
    #[serde(with = "alphapulse_domain::decimal")]
    pub allocated_amount: Decimal,
    /// Gross market value of the positions it covers now.
    #[serde(with = "alphapulse_domain::decimal")]
    pub utilized_amount: Decimal,
    /// `utilized / allocated` (0 when nothing is used; `null` for a zero allocation in use).
    pub utilization_rate: Option<f64>,
    /// The positions it covers.
    pub constraints: EntityScope,
}

/// The budget in force with its use now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetView {
    /// Version, from 1.
    pub version: i32,
    /// `exposure`: the budget is gross exposure in quote currency.
    #[cfg_attr(feature = "openapi", schema(example = "exposure"))]
    pub budget_type: &'static str,
    /// How the targets were set.
    pub allocation_method: String,
    /// The whole budget.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_budget: Decimal,
    /// In use (the larger view's sum).
    #[serde(with = "alphapulse_domain::decimal")]
    pub utilized_budget: Decimal,
    /// `utilized / total` (`null` for a zero budget in use).
    pub utilization_rate: Option<f64>,
    /// Strategies then asset classes.
    pub allocations: Vec<AllocationView>,
    /// Annualised volatility target in force.
    pub volatility_target: f64,
    /// Leverage limit in force.
    pub leverage_limit: f64,
    /// The regime the budget was set for.
    pub regime: Option<Regime>,
    /// Why this version was written.
    pub reason: String,
    /// When this version was written.
    pub last_updated: DateTime<Utc>,
}

/// The utilisation answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UtilizationView {
    /// The budget version.
    pub budget_version: i32,
    /// The whole budget.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_budget: Decimal,
    /// In use.
    #[serde(with = "alphapulse_domain::decimal")]
    pub utilized_budget: Decimal,
    /// `utilized / total` (`null` for a zero budget in use).
    pub total_utilization: Option<f64>,
    /// Rate per strategy (zero allocations left out).
    pub by_strategy: BTreeMap<String, f64>,
    /// Rate per asset class (zero allocations left out).
    pub by_asset_class: BTreeMap<String, f64>,
    /// `max(0, total − utilized)`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub available_budget: Decimal,
    /// Gross value of positions no allocation covers.
    #[serde(with = "alphapulse_domain::decimal")]
    pub unallocated_exposure: Decimal,
    /// Above 90 % in total, above 95 % per entity (the total one raises a `risk_budget`
    /// alert).
    pub warnings: Vec<String>,
}

/// One entity's move.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationChange {
    /// Entity name.
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: BudgetEntityType,
    /// Allocated today (0 without a budget).
    #[serde(with = "alphapulse_domain::decimal")]
    pub current_amount: Decimal,
    /// Target.
    #[serde(with = "alphapulse_domain::decimal")]
    pub target_amount: Decimal,
    /// `target − current`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub change: Decimal,
    /// Share of its view today.
    pub current_share: f64,
    /// Target share.
    pub target_share: f64,
    /// `|target share − current share|`.
    pub drift: f64,
}

/// A target allocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetAllocation {
    /// Entity name.
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: BudgetEntityType,
    /// Amount.
    #[serde(with = "alphapulse_domain::decimal")]
    pub allocated_amount: Decimal,
    /// The positions it covers.
    pub constraints: EntityScope,
}

/// Risk of a view before and after a move, under the entities' covariance (annualised).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpectedImprovement {
    /// The view.
    pub entity_type: BudgetEntityType,
    /// Volatility of the current shares.
    pub volatility_before: f64,
    /// Volatility of the target shares.
    pub volatility_after: f64,
    /// `after − before` (negative: less risk).
    pub volatility_change: f64,
    /// Effective number of risk sources now.
    pub effective_assets_before: Option<f64>,
    /// And after.
    pub effective_assets_after: Option<f64>,
}

/// The rebalance answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RebalanceView {
    /// `completed` (a new version was written) or `skipped`.
    #[cfg_attr(feature = "openapi", schema(example = "completed"))]
    pub status: &'static str,
    /// Why.
    pub reason: String,
    /// The version in force after the call.
    pub version: Option<i32>,
    /// Every entity's move (targets of this call).
    pub changes: Vec<AllocationChange>,
    /// The allocations in force after the call.
    pub new_allocations: Vec<TargetAllocation>,
    /// When.
    pub timestamp: DateTime<Utc>,
}

/// A rebalance: computed now, or the first answer of its `Idempotency-Key` again.
#[derive(Debug, Clone, PartialEq)]
pub enum RebalanceAnswer {
    /// Computed by this call.
    Fresh(RebalanceView),
    /// Replayed from an earlier call with the same key and request.
    Replayed {
        /// Its status.
        status: u16,
        /// Its body.
        body: serde_json::Value,
    },
}

/// The recommendations answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecommendationView {
    /// Whether a rebalance would write a new version now.
    pub requires_rebalancing: bool,
    /// Why (the triggers that fired, or why none did).
    pub reason: String,
    /// Each trigger that fired.
    pub triggers: Vec<String>,
    /// Urgency.
    pub priority: Priority,
    /// The method of the targets.
    pub allocation_method: AllocationMethod,
    /// The regime of the tenant's history.
    pub regime: Option<Regime>,
    /// The total budget now (`null` without a budget).
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub current_total_budget: Option<Decimal>,
    /// The total a rebalance would set.
    #[serde(with = "alphapulse_domain::decimal")]
    pub target_total_budget: Decimal,
    /// Allocations in force (empty without a budget).
    pub current_allocations: Vec<TargetAllocation>,
    /// Allocations a rebalance would set.
    pub target_allocations: Vec<TargetAllocation>,
    /// Every entity's move.
    pub changes: Vec<AllocationChange>,
    /// Per view, when the entities' covariance is known.
    pub expected_improvement: Vec<ExpectedImprovement>,
}

/// One day of budget history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetSnapshotPoint {
    /// The day's last portfolio snapshot.
    pub timestamp: DateTime<Utc>,
    /// The budget version in force then.
    pub budget_version: Option<i32>,
    /// Its total.
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub total_budget: Option<Decimal>,
    /// Gross exposure then.
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub gross_exposure: Option<Decimal>,
    /// `gross exposure / total budget`.
    pub utilization: Option<f64>,
    /// `gross exposure / portfolio value`.
    pub leverage: Option<f64>,
    /// Realised annualised volatility of the daily portfolio values over the 30 days up to
    /// then (`null` with fewer than two returns).
    pub volatility: Option<f64>,
    /// The regime of that day.
    pub regime: Option<Regime>,
}

/// Summary of the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetPerformance {
    /// Mean utilisation.
    pub avg_utilization: Option<f64>,
    /// Highest utilisation.
    pub max_utilization: Option<f64>,
    /// Mean leverage.
    pub avg_leverage: Option<f64>,
    /// Highest leverage.
    pub max_leverage: Option<f64>,
    /// Mean realised volatility.
    pub avg_volatility: Option<f64>,
    /// Budget versions written in the window.
    pub rebalances: usize,
    /// Regime changes in the window.
    pub regime_changes: usize,
}

/// The history answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetHistory {
    /// Days covered.
    pub days: i64,
    /// One point per day with a portfolio snapshot, oldest first.
    pub snapshots: Vec<BudgetSnapshotPoint>,
    /// Summary.
    pub performance_metrics: BudgetPerformance,
    /// Regime changes in the window, oldest first.
    pub regime_changes: Vec<RegimeTransition>,
}

/// The factors a regime applies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeFactors {
    /// On the total budget.
    pub budget: f64,
    /// On the volatility target.
    pub volatility_target: f64,
    /// On the leverage limit (never above 1).
    pub leverage: f64,
}

/// The budget for one regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeBudgetView {
    /// The regime.
    pub regime: Regime,
    /// Whether it is the latest regime of the tenant's history.
    pub current: bool,
    /// The base: portfolio value × `max_leverage`.
    #[serde(with = "alphapulse_domain::decimal")]
    pub base_budget: Decimal,
    /// The regime's total budget.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_budget: Decimal,
    /// Its volatility target (capped at 0.30).
    pub volatility_target: f64,
    /// Its leverage limit (never above the tenant's).
    pub leverage_limit: f64,
    /// Largest share of the budget one entity may hold.
    pub concentration_limit: f64,
    /// How targets are set.
    pub allocation_method: AllocationMethod,
    /// The factors.
    pub scaling: RegimeFactors,
    /// Why, for people.
    pub description: &'static str,
}
