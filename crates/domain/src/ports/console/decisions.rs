//! `decisions`: what the decision policy made of each ensemble prediction: auto-executed (an
//! order through the tenant's exchange), queued for a person, rejected, or failed at the
//! venue, with every check that did not pass. Each decision also writes its
//! `decision_audit_log` row in the same transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::Actor;
use crate::{Regime, RepoError, Side, Symbol, UserId};

/// What became of a prediction.
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
pub enum DecisionAction {
    /// Every check passed and the order was placed.
    AutoExecuted,
    /// Waits for a person (autopost off, below the threshold, no rule, LLM cap).
    Queued,
    /// The risk limits do not allow the order (or there is no direction to trade).
    Rejected,
    /// Every check passed but the venue refused or failed the order.
    Failed,
}

impl crate::TextEnum for DecisionAction {
    const FIELD: &'static str = "action";
}

/// Why a decision was not auto-executed. The declaration order is the precedence: a
/// decision's `not_auto_post_reason` is the first of its reasons.
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
pub enum DecisionReason {
    /// The tenant's autopost is off.
    AutopostDisabled,
    /// The calibrated probability is below the tenant's threshold.
    BelowThreshold,
    /// No accepted rule covers the pattern (symbol, side, ensemble, regime), or the
    /// prediction has no direction.
    NoRule,
    /// The month's LLM spend is above the tenant's cap.
    LlmCapReached,
    /// The order would break the tenant's risk limits (or cannot be sized).
    RiskLimit,
    /// The venue refused or failed the order.
    OrderFailed,
}

impl crate::TextEnum for DecisionReason {
    const FIELD: &'static str = "reason";
}

/// A decision, as made and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Identifier (the audit trail's `txn_id`).
    pub id: Uuid,
    /// The prediction decided (`None` for decisions imported from history).
    pub prediction_id: Option<Uuid>,
    /// The ensemble that predicted.
    pub ensemble_id: Uuid,
    /// The instrument.
    pub symbol: Symbol,
    /// Buy for a positive prediction, sell for a negative one, `None` for zero.
    pub side: Option<Side>,
    /// The market regime when decided (`None`: unknown).
    pub regime: Option<Regime>,
    /// The ensemble's combined signal, `-1..=1`.
    pub prediction: f64,
    /// The ensemble's own confidence, `0..=1`.
    pub raw_confidence: f64,
    /// The confidence mapped through the ensemble's calibration (the raw confidence until
    /// there are enough realised outcomes).
    pub calibrated_p: f64,
    /// Whether `calibrated_p` came from a fitted calibration.
    pub calibrated: bool,
    /// The tenant's threshold when decided.
    pub threshold_used: f64,
    /// What became of it.
    pub action: DecisionAction,
    /// Every check that did not pass, in precedence order (empty when auto-executed).
    pub reasons: Vec<DecisionReason>,
    /// A sentence on the risk check or the order (never secrets).
    pub detail: Option<String>,
    /// The venue's normalised name and the symbol, e.g. `paper:BTCUSDT`.
    pub vendor_normalized: String,
    /// The order's client id (derived from the prediction or the request's idempotency key).
    pub client_order_id: Option<String>,
    /// The venue's order status.
    pub order_status: Option<String>,
    /// The order's (or the sized order's) base quantity.
    pub quantity: Option<Decimal>,
    /// The LLM spend of the prediction's signals.
    pub llm_cost_usd: Decimal,
    /// The user whose request made it (`None` for jobs and imports).
    pub user_id: Option<UserId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Decision {
    /// The first reason (the audit trail's `not_auto_post_reason`).
    pub fn primary_reason(&self) -> Option<DecisionReason> {
        self.reasons.first().copied()
    }
}

/// The tenant's decisions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait DecisionRepo: Send + Sync {
    /// Stores a decision and its `decision_audit_log` row in one transaction.
    ///
    /// # Errors
    /// An unknown ensemble (`NotFound`), values outside the table's checks; storage failures.
    fn record(&self, actor: &Actor, decision: &Decision) -> Result<Decision, RepoError>;

    /// The newest `limit` decisions made at or after `since`, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn history(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Decision>, RepoError>;

    /// The newest `limit` decisions of one ensemble, oldest first (its calibration sample).
    ///
    /// # Errors
    /// Storage failures.
    fn ensemble_history(
        &self,
        actor: &Actor,
        ensemble_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Decision>, RepoError>;

    /// The LLM spend of the tenant's decisions made at or after `since`.
    ///
    /// # Errors
    /// Storage failures.
    fn llm_spend(&self, actor: &Actor, since: DateTime<Utc>) -> Result<Decimal, RepoError>;
}
