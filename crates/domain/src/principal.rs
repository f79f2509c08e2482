//! Who is calling, as the services see it: the verified token's tenant, user and role, and
//! the request the call belongs to (quoted in audit rows). The HTTP layer builds it from the
//! `TenantContext` the token gave; the CLI and jobs build it themselves.

use serde_json::Value;

use crate::{ports::Actor, AuditNote, Permission, Role, TenantId, UserId};

/// The caller of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's tenant (the platform tenant for `owner`/`staff`).
    pub tenant_id: TenantId,
    /// The caller.
    pub user_id: UserId,
    /// The caller's role.
    pub role: Role,
    /// The server's id of the request, for audit rows.
    pub request_id: Option<String>,
    /// The id the client sent in `x-request-id`, when it did (kept in audit details).
    pub client_request_id: Option<String>,
}

impl Principal {
    /// The actor of the caller's own tenant.
    pub fn actor(&self) -> Actor {
        Actor::user(self.tenant_id, self.user_id)
    }

    /// The actor of the caller acting in `tenant` (platform users acting on a tenant).
    pub fn acting_in(&self, tenant: TenantId) -> Actor {
        Actor::user(tenant, self.user_id)
    }

    /// An audit note of this caller doing `action` (the client's request id, if it sent
    /// one, joins the details; the row's request id is the server's).
    pub fn note(&self, action: &str, details: Value) -> AuditNote {
        AuditNote {
            user_id: Some(self.user_id),
            action: action.to_owned(),
            request_id: self.request_id.clone(),
            details: self.with_client_id(details),
        }
    }

    /// `details` with `client_request_id` added when the client sent an id.
    pub fn with_client_id(&self, mut details: Value) -> Value {
        if let (Some(client), Some(map)) = (&self.client_request_id, details.as_object_mut()) {
            map.insert("client_request_id".to_owned(), Value::from(client.clone()));
        }
        details
    }

    /// Whether the caller's role grants `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}
