use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::{Regime, RepoError, Symbol};

/// A tenant's regime-model configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimeConfig {
    /// Symbols and weights of the tenant's universe (weights > 0).
    pub universe: Vec<(Symbol, f64)>,
    /// Days of history the model is fitted on.
    pub lookback_days: u32,
    /// Hidden states.
    pub n_states: usize,
    /// Last change (cached models refit after it).
    pub updated_at: DateTime<Utc>,
}

/// One day of regime history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeDay {
    /// The day.
    pub date: NaiveDate,
    /// Its regime.
    pub regime: Regime,
    /// Posterior probability of that regime.
    pub confidence: f64,
}

/// A regime change alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeAlert {
    /// Identifier.
    pub id: uuid::Uuid,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// The previous regime (`None` for the first one seen).
    pub from_regime: Option<Regime>,
    /// The new regime.
    pub to_regime: Regime,
    /// Confidence of the new regime.
    pub confidence: f64,
    /// Human-readable message.
    pub message: String,
    /// Whether someone acknowledged it.
    pub acknowledged: bool,
    /// The day the regime changed.
    pub changed_on: NaiveDate,
}

/// Per-tenant regime configuration, history and alerts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RegimeStore: Send + Sync {
    /// The tenant's configuration, if set.
    fn config(&self, actor: &Actor) -> Result<Option<RegimeConfig>, RepoError>;

    /// Sets the tenant's configuration.
    fn save_config(&self, actor: &Actor, config: &RegimeConfig) -> Result<(), RepoError>;

    /// Replaces the stored history with `days` and appends the alerts for regime changes not
    /// recorded before (by day and regime), in one transaction; returns the new alerts' count.
    ///
    /// Idempotent: recording the same days again, or concurrently from two callers, must not
    /// fail (the last write of a day wins) and raises each change alert once.
    fn record(
        &self,
        actor: &Actor,
        days: &[RegimeDay],
        changes: &[(NaiveDate, Option<Regime>, Regime, f64)],
    ) -> Result<usize, RepoError>;

    /// The newest `days` entries, oldest first.
    fn history(&self, actor: &Actor, days: u32) -> Result<Vec<RegimeDay>, RepoError>;

    /// The newest alerts, newest first (at most `limit`).
    fn alerts(&self, actor: &Actor, limit: u32) -> Result<Vec<RegimeAlert>, RepoError>;
}
