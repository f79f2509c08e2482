//! `alphapulse token --user <uuid> [--ttl SECONDS]`: a signed access token for an existing,
//! active user, with the user's tenant and role.

use std::time::Duration;

use alphapulse_domain::{ports::TenantRepo, ports::UserRepo, TenantStatus, UserId};
use alphapulse_persistence::{PgTenantRepo, PgUserRepo};
use anyhow::{bail, Context, Result};
use tenant_auth::TokenIssuer;

use crate::{cli::TokenArgs, database::Database};

pub fn run(database: &Database, args: &TokenArgs) -> Result<()> {
    let auth = args.auth.resolve(database.local_data_dir())?;
    tracing::debug!(keys = %auth.source, "token signing keys");
    let db = database.command_pool()?;
    super::require_migrated(&db)?;
    let users = PgUserRepo::new(db.clone());
    let user = users
        .find_any_tenant(UserId(args.user))
        .context("looking up the user")?
        .with_context(|| format!("no user with id {}", args.user))?;
    if !user.active {
        bail!("user {} ({}) is inactive", user.id, user.email);
    }
    let tenant = PgTenantRepo::new(db)
        .get(user.tenant_id)
        .with_context(|| format!("looking up tenant {}", user.tenant_id))?;
    if tenant.status != TenantStatus::Active {
        tracing::warn!(
            tenant = %tenant.slug,
            status = %tenant.status,
            "the user's tenant is not active: the API will answer 403 to this token"
        );
    }
    let ttl = args.ttl.map_or(auth.config.token_ttl, Duration::from_secs);
    let issuer = TokenIssuer::new(auth.config.keys, auth.config.issuer, auth.config.audience)
        .context("building the token issuer")?;
    let token = issuer
        .issue(user.id.as_uuid(), user.tenant_id.as_uuid(), user.role, ttl)
        .context("signing the token")?;
    tracing::info!(
        user_id = %user.id,
        tenant = %tenant.slug,
        role = %user.role,
        ttl_seconds = ttl.as_secs(),
        "issued access token"
    );
    println!("{token}");
    Ok(())
}
