//! Tenant settings: read by whoever may see the tenant, changed by the owner or the tenant's
//! admin (staff: 403), every change audited in its transaction (`tenant_settings.update`).

use std::sync::Arc;

use alphapulse_domain::{
    ports::{SettingsRepo, TenantFilter, TenantSettings},
    Page, PageRequest, Principal, Tenant, TenantId, ValidationError,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::{Access, ConsoleError};

/// A partial change of the settings (at least one field).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsChange {
    /// New autopost switch.
    pub autopost_enabled: Option<bool>,
    /// New threshold, `0.80..=0.98`.
    pub autopost_threshold: Option<f64>,
    /// New monthly LLM cap in USD, as text (`"250"`, `"99.50"`).
    pub llm_tenant_cap_usd: Option<String>,
}

/// A tenant with its settings (the console's firm list).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantWithSettings {
    /// The tenant.
    pub tenant: Tenant,
    /// Its settings (the defaults when it never changed them).
    pub settings: TenantSettings,
}

/// The settings service.
#[derive(Clone)]
pub struct SettingsService {
    access: Access,
    repo: Arc<dyn SettingsRepo>,
}

impl std::fmt::Debug for SettingsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsService").finish_non_exhaustive()
    }
}

/// Parses a money amount in USD (at most 2 decimals).
///
/// # Errors
/// Text that is not such an amount (names `field`).
pub fn parse_usd(field: &'static str, text: &str) -> Result<Decimal, ValidationError> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed.len() <= 16
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.');
    ok.then(|| trimmed.parse::<Decimal>().ok())
        .flatten()
        .ok_or_else(|| ValidationError::new(field, "must be an amount in USD such as 250 or 99.50"))
}

impl SettingsService {
    /// A service over the visibility rules and the settings store.
    pub fn new(access: Access, repo: Arc<dyn SettingsRepo>) -> Self {
        Self { access, repo }
    }

    /// The settings of a tenant the caller may see.
    ///
    /// # Errors
    /// No console for the role (403), a tenant not visible (404), storage failures.
    pub fn get(
        &self,
        caller: &Principal,
        tenant: TenantId,
    ) -> Result<TenantSettings, ConsoleError> {
        Access::reader(caller)?;
        let tenant = self.access.target(caller, Some(tenant))?;
        Ok(self.repo.get(&caller.acting_in(tenant))?)
    }

