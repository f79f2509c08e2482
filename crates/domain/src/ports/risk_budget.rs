//! A tenant's risk budget: versioned allocations of its exposure budget to strategies and
//! asset classes. Every rebalance writes a new version (the old ones stay, for the history);
//! the newest version is the one in force.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Actor;
use crate::{AuditNote, Market, Regime, RepoError, Symbol, UserId};

/// What an allocation is for: the two views of one budget.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BudgetEntityType {
    /// A trading strategy.
    Strategy,
    /// An asset class.
    AssetClass,
}

impl crate::TextEnum for BudgetEntityType {
    const FIELD: &'static str = "entity_type";
}

/// Which positions an allocation covers: those in one of `markets` (empty: any market) whose
/// symbol is one of `symbols` (empty: any symbol no other allocation of the same view names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityScope {
    /// Markets covered (empty: all).
    pub markets: Vec<Market>,
    /// Symbols covered (empty: every symbol not named by another allocation of the view).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub symbols: Vec<Symbol>,
}

/// One entity's slice of the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetAllocation {
    /// Entity name (1 to 64 characters).
    pub entity: String,
    /// Strategy or asset class.
    pub entity_type: BudgetEntityType,
    /// Budget allocated, quote currency, `>= 0`.
    pub allocated_amount: Decimal,
    /// The positions it covers.
    pub scope: EntityScope,
}

/// A budget version to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRiskBudget {
    /// The version this write creates: the current version + 1 (1 for the first).
    pub version: i32,
    /// How the targets were set (`equal_weight`, `inverse_volatility`, `equal_risk`,
    /// `proportional`).
    pub allocation_method: String,
    /// The whole budget, quote currency, `>= 0`.
    pub total_budget: Decimal,
    /// Annualised volatility target in force with it.
    pub volatility_target: f64,
    /// Leverage limit in force with it.
    pub leverage_limit: f64,
    /// The market regime it was set for, when known.
    pub regime: Option<Regime>,
    /// Why it was written, for people.
    pub reason: String,
    /// Both views' allocations.
    pub allocations: Vec<BudgetAllocation>,
}

/// A stored budget version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskBudget {
    /// Identifier.
    pub id: Uuid,
    /// Version, from 1.
    pub version: i32,
    /// How the targets were set.
    pub allocation_method: String,
    /// The whole budget.
    pub total_budget: Decimal,
    /// Annualised volatility target.
    pub volatility_target: f64,
    /// Leverage limit.
    pub leverage_limit: f64,
    /// The regime it was set for.
    pub regime: Option<Regime>,
    /// Why it was written.
    pub reason: String,
    /// Both views' allocations, strategies first, each view in entity order.
    pub allocations: Vec<BudgetAllocation>,
    /// Who wrote it (`None` for jobs).
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The answer of an idempotent request, stored with the change it made.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentAnswer {
    /// The route's scope, e.g. `risk_budget.rebalance`.
    pub scope: String,
    /// The client's key (claimed before with [`super::IdempotencyRepo::begin`]).
    pub key: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// JSON body of the answer.
    pub body: serde_json::Value,
}

/// The tenant's risk budgets.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RiskBudgetRepo: Send + Sync {
    /// The version in force (the newest), if the tenant has one.
    ///
    /// # Errors
    /// Storage failures.
    fn current(&self, actor: &Actor) -> Result<Option<RiskBudget>, RepoError>;

    /// The versions in force at some time since `since`: the one in force at `since` (if
    /// any) and every later one, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn versions_since(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
    ) -> Result<Vec<RiskBudget>, RepoError>;

    /// Writes a new version with its audit row and, for a request with an
    /// `Idempotency-Key`, its stored answer: all in one transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when `budget.version` is not the current version + 1 (another
    /// rebalance won the race); [`RepoError::Invalid`] for a bad allocation; storage failures.
    fn save(
        &self,
        actor: &Actor,
        budget: &NewRiskBudget,
        audit: &AuditNote,
        answer: Option<IdempotentAnswer>,
    ) -> Result<RiskBudget, RepoError>;
}
