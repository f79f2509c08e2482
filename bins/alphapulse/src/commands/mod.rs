//! One module per subcommand.

pub mod db;
pub mod market;
pub mod migrate;
pub mod seed_demo;
pub mod serve;
pub mod tenant;
pub mod token;

use alphapulse_persistence::{migrations, Db};
use anyhow::{Context, Result};

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
