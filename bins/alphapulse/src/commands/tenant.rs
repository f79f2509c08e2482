//! `alphapulse tenant create|list|suspend|activate`: platform administration through the
//! tenant repository. Each change appends its audit row (user none, `source: cli`) under the
//! changed tenant in the change's own transaction.

use alphapulse_domain::{
    ports::{TenantFilter, TenantRepo},
    tenant::PLATFORM_SLUG,
    AuditNote, NewTenant, PageRequest, RepoError, Slug, Tenant, TenantPatch, TenantStatus,
    TextEnum,
};
use alphapulse_persistence::PgTenantRepo;
use anyhow::{anyhow, bail, Context, Result};

use crate::{
    cli::{TenantAction, TenantCreateArgs},
    database::Database,
};

pub fn run(database: &Database, action: &TenantAction) -> Result<()> {
    let db = database.command_pool()?;
    super::require_migrated(&db)?;
    let admin = Admin {
        tenants: PgTenantRepo::new(db),
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
        let note = cli_note(
            "tenant.create",
            serde_json::json!({
                "slug": slug,
                "name": args.name,
                "subscription_tier": args.tier,
                "max_users": args.max_users,
            }),
        );
        let tenant = match self.tenants.create(new, &note) {
            Ok(tenant) => tenant,
            Err(RepoError::Conflict(_)) => bail!("a tenant with slug {slug} already exists"),
            Err(e) => return Err(e).context("creating the tenant"),
        };
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
        let filter = TenantFilter {
            status,
            ids: None,
            firms_only: false,
        };
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
        let tenant = super::resolve_tenant(&self.tenants, key)?;
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
        let action = match status {
            TenantStatus::Active => "tenant.activate",
            TenantStatus::Suspended => "tenant.suspend",
            TenantStatus::Cancelled => "tenant.cancel",
        };
        let note = cli_note(
            action,
            serde_json::json!({ "slug": tenant.slug, "from": before, "to": status }),
        );
        let updated = self
            .tenants
            .update(tenant.id, patch, &note)
            .with_context(|| format!("updating tenant {}", tenant.slug))?;
        tracing::info!(tenant_id = %updated.id, slug = %updated.slug, from = %before, to = %status, "tenant status changed");
        println!("tenant {} ({}) is now {status}", updated.slug, updated.id);
        if status != TenantStatus::Active {
            println!("running servers refuse its users within 30 s (status cache)");
        }
        Ok(())
    }
}

/// The audit note of a CLI action (no user; `source: cli` in the details). The repository
/// appends it under the changed tenant in the change's own transaction.
fn cli_note(action: &str, mut details: serde_json::Value) -> AuditNote {
    if let Some(map) = details.as_object_mut() {
        map.insert("source".to_owned(), serde_json::Value::from("cli"));
    }
    AuditNote {
        user_id: None,
        action: action.to_owned(),
        request_id: None,
        details,
    }
}
