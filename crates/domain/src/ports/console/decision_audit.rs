//! `decision_audit_log`: the firm's decision trail with exactly the seed's columns: every
//! decision, and every change that steers decisions (settings, rule reviews, rollbacks).
//! Append-only for the application roles. Read in keyset pages (never `OFFSET`), newest first
//! for the audit page and oldest first for the streamed CSV export.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::Actor;
use crate::{RepoError, TenantId, UserId};

/// What an audit trail row records.
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
pub enum AuditAction {
    /// A decision auto-executed.
    AutoExecuted,
    /// A decision queued for a person.
    Queued,
    /// A decision rejected.
    Rejected,
    /// A decision whose order failed.
    Failed,
    /// The tenant's settings changed.
    SettingsUpdated,
    /// A rule candidate accepted (a new rules version).
    RuleAccepted,
    /// A rule candidate rejected.
    RuleRejected,
    /// The rules rolled back (a new version equal to an old one).
    RulesRolledBack,
}

impl crate::TextEnum for AuditAction {
    const FIELD: &'static str = "action";
}

impl From<super::DecisionAction> for AuditAction {
    fn from(a: super::DecisionAction) -> Self {
        use super::DecisionAction as D;
        match a {
            D::AutoExecuted => Self::AutoExecuted,
            D::Queued => Self::Queued,
            D::Rejected => Self::Rejected,
            D::Failed => Self::Failed,
        }
    }
}

/// One row, with the seed's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionAuditRow {
    /// When.
    pub timestamp: DateTime<Utc>,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The decision's id, or the id of the change (the `audit_log` row written with it).
    pub txn_id: Uuid,
    /// Venue and symbol (`paper:BTCUSDT`); for changes, what changed (`settings`,
    /// `rules:v3`).
    pub vendor_normalized: String,
    /// What happened.
    pub action: AuditAction,
    /// The first reason a decision was not auto-executed.
    pub not_auto_post_reason: Option<String>,
    /// The decision's calibrated probability.
    pub calibrated_p: Option<f64>,
    /// The threshold in force.
    pub threshold_used: Option<f64>,
    /// Who (`None` for jobs).
    pub user_id: Option<UserId>,
}

/// Whose rows a read may return.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditScope {
    /// One tenant, through its row-level-security scope.
    Tenant(Actor),
    /// Platform users: every tenant (`None`, the owner) or the listed ones (staff).
    Platform {
        /// The reader.
        user: UserId,
        /// The tenants (`None`: all).
        tenants: Option<Vec<TenantId>>,
    },
}

/// Filters of a read (validated by the service).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only this `vendor_normalized`.
    pub vendor: Option<String>,
}

/// A keyset position: `(timestamp, txn_id)` of the last row read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditKey {
    /// The row's timestamp.
    pub timestamp: DateTime<Utc>,
    /// The row's id.
    pub txn_id: Uuid,
}

/// Reading the decision trail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait DecisionAuditRepo: Send + Sync {
    /// Up to `limit` rows after `after` in `(timestamp, txn_id)` order (descending when
    /// `newest_first`): one keyset batch.
    ///
    /// # Errors
    /// Storage failures.
    fn batch(
        &self,
        scope: &AuditScope,
        filter: &AuditFilter,
        after: Option<AuditKey>,
        limit: u32,
        newest_first: bool,
    ) -> Result<Vec<DecisionAuditRow>, RepoError>;
}
