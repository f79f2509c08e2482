//! `tenant_settings`: whether the tenant's decisions may be auto-executed, from which calibrated
//! probability, and its monthly LLM spend cap. A tenant without a row has the defaults.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::super::Actor;
use crate::{AuditNote, RepoError, TenantId, UserId, ValidationError};

/// Lowest autopost threshold (inclusive).
pub const THRESHOLD_MIN: f64 = 0.80;
/// Highest autopost threshold (inclusive).
pub const THRESHOLD_MAX: f64 = 0.98;
/// Highest monthly LLM cap, in USD (the column holds 12 digits before the point).
pub const MAX_LLM_CAP_USD: i64 = 1_000_000_000;

/// A tenant's console settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// Whether decisions that pass every check are executed without a person.
    pub autopost_enabled: bool,
    /// Lowest calibrated probability auto-executed, `0.80..=0.98`.
    pub autopost_threshold: f64,
    /// Most LLM spend per calendar month (UTC), in USD, `>= 0`.
    pub llm_tenant_cap_usd: Decimal,
    /// When they were last changed (`None`: the defaults).
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed them (a tenant admin or the platform owner).
    pub updated_by: Option<UserId>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            autopost_enabled: false,
            autopost_threshold: 0.90,
            llm_tenant_cap_usd: Decimal::from(100),
            updated_at: None,
            updated_by: None,
        }
    }
}

impl TenantSettings {
    /// Every value outside its range, one error each.
    pub fn check(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        let t = self.autopost_threshold;
        if !(t.is_finite() && (THRESHOLD_MIN..=THRESHOLD_MAX).contains(&t)) {
            errors.push(ValidationError::new(
                "autopost_threshold",
                format!("must be between {THRESHOLD_MIN:.2} and {THRESHOLD_MAX:.2}"),
            ));
        }
        let cap = self.llm_tenant_cap_usd;
        if cap < Decimal::ZERO
            || cap > Decimal::from(MAX_LLM_CAP_USD)
            || cap.normalize().scale() > 2
        {
            errors.push(ValidationError::new(
                "llm_tenant_cap_usd",
                format!("must be between 0 and {MAX_LLM_CAP_USD} with at most 2 decimals"),
            ));
        }
        errors
    }
}

/// The tenants' settings.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SettingsRepo: Send + Sync {
    /// The tenant's settings ([`TenantSettings::default`] when none are stored).
    ///
    /// # Errors
    /// Storage failures.
    fn get(&self, actor: &Actor) -> Result<TenantSettings, RepoError>;

    /// Platform (owner and staff lists): the stored settings of `tenants` (tenants without a
    /// row are absent).
    ///
    /// # Errors
    /// Storage failures.
    fn platform_get_many(
        &self,
        tenants: &[TenantId],
    ) -> Result<BTreeMap<TenantId, TenantSettings>, RepoError>;

    /// Stores the tenant's settings (by `actor.user_id`, changed at `at`), with an `audit_log`
    /// row and a `decision_audit_log` row (`settings_updated`) in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::Invalid`] for a value out of range; storage failures.
    fn set(
        &self,
        actor: &Actor,
        settings: &TenantSettings,
        audit: &AuditNote,
        at: DateTime<Utc>,
    ) -> Result<TenantSettings, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_enforced() {
        let ok = |t: f64, cap: &str| TenantSettings {
            autopost_threshold: t,
            llm_tenant_cap_usd: cap.parse().unwrap(),
            ..TenantSettings::default()
        };
        assert!(ok(0.80, "0").check().is_empty());
        assert!(ok(0.98, "1000000000").check().is_empty());
        for bad in [0.79, 0.99, f64::NAN] {
            assert_eq!(ok(bad, "1").check()[0].field, "autopost_threshold");
        }
        for bad in ["-0.01", "1000000000.01", "1.001"] {
            assert_eq!(ok(0.9, bad).check()[0].field, "llm_tenant_cap_usd");
        }
        assert!(TenantSettings::default().check().is_empty());
    }
}
