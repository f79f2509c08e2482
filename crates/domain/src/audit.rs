//! The append-only audit log: who did what to which target, with which outcome.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AuditId, TenantId, UserId};

/// Whether the audited action succeeded.
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
pub enum AuditOutcome {
    /// The action took effect.
    Success,
    /// The action was attempted and failed.
    Failure,
    /// The action was refused (permission, validation).
    Denied,
}

impl crate::TextEnum for AuditOutcome {
    const FIELD: &'static str = "outcome";
}

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

/// What a service knows of an audit row before the change is made: who, what, why. The
/// repository that makes the change turns it into a [`NewAuditEntry`] for the changed entity
/// and appends it in the change's own transaction, so a change is never without its row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditNote {
    /// The acting user (`None` for system jobs and the CLI).
    pub user_id: Option<UserId>,
    /// What is done, e.g. `user.create`.
    pub action: String,
    /// The request that causes it.
    pub request_id: Option<String>,
    /// Extra structured detail (never secrets).
    pub details: serde_json::Value,
}

impl AuditNote {
    /// The successful entry of this note for `target` (e.g. `user:<id>`) in `tenant_id`.
    pub fn success(&self, tenant_id: TenantId, target: String) -> NewAuditEntry {
        NewAuditEntry {
            tenant_id,
            user_id: self.user_id,
            action: self.action.clone(),
            target,
            outcome: AuditOutcome::Success,
            request_id: self.request_id.clone(),
            details: self.details.clone(),
        }
    }
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
