//! `alphapulse tenant create|list|suspend|activate`: platform administration through the
//! tenant repository. Changes are written to the audit log of the platform tenant (user none,
//! the CLI acts as the system).

use alphapulse_domain::{
    ports::{AuditRepo, TenantFilter, TenantRepo},
    tenant::PLATFORM_SLUG,
    AuditOutcome, NewAuditEntry, NewTenant, PageRequest, RepoError, Slug, Tenant, TenantId,
    TenantPatch, TenantStatus,
};
use alphapulse_persistence::{PgAuditRepo, PgTenantRepo};
use anyhow::{anyhow, bail, Context, Result};

use crate::{
    cli::{TenantAction, TenantCreateArgs},
    database::Database,
};

pub fn run(database: &Database, action: &TenantAction) -> Result<()> {
    let db = database.command_pool()?;
    super::require_migrated(&db)?;
    let admin = Admin {
        tenants: PgTenantRepo::new(db.clone()),
        audit: PgAuditRepo::new(db),
    };
    match action {
        TenantAction::Create(args) => admin.create(args),
        TenantAction::List { status, json } => admin.list(*status, *json),
        TenantAction::Suspend { tenant } => admin.set_status(tenant, TenantStatus::Suspended),
        TenantAction::Activate { tenant } => admin.set_status(tenant, TenantStatus::Active),
    }
}

struct Admin {
    tenants: PgTenantRepo,
    audit: PgAuditRepo,
}

impl Admin {
    fn create(&self, args: &TenantCreateArgs) -> Result<()> {
        let slug = Slug::parse(&args.slug).map_err(|e| anyhow!(e))?;
        let new = NewTenant {
            name: args.name.clone(),
            slug: slug.clone(),
            subscription_tier: args.tier,
            max_users: args.max_users,
            max_api_calls_per_day: args.max_api_calls_per_day,
            metadata: None,
        };
        let tenant = match self.tenants.create(new) {
            Ok(tenant) => tenant,
            Err(RepoError::Conflict(_)) => bail!("a tenant with slug {slug} already exists"),
            Err(e) => return Err(e).context("creating the tenant"),
        };
        self.record(
            "tenant.create",
            &tenant,
            serde_json::json!({
                "slug": tenant.slug,
                "name": tenant.name,
                "subscription_tier": tenant.subscription_tier,
                "max_users": tenant.max_users,
            }),
        )?;
        tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "created tenant");
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&tenant).context("serialising the tenant")?
            );
        } else {
            println!("created tenant {} ({})", tenant.slug, tenant.id);
        }
        Ok(())
    }

    fn list(&self, status: Option<TenantStatus>, json: bool) -> Result<()> {
        let filter = TenantFilter { status, ids: None };
        let mut all: Vec<Tenant> = Vec::new();
        let mut cursor = None;
        loop {
            let page = PageRequest::new(Some(alphapulse_domain::page::MAX_LIMIT), cursor)
                .map_err(|e| anyhow!(e))?;
            let page = self
                .tenants
                .list(&filter, &page)
                .context("listing tenants")?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&all).context("serialising the tenants")?
            );
            return Ok(());
        }
        println!(
            "{:<36}  {:<24} {:<10} {:<10} {:>9}  name",
            "id", "slug", "status", "tier", "max_users"
        );
        for t in &all {
            println!(
                "{:<36}  {:<24} {:<10} {:<10} {:>9}  {}",
                t.id,
                t.slug.as_str(),
                t.status.as_str(),
                t.subscription_tier.as_str(),
                t.max_users,
                t.name
            );
        }
        Ok(())
    }

    fn set_status(&self, key: &str, status: TenantStatus) -> Result<()> {
        let tenant = self.resolve(key)?;
        if tenant.slug.as_str() == PLATFORM_SLUG && status != TenantStatus::Active {
            bail!(
                "the platform tenant cannot be {status}: its owner and staff would be locked out"
            );
        }
        if tenant.status == status {
            println!("tenant {} is already {status}", tenant.slug);
            return Ok(());
        }
        let before = tenant.status;
        let patch = TenantPatch {
            status: Some(status),
            ..TenantPatch::default()
        };
        let updated = self
            .tenants
            .update(tenant.id, patch)
            .with_context(|| format!("updating tenant {}", tenant.slug))?;
        let action = match status {
            TenantStatus::Active => "tenant.activate",
            TenantStatus::Suspended => "tenant.suspend",
            TenantStatus::Cancelled => "tenant.cancel",
        };
        self.record(
            action,
            &updated,
            serde_json::json!({ "slug": updated.slug, "from": before, "to": status }),
        )?;
        tracing::info!(tenant_id = %updated.id, slug = %updated.slug, from = %before, to = %status, "tenant status changed");
        println!("tenant {} ({}) is now {status}", updated.slug, updated.id);
        if status != TenantStatus::Active {
            println!("running servers refuse its users within 30 s (status cache)");
        }
        Ok(())
    }

    /// A tenant by id or slug.
    fn resolve(&self, key: &str) -> Result<Tenant> {
        if let Ok(id) = key.parse::<TenantId>() {
            return match self.tenants.get(id) {
                Ok(tenant) => Ok(tenant),
                Err(RepoError::NotFound(_)) => bail!("no tenant with id {id}"),
                Err(e) => Err(e).with_context(|| format!("looking up tenant {id}")),
            };
        }
        let slug = Slug::parse(key)
            .map_err(|e| anyhow!("{key:?} is neither a tenant id nor a valid slug: {e}"))?;
        self.tenants
            .find_by_slug(&slug)
            .with_context(|| format!("looking up tenant {slug}"))?
            .with_context(|| format!("no tenant with slug {slug}"))
    }

    /// Appends the audit row of a platform action (in the platform tenant's log).
    fn record(&self, action: &str, tenant: &Tenant, details: serde_json::Value) -> Result<()> {
        let slug = Slug::parse(PLATFORM_SLUG).map_err(|e| anyhow!(e))?;
        let platform = self
            .tenants
            .find_by_slug(&slug)
            .context("looking up the platform tenant")?
            .context("the platform tenant is missing")?;
        let mut details = details;
        if let Some(map) = details.as_object_mut() {
            map.insert("source".to_owned(), serde_json::Value::from("cli"));
        }
        self.audit
            .append(NewAuditEntry {
                tenant_id: platform.id,
                user_id: None,
                action: action.to_owned(),
                target: format!("tenant:{}", tenant.id),
                outcome: AuditOutcome::Success,
                request_id: None,
                details,
            })
            .with_context(|| format!("writing the {action} audit row"))?;
        Ok(())
    }
}
