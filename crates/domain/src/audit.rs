//! The append-only audit log: who did what to which target, with which outcome.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{tenant::string_enum, AuditId, TenantId, UserId};

string_enum!(
    /// Whether the audited action succeeded.
    AuditOutcome, "outcome" {
        /// The action took effect.
        Success => "success",
        /// The action was attempted and failed.
        Failure => "failure",
        /// The action was refused (permission, validation).
        Denied => "denied",
    }
);

/// An audit row to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// The tenant the action concerns (the platform tenant for platform actions).
    pub tenant_id: TenantId,
    /// The acting user, if any (`None` for system jobs).
    pub user_id: Option<UserId>,
    /// What was done, e.g. `tenant.create`.
    pub action: String,
    /// What it was done to, e.g. `tenant:<uuid>`.
    pub target: String,
    /// The outcome.
    pub outcome: AuditOutcome,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// Extra structured detail (never secrets).
    pub details: serde_json::Value,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Identifier.
    pub id: AuditId,
    /// The acting user.
    pub user_id: Option<UserId>,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// The outcome.
    pub outcome: AuditOutcome,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// Extra structured detail.
    pub details: serde_json::Value,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}
