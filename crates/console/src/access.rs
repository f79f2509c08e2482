//! Who may see and change which tenant's console, the same for the API and the web pages:
//! - the platform `owner`: every tenant, read and write;
//! - platform `staff`: the tenants assigned to them (`user_tenants`), read only;
//! - a tenant `admin`: their own tenant, read and write;
//! - `trader` and `viewer`: no console (403).
//!
//! A tenant the caller may not see is "not found", never "forbidden", so ids do not leak.

use std::sync::Arc;

use alphapulse_domain::{ports::TenantRepo, Principal, Role, TenantId};

use crate::ConsoleError;

/// The visibility rules over the tenant registry.
#[derive(Clone)]
pub struct Access {
    tenants: Arc<dyn TenantRepo>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").finish_non_exhaustive()
    }
}

impl Access {
    /// Rules over `tenants`.
    pub fn new(tenants: Arc<dyn TenantRepo>) -> Self {
        Self { tenants }
    }

    /// The tenant registry.
    pub fn tenants(&self) -> &Arc<dyn TenantRepo> {
        &self.tenants
    }

    /// Refuses roles without a console (`trader`, `viewer`).
    ///
    /// # Errors
    /// [`ConsoleError::Forbidden`].
    pub fn reader(caller: &Principal) -> Result<(), ConsoleError> {
        match caller.role {
            Role::Owner | Role::Staff | Role::Admin => Ok(()),
            role => Err(ConsoleError::Forbidden(format!(
                "the {role} role has no access to the firm console"
            ))),
        }
    }

    /// Refuses roles that may not change console state (staff: read only).
    ///
    /// # Errors
    /// [`ConsoleError::Forbidden`].
    pub fn writer(caller: &Principal) -> Result<(), ConsoleError> {
        match caller.role {
            Role::Owner | Role::Admin => Ok(()),
            Role::Staff => Err(ConsoleError::Forbidden(
                "staff have read-only access to tenant settings and rules".to_owned(),
            )),
            role => Err(ConsoleError::Forbidden(format!(
                "the {role} role has no access to the firm console"
            ))),
        }
    }

    /// The tenants the caller may see (`None`: every tenant, for the owner).
    ///
    /// # Errors
    /// Storage failures.
    pub fn visible(&self, caller: &Principal) -> Result<Option<Vec<TenantId>>, ConsoleError> {
        match caller.role {
            Role::Owner => Ok(None),
            Role::Staff => Ok(Some(self.tenants.assigned_tenants(caller.user_id)?)),
            _ => Ok(Some(vec![caller.tenant_id])),
        }
    }

    /// The tenant a call acts on: `asked`, or the caller's own; one the caller may not see is
    /// not found.
    ///
    /// # Errors
    /// [`ConsoleError::NotFound`]; storage failures.
    pub fn target(
        &self,
        caller: &Principal,
        asked: Option<TenantId>,
    ) -> Result<TenantId, ConsoleError> {
        let Some(asked) = asked else {
            return Ok(caller.tenant_id);
        };
        if asked == caller.tenant_id {
            return Ok(asked);
        }
        match caller.role {
            Role::Owner => match self.tenants.get(asked) {
                Ok(t) => Ok(t.id),
                Err(alphapulse_domain::RepoError::NotFound(_)) => {
                    Err(ConsoleError::NotFound("Tenant"))
                }
                Err(e) => Err(e.into()),
            },
            Role::Staff
                if self
                    .tenants
                    .assigned_tenants(caller.user_id)?
                    .contains(&asked) =>
            {
                Ok(asked)
            }
            _ => Err(ConsoleError::NotFound("Tenant")),
        }
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::{ports::MockTenantRepo, UserId};

    use super::*;

    fn caller(role: Role, tenant: TenantId) -> Principal {
        Principal {
            tenant_id: tenant,
            user_id: UserId::new_random(),
            role,
            request_id: None,
            client_request_id: None,
        }
    }

    #[test]
    fn staff_reach_assigned_tenants_only_and_others_are_not_found() {
        let (platform, assigned, other) = (
            TenantId::new_random(),
            TenantId::new_random(),
            TenantId::new_random(),
        );
        let mut repo = MockTenantRepo::new();
        repo.expect_assigned_tenants()
            .returning(move |_| Ok(vec![assigned]));
        let access = Access::new(Arc::new(repo));
        let staff = caller(Role::Staff, platform);
        assert_eq!(access.target(&staff, Some(assigned)).unwrap(), assigned);
        assert!(matches!(
            access.target(&staff, Some(other)),
            Err(ConsoleError::NotFound(_))
        ));
        assert_eq!(access.visible(&staff).unwrap(), Some(vec![assigned]));
        let admin = caller(Role::Admin, other);
        assert!(matches!(
            access.target(&admin, Some(assigned)),
            Err(ConsoleError::NotFound(_))
        ));
        assert_eq!(access.target(&admin, None).unwrap(), other);
        assert!(Access::writer(&staff).is_err() && Access::writer(&admin).is_ok());
        assert!(Access::reader(&caller(Role::Trader, other)).is_err());
    }
}
