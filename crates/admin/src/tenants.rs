//! Platform administration of tenants.
//!
//! Only platform roles get here: the `owner` may do everything, `staff` may read the tenants
//! assigned to them (any other id reads as not found). Tenants are never deleted: cancelling
//! keeps the data, so a mistake can be undone by setting the status back to `active`. The
//! platform tenant itself cannot be suspended or cancelled, because that would lock the
//! platform's own users out. Every write appends its audit row in its own transaction, under
//! the tenant it changed.

use std::sync::Arc;

use alphapulse_domain::{
    ports::{TenantFilter, TenantRepo},
    tenant::PLATFORM_SLUG,
    NewTenant, Page, PageRequest, Permission, Principal, Role, Slug, SubscriptionTier, Tenant,
    TenantId, TenantPatch, TenantStatus, TextEnum,
};
use serde_json::{json, Value};

use crate::{checks::Checks, AdminError, Principals};

const PLATFORM_BLOCKED: &str = "The platform tenant cannot be suspended or cancelled";

/// Input of [`TenantAdmin::create`] (as sent; validated here, every bad field reported).
#[derive(Debug, Clone, Default)]
pub struct CreateTenant {
    /// Display name, 1-255 characters (trimmed).
    pub name: String,
    /// Unique handle.
    pub slug: String,
    /// `starter`, `pro` or `enterprise`.
    pub subscription_tier: String,
    /// Most users (at least 1; default 5).
    pub max_users: Option<i32>,
    /// Daily API call quota (at least 1; default 10000).
    pub max_api_calls_per_day: Option<i32>,
    /// Free-form attributes (a JSON object).
    pub metadata: Option<Value>,
}

/// Input of [`TenantAdmin::update`]: any subset, at least one field.
#[derive(Debug, Clone, Default)]
pub struct UpdateTenant {
    /// New display name.
    pub name: Option<String>,
    /// New plan.
    pub subscription_tier: Option<String>,
    /// New state.
    pub status: Option<String>,
    /// New user limit.
    pub max_users: Option<i32>,
    /// New daily quota.
    pub max_api_calls_per_day: Option<i32>,
    /// New attributes (replace the old object).
    pub metadata: Option<Value>,
}

/// The tenant administration service.
#[derive(Clone)]
pub struct TenantAdmin {
    tenants: Arc<dyn TenantRepo>,
    principals: Arc<Principals>,
}

impl std::fmt::Debug for TenantAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantAdmin").finish_non_exhaustive()
    }
}

/// The rules create and update share (the database enforces them too).
fn common(checks: &mut Checks, name: Option<&str>, limits: [Option<i32>; 2], meta: Option<&Value>) {
    if let Some(name) = name {
        checks.check(alphapulse_domain::tenant::clean_name(name));
    }
    for (field, limit) in ["max_users", "max_api_calls_per_day"]
        .into_iter()
        .zip(limits)
    {
        if limit.is_some_and(|n| n < 1) {
            checks.fail(field, "must be at least 1");
        }
    }
    if let Some(meta) = meta {
        checks.check(alphapulse_domain::text::json_object("metadata", meta));
    }
}

fn require(caller: &Principal, permission: Permission) -> Result<(), AdminError> {
    if caller.may(permission) {
        Ok(())
    } else {
        Err(AdminError::Forbidden(format!(
            "missing permission {permission}"
        )))
    }
}

impl TenantAdmin {
    /// A service over the tenant repository; status changes invalidate `principals`.
    pub fn new(tenants: Arc<dyn TenantRepo>, principals: Arc<Principals>) -> Self {
        Self {
            tenants,
            principals,
        }
    }

    /// The tenants a staff user may read (`None`: all, for the owner).
    fn visible(&self, caller: &Principal) -> Result<Option<Vec<TenantId>>, AdminError> {
        if caller.role == Role::Owner {
            return Ok(None);
        }
        Ok(Some(self.tenants.assigned_tenants(caller.user_id)?))
    }

    /// Whether the caller may see `tenant` (owner: any; staff: assigned ones).
    ///
    /// # Errors
    /// Storage failures.
    pub fn may_see(&self, caller: &Principal, tenant: TenantId) -> Result<bool, AdminError> {
        Ok(self
            .visible(caller)?
            .is_none_or(|visible| visible.contains(&tenant)))
    }

