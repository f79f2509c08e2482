//! The firm console's tables (seed 004): `tenant_settings`, `decisions`, `decision_audit_log`,
//! `rule_candidates` and `rules_versions`, one module each, and what they share.

pub mod decision_audit;
pub mod decisions;
pub mod rules;
pub mod settings;

use alphapulse_domain::{Regime, Side};

use crate::Error;

pub use decision_audit::PgDecisionAuditRepo;
pub use decisions::PgDecisionRepo;
pub use rules::PgRulesRepo;
pub use settings::PgSettingsRepo;

/// A stored value the domain types refuse.
fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

/// `regime` column text (`unknown` for `None`).
fn regime_to_text(regime: Option<Regime>) -> &'static str {
    alphapulse_domain::ports::regime_text(regime)
}

/// The `regime` column read back.
fn regime_from_text(table: &'static str, text: &str) -> Result<Option<Regime>, Error> {
    match text {
        "unknown" => Ok(None),
        other => other.parse().map(Some).map_err(|e| corrupt(table, e)),
    }
}

/// The `side` column read back.
fn side_from_text(table: &'static str, text: &str) -> Result<Side, Error> {
    text.parse().map_err(|e| corrupt(table, e))
}
