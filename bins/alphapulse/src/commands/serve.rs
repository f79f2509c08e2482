//! `alphapulse serve [--demo]`: migrate, (demo data), serve until SIGINT/SIGTERM.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use actix_web::HttpServer;
use alphapulse_persistence::{Db, PgTenantRepo, PgUserRepo};
use anyhow::{Context, Result};

use crate::{
    cli::{GlobalArgs, ServeArgs},
    compose::{self, Settings},
    database::Database,
    demo::{self, Demo, DemoData},
    demo_market::seed_demo_market,
};

/// Migrates, then serves until SIGINT/SIGTERM (actix drains in-flight requests first).
pub fn run(global: &GlobalArgs, database: &Database, args: &ServeArgs) -> Result<()> {
    let auth = args.auth.resolve(database.local_data_dir())?;
    tracing::info!(
        keys = %auth.source,
        issuer = %auth.config.issuer,
        audience = %auth.config.audience,
        token_ttl_seconds = auth.config.token_ttl.as_secs(),
        "token settings"
    );
    let cipher = args.credentials.resolve(database.local_data_dir())?;
    let db = database.pool(global)?;
    super::migrate_pending(&db)?;
    let demo_data = if args.demo { prepare_demo(&db)? } else { None };
    let settings = Settings {
        cipher,
        principal_ttl: Duration::from_secs(args.principal_ttl_seconds),
        mining: args.mining.thresholds()?,
        ..Settings::new(auth.config)
    };
    let state = compose::app_state(&db, &settings).context("building the application state")?;
    let mining = (args.mining.rules_mining_interval_seconds > 0).then(|| {
        (
            std::sync::Arc::new(PgTenantRepo::new(db.clone()))
                as std::sync::Arc<dyn alphapulse_domain::ports::TenantRepo>,
            state.console.rules.clone(),
            settings.mining,
            Duration::from_secs(args.mining.rules_mining_interval_seconds),
        )
    });

    actix_web::rt::System::new().block_on(async move {
        if let Some((tenants, rules, thresholds, every)) = mining {
            crate::jobs::spawn_rule_mining(tenants, rules, thresholds, every);
        }
        let server = HttpServer::new(move || alphapulse_api::app(state.clone()))
            .bind(args.bind)
            .with_context(|| format!("binding {}", args.bind))?
            .shutdown_timeout(10);
        let addrs = server.addrs();
        tracing::info!(?addrs, "AlphaPulse listening");
        if let Some(data) = &demo_data {
            let base = base_url(addrs.first().copied().unwrap_or(args.bind));
            let text = demo::login_instructions(&base, data);
            tracing::info!("demo logins:\n{}", text.trim_end());
            print!("{text}");
            std::io::Write::flush(&mut std::io::stdout()).context("writing to stdout")?;
        }
        server.run().await.context("running the HTTP server")
    })?;
    tracing::info!("server stopped");
    Ok(())
}

/// `--demo`: loads the demo data into a database without tenants; on a database that already
/// has tenants, loads nothing and returns the demo credentials only if they still work.
fn prepare_demo(db: &Db) -> Result<Option<DemoData>> {
    let (tenants, users) = (PgTenantRepo::new(db.clone()), PgUserRepo::new(db.clone()));
    let demo = Demo::new(&tenants, &users);
    if demo.database_is_empty()? {
        let (data, counts) = demo.seed().context("loading the demo data")?;
        tracing::info!(
            tenants_created = counts.tenants_created,
            users_created = counts.users_created,
            "loaded demo data"
        );
        let market = seed_demo_market(db, &data).context("loading the demo market data")?;
        tracing::info!(summary = %market.summary(), "loaded demo market data and positions");
        let console = crate::demo_console::seed_demo_console(db, &data)
            .context("loading the firm console's pilot history")?;
        tracing::info!(
            decisions = console.decisions,
            candidates = console.candidates,
            trail_rows = console.trail_rows(),
            "loaded the firm console's pilot history"
        );
        return Ok(Some(data));
    }
    match demo.existing()? {
        Some(data) => {
            tracing::info!("the database already has tenants, and the demo data is present: not loading it again");
            // Only adds the candles of the days since the last run.
            let market = seed_demo_market(db, &data).context("updating the demo market data")?;
            if !market.is_noop() {
                tracing::info!(summary = %market.summary(), "updated demo market data");
            }
            Ok(Some(data))
        }
        None => {
            tracing::warn!(
                "--demo: the database already has tenants and no complete demo data; loading nothing \
                 (run `alphapulse seed-demo` to add or restore the demo data)"
            );
            Ok(None)
        }
    }
}

/// The URL clients use for a bound address (an unspecified address is reached via loopback).
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
