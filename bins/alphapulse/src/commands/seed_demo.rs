//! `alphapulse seed-demo [--json]`: idempotent demo data (tenants and users, then market data,
//! paper accounts, positions and regime universes), then its credentials.

use alphapulse_persistence::{PgTenantRepo, PgUserRepo};
use anyhow::{Context, Result};

use crate::{cli::SeedDemoArgs, database::Database, demo::Demo};

pub fn run(database: &Database, args: &SeedDemoArgs) -> Result<()> {
    let db = database.command_pool()?;
    super::migrate_pending(&db)?;
    let (tenants, users) = (PgTenantRepo::new(db.clone()), PgUserRepo::new(db.clone()));
    let (data, counts) = Demo::new(&tenants, &users).seed()?;
    let market = crate::demo_market::seed_demo_market(&db, &data)
        .context("seeding the demo market data, accounts and positions")?;
    let console = crate::demo_console::seed_demo_console(&db, &data)
        .context("seeding the firm console's pilot history")?;
    tracing::info!(
        tenants_created = counts.tenants_created,
        users_created = counts.users_created,
        users_restored = counts.users_repaired,
        "demo data ready"
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&data).context("serialising the credentials")?
        );
    } else {
        if counts.is_noop() {
            println!("Demo data already present; nothing created.");
        } else {
            println!(
                "Demo data updated: {} tenant(s) and {} user(s) created, {} user(s) restored.",
                counts.tenants_created, counts.users_created, counts.users_repaired
            );
        }
        if !market.is_noop() {
            println!("{}", market.summary());
        }
        if !console.is_noop() {
            println!(
                "Firm console: {} pilot tenant(s), {} decisions, {} rule candidates, {} audit trail entries.",
                console.tenants,
                console.decisions,
                console.candidates,
                console.trail_rows()
            );
        }
        println!("Demo credentials (demo only):");
        print!("{}", crate::demo::credentials_table(&data));
        println!("Log in: POST /api/v1/auth/token {{\"email\":\"...\",\"password\":\"...\"}}");
    }
    Ok(())
}
