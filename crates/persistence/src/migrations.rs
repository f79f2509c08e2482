//! The embedded diesel migrations (`migrations/` at the workspace root) and their runner.
//!
//! Migrations run as the owner URL's user; they create the `alphapulse_tenant` and
//! `alphapulse_platform` roles and grant them to that user. Every migration is reversible.

use diesel::{migration::MigrationSource, pg::Pg, pg::PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{error::Result, Error};

/// The migrations compiled into this crate.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A hash of the migration files, from the build script: names the test template database.
pub const MIGRATIONS_HASH: &str = env!("ALPHAPULSE_MIGRATIONS_HASH");

/// One migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// The version (directory name up to the first `_`, e.g. `2025-11-01-000001`).
    pub version: String,
    /// The full directory name.
    pub name: String,
    /// Whether it is applied.
    pub applied: bool,
}

fn migration_error(err: impl std::fmt::Display) -> Error {
    Error::Migration(err.to_string())
}

/// Applies every pending migration; returns the versions applied.
///
/// # Errors
/// [`Error::Migration`] with the failing migration's message.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(migration_error)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts the most recent migration; returns its version (`None` when none is applied).
///
/// # Errors
/// [`Error::Migration`] with the failing migration's message.
pub fn revert_last(conn: &mut PgConnection) -> Result<Option<String>> {
    let applied = conn.applied_migrations().map_err(migration_error)?;
    if applied.is_empty() {
        return Ok(None);
    }
    let version = conn
        .revert_last_migration(MIGRATIONS)
        .map_err(migration_error)?;
    Ok(Some(version.to_string()))
}

/// Reverts every applied migration, newest first; returns the versions reverted.
///
/// # Errors
/// [`Error::Migration`] with the failing migration's message.
pub fn revert_all(conn: &mut PgConnection) -> Result<Vec<String>> {
    let reverted = conn
        .revert_all_migrations(MIGRATIONS)
        .map_err(migration_error)?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}

/// Every known migration, oldest first, with whether it is applied.
///
/// # Errors
/// [`Error::Migration`] when the bookkeeping table cannot be read.
pub fn status(conn: &mut PgConnection) -> Result<Vec<MigrationState>> {
    let applied: Vec<String> = conn
        .applied_migrations()
        .map_err(migration_error)?
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut all: Vec<MigrationState> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(migration_error)?
        .iter()
        .map(|m| {
            let name = m.name().to_string();
            let version = m.name().version().to_string();
            MigrationState {
                applied: applied.contains(&version),
                version,
                name,
            }
        })
        .collect();
    all.sort_by(|a, b| a.version.cmp(&b.version));
    Ok(all)
}
