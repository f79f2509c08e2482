//! A tenant's risk limits: what position sizing, the decision policy and the alert rules check
//! against. A tenant without stored limits has the defaults.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::{AuditNote, RepoError, UserId, ValidationError};

/// The limits, as fractions (0.20 = 20 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskLimits {
    /// Largest weight of one position in the portfolio, `(0, 1]`.
    pub max_position_weight: f64,
    /// Largest gross exposure / equity, `[1, 10]`.
    pub max_leverage: f64,
    /// Largest drawdown tolerated, `(0, 1]`.
    pub max_drawdown: f64,
    /// Annualised volatility the portfolio aims at, `(0, 2]`.
    pub target_volatility: f64,
    /// When they were last changed (`None`: the defaults).
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed them.
    pub updated_by: Option<UserId>,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_position_weight: 0.20,
            max_leverage: 1.5,
            max_drawdown: 0.25,
            target_volatility: 0.15,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// The valid range of each limit: `(field, lowest, lowest inclusive, highest)`.
pub const LIMIT_RANGES: [(&str, f64, bool, f64); 4] = [
    ("max_position_weight", 0.0, false, 1.0),
    ("max_leverage", 1.0, true, 10.0),
    ("max_drawdown", 0.0, false, 1.0),
    ("target_volatility", 0.0, false, 2.0),
];

impl RiskLimits {
    /// Every value outside its range ([`LIMIT_RANGES`]), one error each.
    pub fn check(&self) -> Vec<ValidationError> {
        let values = [
            self.max_position_weight,
            self.max_leverage,
            self.max_drawdown,
            self.target_volatility,
        ];
        LIMIT_RANGES
            .iter()
            .zip(values)
            .filter(|((_, low, inclusive, high), v)| {
                !(v.is_finite() && (if *inclusive { *v >= *low } else { *v > *low }) && *v <= *high)
            })
            .map(|((field, low, inclusive, high), _)| {
                let open = if *inclusive { "[" } else { "(" };
                ValidationError::new(field, format!("must be in {open}{low}, {high}]"))
            })
            .collect()
    }
}

/// The tenant's risk limits.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RiskLimitsRepo: Send + Sync {
    /// The tenant's limits ([`RiskLimits::default`] when none are stored).
    ///
    /// # Errors
    /// Storage failures.
    fn get(&self, actor: &Actor) -> Result<RiskLimits, RepoError>;

    /// Stores the tenant's limits (by `actor.user_id`), with the audit row in the same
    /// transaction; the stored limits.
    ///
    /// # Errors
    /// [`RepoError::Invalid`] for a value out of range; storage failures.
    fn set(
        &self,
        actor: &Actor,
        limits: &RiskLimits,
        audit: &AuditNote,
    ) -> Result<RiskLimits, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_each_range_is_enforced() {
        assert!(RiskLimits::default().check().is_empty());
        let bad = RiskLimits {
            max_position_weight: 0.0,
            max_leverage: 0.99,
            max_drawdown: 1.01,
            target_volatility: f64::NAN,
            ..RiskLimits::default()
        };
        let fields: Vec<&str> = bad.check().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "max_position_weight",
                "max_leverage",
                "max_drawdown",
                "target_volatility"
            ]
        );
        let edges = RiskLimits {
            max_position_weight: 1.0,
            max_leverage: 1.0,
            max_drawdown: 1.0,
            target_volatility: 2.0,
            ..RiskLimits::default()
        };
        assert!(edges.check().is_empty());
    }
}
