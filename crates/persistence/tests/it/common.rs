//! Helpers shared by the persistence tests.

use alphapulse_domain::AuditNote;

/// The audit note of a fixture write (no user, `source: test`).
pub fn note(action: &str) -> AuditNote {
    AuditNote {
        user_id: None,
        action: action.to_owned(),
        request_id: None,
        details: serde_json::json!({ "source": "test" }),
    }
}