    /// A page of tenants: every tenant for the owner, the assigned ones for staff.
    ///
    /// # Errors
    /// A bad status filter (422), storage failures.
    pub fn list(
        &self,
        caller: &Principal,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Tenant>, AdminError> {
        require(caller, Permission::ReadTenants)?;
        let filter = TenantFilter {
            status: status.map(TenantStatus::parse_field).transpose()?,
            ids: self.visible(caller)?,
            firms_only: false,
        };
        Ok(self.tenants.list(&filter, page)?)
    }

    /// One tenant (staff: only an assigned one; any other id is not found).
    ///
    /// # Errors
    /// Not found or not visible; storage failures.
    pub fn get(&self, caller: &Principal, id: TenantId) -> Result<Tenant, AdminError> {
        require(caller, Permission::ReadTenants)?;
        if !self.may_see(caller, id)? {
            return Err(AdminError::NotFound("Tenant"));
        }
        Ok(self.tenants.get(id)?)
    }

    /// Creates a tenant (owner only), audited as `tenant.create`.
    ///
    /// # Errors
    /// Every invalid field (422), a taken slug (409), storage failures.
    pub fn create(&self, caller: &Principal, input: CreateTenant) -> Result<Tenant, AdminError> {
        require(caller, Permission::ManageTenants)?;
        let mut checks = Checks::default();
        let limits = [input.max_users, input.max_api_calls_per_day];
        common(
            &mut checks,
            Some(&input.name),
            limits,
            input.metadata.as_ref(),
        );
        let slug = checks.check(Slug::parse(&input.slug));
        let tier = checks.check(SubscriptionTier::parse_field(&input.subscription_tier));
        checks.finish()?;
        let (Some(slug), Some(tier)) = (slug, tier) else {
            return Err(AdminError::Invalid(Vec::new()));
        };
        let details = json!({ "slug": slug.as_str(), "subscription_tier": tier.as_str() });
        let new = NewTenant {
            name: input.name,
            slug,
            subscription_tier: tier,
            max_users: input.max_users,
            max_api_calls_per_day: input.max_api_calls_per_day,
            metadata: input.metadata,
        };
        Ok(self
            .tenants
            .create(new, &caller.note("tenant.create", details))?)
    }

    /// Changes a tenant (owner only), audited as `tenant.update`.
    ///
    /// # Errors
    /// Every invalid field or an empty change (422), unknown tenant (404), blocking the
    /// platform tenant (409), storage failures.
    pub fn update(
        &self,
        caller: &Principal,
        id: TenantId,
        input: UpdateTenant,
    ) -> Result<Tenant, AdminError> {
        require(caller, Permission::ManageTenants)?;
        let mut checks = Checks::default();
        let limits = [input.max_users, input.max_api_calls_per_day];
        common(
            &mut checks,
            input.name.as_deref(),
            limits,
            input.metadata.as_ref(),
        );
        let tier = input
            .subscription_tier
            .as_deref()
            .and_then(|t| checks.check(SubscriptionTier::parse_field(t)));
        let status = input
            .status
            .as_deref()
            .and_then(|s| checks.check(TenantStatus::parse_field(s)));
        checks.finish()?;
        let patch = TenantPatch {
            name: input.name,
            subscription_tier: tier,
            status,
            max_users: input.max_users,
            max_api_calls_per_day: input.max_api_calls_per_day,
            metadata: input.metadata,
        };
        if patch == TenantPatch::default() {
            return Err(AdminError::Invalid(vec![
                alphapulse_domain::ValidationError::new("body", "give at least one field"),
            ]));
        }
        self.apply(caller, id, patch, "tenant.update")
    }

    /// Cancels a tenant (owner only): status `cancelled`, data kept; audited as
    /// `tenant.delete`.
    ///
    /// # Errors
    /// Unknown tenant (404), the platform tenant (409), storage failures.
    pub fn cancel(&self, caller: &Principal, id: TenantId) -> Result<Tenant, AdminError> {
        require(caller, Permission::ManageTenants)?;
        let patch = TenantPatch {
            status: Some(TenantStatus::Cancelled),
            ..TenantPatch::default()
        };
        self.apply(caller, id, patch, "tenant.delete")
    }

    /// Applies a validated patch: refuses to block the platform tenant, writes with its audit
    /// row, and drops cached principal verdicts after a status change.
    fn apply(
        &self,
        caller: &Principal,
        id: TenantId,
        patch: TenantPatch,
        action: &str,
    ) -> Result<Tenant, AdminError> {
        let current = self.tenants.get(id)?;
        if patch.status.is_some_and(|s| s != TenantStatus::Active)
            && current.slug.as_str() == PLATFORM_SLUG
        {
            return Err(AdminError::Conflict(PLATFORM_BLOCKED.to_owned()));
        }
        let status = patch.status.unwrap_or(current.status);
        let details = json!({ "changed": changed_fields(&patch), "status": status.as_str() });
        let status_change = patch.status.is_some();
        let tenant = self
            .tenants
            .update(id, patch, &caller.note(action, details))?;
        if status_change {
            self.principals.invalidate();
        }
        Ok(tenant)
    }
}

fn changed_fields(p: &TenantPatch) -> Vec<&'static str> {
    [
        ("name", p.name.is_some()),
        ("subscription_tier", p.subscription_tier.is_some()),
        ("status", p.status.is_some()),
        ("max_users", p.max_users.is_some()),
        ("max_api_calls_per_day", p.max_api_calls_per_day.is_some()),
        ("metadata", p.metadata.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect()
}
