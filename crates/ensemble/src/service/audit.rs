//! The audit row each change hands the repository, to append in the change's transaction.

use alphapulse_domain::{ports::Actor, AuditOutcome, NewAuditEntry};
use serde_json::Value;
use uuid::Uuid;

/// A successful `action` on `ensemble` by `actor`.
pub(super) fn audit_entry(
    actor: &Actor,
    request_id: Option<&str>,
    action: &str,
    ensemble: Uuid,
    details: Value,
) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: actor.tenant_id,
        user_id: actor.user_id,
        action: action.to_owned(),
        target: format!("ensemble:{ensemble}"),
        outcome: AuditOutcome::Success,
        request_id: request_id.map(str::to_owned),
        details,
    }
}
