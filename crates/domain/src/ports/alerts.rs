//! Alerts: what the rules raise (regime changes, limits breached, budgets used up, correlation
//! spikes, quotas, failing exchange accounts) and people acknowledge. One open alert per
//! condition: a rule raises with a deduplication key, and an unacknowledged alert with the
//! same source and key makes a second raise a no-op.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Actor, BoxFuture};

/// [`AlertRepo::list_nonblocking`]'s answer.
pub type AlertPageFuture = BoxFuture<'static, Result<Page<Alert>, RepoError>>;
use crate::{AuditNote, Page, PageRequest, RepoError, UserId};

/// How urgent an alert is.
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
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum AlertSeverity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

impl crate::TextEnum for AlertSeverity {
    const FIELD: &'static str = "severity";
}

/// Which rule raised an alert.
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
pub enum AlertSource {
    /// A regime change.
    Regime,
    /// A risk or drawdown limit breached.
    Risk,
    /// A risk budget used above its threshold.
    RiskBudget,
    /// A correlation spike or concentration.
    Correlation,
    /// A tenant quota crossed.
    Quota,
    /// An exchange account failing.
    Exchange,
}

impl crate::TextEnum for AlertSource {
    const FIELD: &'static str = "source";
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The rule.
    pub source: AlertSource,
    /// How urgent.
    pub severity: AlertSeverity,
    /// One line.
    pub title: String,
    /// What happened, with the figures.
    pub message: String,
    /// Free labels (symbols, limit names, ...).
    pub tags: Vec<String>,
    /// The condition: while an alert of this source and key is unacknowledged, raising it
    /// again does nothing (e.g. `drawdown_limit`, `quota:80:2026-12-04`).
    pub dedup_key: String,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifier.
    pub id: Uuid,
    /// One line.
    pub title: String,
    /// What happened.
    pub message: String,
    /// How urgent.
    pub severity: AlertSeverity,
    /// The rule.
    pub source: AlertSource,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// Whether someone acknowledged it.
    pub acknowledged: bool,
    /// Who.
    pub acknowledged_by: Option<UserId>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Labels.
    pub tags: Vec<String>,
}

/// Filters of the alert list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Raised at or after.
    pub start: Option<DateTime<Utc>>,
    /// Raised before.
    pub end: Option<DateTime<Utc>>,
    /// Only this severity.
    pub severity: Option<AlertSeverity>,
    /// Only acknowledged (or not).
    pub acknowledged: Option<bool>,
    /// Only this rule.
    pub source: Option<AlertSource>,
}

/// The tenant's alerts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait AlertRepo: Send + Sync {
    /// Raises `alert` unless an unacknowledged alert of the same source and deduplication key
    /// exists (checked and inserted atomically); the new alert, or `None` when deduplicated.
    ///
    /// # Errors
    /// Storage failures.
    fn raise(&self, actor: &Actor, alert: &NewAlert) -> Result<Option<Alert>, RepoError>;

    /// A page of the tenant's alerts, newest first.
    ///
    /// # Errors
    /// A bad cursor, storage failures.
    fn list(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        page: &PageRequest,
    ) -> Result<Page<Alert>, RepoError>;

    /// [`AlertRepo::list`] without blocking a thread, when this repository can serve it so
    /// (an async connection on the request path); `None`: call [`AlertRepo::list`] on a
    /// blocking thread.
    fn list_nonblocking(
        &self,
        _actor: &Actor,
        _filter: &AlertFilter,
        _page: &PageRequest,
    ) -> Option<AlertPageFuture> {
        None
    }

    /// Acknowledges an alert (by `actor.user_id`), with its audit row in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] (also another tenant's id); [`RepoError::Conflict`] when it is
    /// acknowledged already; storage failures.
    fn acknowledge(&self, actor: &Actor, id: Uuid, audit: &AuditNote) -> Result<Alert, RepoError>;
}