    /// Changes a tenant's settings (owner: any tenant; admin: their own); audited.
    ///
    /// # Errors
    /// Staff and roles without a console (403), a tenant not visible (404), an empty change
    /// or a value out of range (422, nothing written), storage failures.
    pub fn update(
        &self,
        caller: &Principal,
        tenant: TenantId,
        change: SettingsChange,
    ) -> Result<TenantSettings, ConsoleError> {
        Access::writer(caller)?;
        let tenant = self.access.target(caller, Some(tenant))?;
        let mut errors = Vec::new();
        let cap = match change
            .llm_tenant_cap_usd
            .as_deref()
            .map(|t| parse_usd("llm_tenant_cap_usd", t))
        {
            Some(Ok(cap)) => Some(cap),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        if change == SettingsChange::default() {
            errors.push(ValidationError::new("body", "give at least one setting"));
        }
        let actor = caller.acting_in(tenant);
        let current = self.repo.get(&actor)?;
        let next = TenantSettings {
            autopost_enabled: change.autopost_enabled.unwrap_or(current.autopost_enabled),
            autopost_threshold: change
                .autopost_threshold
                .unwrap_or(current.autopost_threshold),
            llm_tenant_cap_usd: cap.unwrap_or(current.llm_tenant_cap_usd),
            ..current.clone()
        };
        errors.extend(next.check().into_iter().filter(|e| {
            // Only the fields this change sets can be wrong (stored values were checked).
            (e.field == "autopost_threshold" && change.autopost_threshold.is_some())
                || (e.field == "llm_tenant_cap_usd" && change.llm_tenant_cap_usd.is_some())
        }));
        if !errors.is_empty() {
            return Err(ConsoleError::Invalid(errors));
        }
        let details = json!({
            "autopost_enabled": next.autopost_enabled,
            "autopost_threshold": next.autopost_threshold,
            "llm_tenant_cap_usd": next.llm_tenant_cap_usd.normalize().to_string(),
            "previous": {
                "autopost_enabled": current.autopost_enabled,
                "autopost_threshold": current.autopost_threshold,
                "llm_tenant_cap_usd": current.llm_tenant_cap_usd.normalize().to_string(),
            },
        });
        let note = caller.note("tenant_settings.update", details);
        Ok(self.repo.set(&actor, &next, &note, chrono::Utc::now())?)
    }

    /// A page of the firms the caller may see, with their settings (owner: all; staff:
    /// assigned; admin: their own). The platform's own tenant is no firm and is left out.
    ///
    /// # Errors
    /// No console for the role (403), a bad cursor (422), storage failures.
    pub fn list(
        &self,
        caller: &Principal,
        page: &PageRequest,
    ) -> Result<Page<TenantWithSettings>, ConsoleError> {
        Access::reader(caller)?;
        let filter = TenantFilter {
            status: None,
            ids: self.access.visible(caller)?,
            firms_only: true,
        };
        let tenants = self.access.tenants().list(&filter, page)?;
        let ids: Vec<TenantId> = tenants.items.iter().map(|t| t.id).collect();
        let mut stored = self.repo.platform_get_many(&ids)?;
        Ok(Page {
            items: tenants
                .items
                .into_iter()
                .map(|tenant| TenantWithSettings {
                    settings: stored.remove(&tenant.id).unwrap_or_default(),
                    tenant,
                })
                .collect(),
            next_cursor: tenants.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::{
        ports::{MockSettingsRepo, MockTenantRepo},
        Role, UserId,
    };

    use super::*;

    fn admin(tenant: TenantId) -> Principal {
        Principal {
            tenant_id: tenant,
            user_id: UserId::new_random(),
            role: Role::Admin,
            request_id: None,
            client_request_id: None,
        }
    }

    #[test]
    fn a_threshold_out_of_range_writes_nothing() {
        let tenant = TenantId::new_random();
        let mut repo = MockSettingsRepo::new();
        repo.expect_get()
            .returning(|_| Ok(TenantSettings::default()));
        repo.expect_set().never();
        let service =
            SettingsService::new(Access::new(Arc::new(MockTenantRepo::new())), Arc::new(repo));
        for bad in [0.79, 0.99] {
            let err = service
                .update(
                    &admin(tenant),
                    tenant,
                    SettingsChange {
                        autopost_threshold: Some(bad),
                        ..SettingsChange::default()
                    },
                )
                .unwrap_err();
            let ConsoleError::Invalid(errors) = err else {
                panic!("{err:?}")
            };
            assert_eq!(errors[0].field, "autopost_threshold");
        }
        let empty = service.update(&admin(tenant), tenant, SettingsChange::default());
        assert!(matches!(empty, Err(ConsoleError::Invalid(_))));
    }

    #[test]
    fn a_valid_change_keeps_the_other_settings_and_is_audited() {
        let tenant = TenantId::new_random();
        let mut repo = MockSettingsRepo::new();
        repo.expect_get().returning(|_| {
            Ok(TenantSettings {
                autopost_enabled: true,
                ..TenantSettings::default()
            })
        });
        repo.expect_set()
            .withf(|_, s, note, _| {
                s.autopost_enabled
                    && s.llm_tenant_cap_usd == Decimal::new(25050, 2)
                    && note.action == "tenant_settings.update"
                    && note.details["previous"]["llm_tenant_cap_usd"] == "100"
            })
            .times(1)
            .returning(|_, s, _, _| Ok(s.clone()));
        let service =
            SettingsService::new(Access::new(Arc::new(MockTenantRepo::new())), Arc::new(repo));
        let out = service
            .update(
                &admin(tenant),
                tenant,
                SettingsChange {
                    llm_tenant_cap_usd: Some("250.50".into()),
                    ..SettingsChange::default()
                },
            )
            .unwrap();
        assert_eq!(out.autopost_threshold, 0.90);
    }

    #[test]
    fn usd_amounts_are_digits_and_a_point() {
        assert_eq!(parse_usd("x", "99.50").unwrap(), Decimal::new(9950, 2));
        for bad in ["", "-1", "1e3", "abc", "１"] {
            assert!(parse_usd("x", bad).is_err(), "{bad}");
        }
    }
}
