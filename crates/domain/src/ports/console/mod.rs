//! The firm console (seed 004): the tenant's settings, the decisions the policy makes from
//! ensemble predictions, rules mined from decision history (candidates, versions) and the
//! decision audit trail (`decision_audit_log`, the seed's columns).
//!
//! One module per table group: `settings`, `decisions`, `rules`, `decision_audit`.

mod decision_audit;
mod decisions;
mod rules;
mod settings;

pub use decision_audit::{
    AuditAction, AuditFilter, AuditKey, AuditScope, DecisionAuditRepo, DecisionAuditRow,
};
pub use decisions::{Decision, DecisionAction, DecisionReason, DecisionRepo};
pub use rules::{
    CandidateStatus, Evidence, MinedCandidate, Rule, RuleCandidate, RulePattern, RulesChange,
    RulesRepo, RulesVersion,
};
pub use settings::{SettingsRepo, TenantSettings, MAX_LLM_CAP_USD, THRESHOLD_MAX, THRESHOLD_MIN};

#[cfg(any(test, feature = "mocks"))]
pub use decision_audit::MockDecisionAuditRepo;
#[cfg(any(test, feature = "mocks"))]
pub use decisions::MockDecisionRepo;
#[cfg(any(test, feature = "mocks"))]
pub use rules::MockRulesRepo;
#[cfg(any(test, feature = "mocks"))]
pub use settings::MockSettingsRepo;

/// The text of a market regime in rule patterns and decisions: the regime's name, or
/// `unknown` when none could be determined.
pub fn regime_text(regime: Option<crate::Regime>) -> &'static str {
    regime.map_or("unknown", |r| r.into())
}
