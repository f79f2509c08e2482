//! One module per subcommand.

pub mod cluster;
pub mod db;
pub mod market;
pub mod migrate;
pub mod seed_demo;
pub mod serve;
pub mod tenant;
pub mod token;
pub mod user;

use alphapulse_domain::{ports::TenantRepo, RepoError, Slug, Tenant, TenantId};
use alphapulse_persistence::{migrations, Db};
use anyhow::{anyhow, bail, Context, Result};

/// Applies pending migrations (as `serve` does), logging each one.
pub fn migrate_pending(db: &Db) -> Result<()> {
    let mut conn = db
        .owner_connection()
        .context("connecting to the database")?;
    for version in migrations::run_pending(&mut conn).context("running migrations")? {
        tracing::info!(%version, "applied migration");
    }
    Ok(())
}

/// Fails with a hint when the database is not fully migrated.
pub fn require_migrated(db: &Db) -> Result<()> {
    let mut conn = db
        .owner_connection()
        .context("connecting to the database")?;
    let pending: Vec<String> = migrations::status(&mut conn)
        .context("reading the migration status")?
        .into_iter()
        .filter(|m| !m.applied)
        .map(|m| m.name)
        .collect();
    anyhow::ensure!(
        pending.is_empty(),
        "the database has pending migrations ({}): run `alphapulse migrate` first",
        pending.join(", ")
    );
    Ok(())
}

/// A tenant by id or slug.
pub fn resolve_tenant(tenants: &dyn TenantRepo, key: &str) -> Result<Tenant> {
    if let Ok(id) = key.parse::<TenantId>() {
        return match tenants.get(id) {
            Ok(tenant) => Ok(tenant),
            Err(RepoError::NotFound(_)) => bail!("no tenant with id {id}"),
            Err(e) => Err(e).with_context(|| format!("looking up tenant {id}")),
        };
    }
    let slug = Slug::parse(key)
        .map_err(|e| anyhow!("{key:?} is neither a tenant id nor a valid slug: {e}"))?;
    tenants
        .find_by_slug(&slug)
        .with_context(|| format!("looking up tenant {slug}"))?
        .with_context(|| format!("no tenant with slug {slug}"))
}
