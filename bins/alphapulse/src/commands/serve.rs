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
    jobs, metrics,
};

/// `--demo` only where nobody else can reach the published demo passwords: a local cluster on
/// loopback, unless `--demo-anywhere` says otherwise. Checked before any database is opened.
///
/// # Errors
/// `--demo` with a configured database URL or a non-loopback bind.
pub fn check_demo(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    if args.demo && !args.demo_anywhere {
        anyhow::ensure!(
            global.database_url.is_none(),
            "--demo loads users with published passwords: it refuses a configured \
             ALPHAPULSE_DATABASE_URL (add --demo-anywhere if you really mean that database)"
        );
        anyhow::ensure!(
            args.bind.ip().is_loopback(),
            "--demo loads users with published passwords: it only listens on loopback, not {} \
             (add --demo-anywhere if you really mean it)",
            args.bind
        );
    }
    Ok(())
}

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
    let mut settings = Settings {
        cipher,
        principal_ttl: Duration::from_secs(args.principal_ttl_seconds),
        trusted_proxies: args.trusted_proxies.clone(),
        idempotency_stale_after: Duration::from_secs(args.idempotency_stale_seconds),
        ..Settings::new(auth.config)
    };
    if let Some(n) = std::num::NonZeroU32::new(args.login_per_account_per_minute) {
        settings.login.per_account_per_minute = n;
    }
    let http = alphapulse_api::HttpSettings {
        login_per_minute: settings.auth.login_per_minute,
        trusted_proxies: settings.trusted_proxies.clone(),
        metrics_tenant_labels: args.metrics_tenant_labels,
    };
    let state =
        compose::app_state_with(&db, &settings, &http).context("building the application state")?;
    let metrics = match args.metrics_bind.0 {
        Some(bind) => Some((bind, metrics::install()?)),
        None => None,
    };

    let quotas = state.services.quotas.clone();
    actix_web::rt::System::new().block_on(async move {
        jobs::spawn_quota_jobs(quotas.clone());
        jobs::spawn_login_pruning(state.clone());
        if let Some((bind, handle)) = metrics {
            jobs::spawn_metrics_upkeep(handle.clone());
            let (listener, addr) = metrics::serve(bind, handle)?;
            tracing::info!(%addr, "metrics listening");
            actix_web::rt::spawn(listener);
        }
        let server = HttpServer::new(move || alphapulse_api::app(state.clone()))
            .bind(args.bind)
            .with_context(|| format!("binding {}", args.bind))?
            .shutdown_timeout(10);
        let addrs = server.addrs();
        tracing::info!(?addrs, "AlphaPulse listening");
        if let Some(data) = &demo_data {
            let base = base_url(addrs.first().copied().unwrap_or(args.bind));
            // Once, on stdout (never in the logs: they may be shipped elsewhere).
            let text = demo::login_instructions(&base, data);
            print!("{text}");
            std::io::Write::flush(&mut std::io::stdout()).context("writing to stdout")?;
        }
        let served = server.run().await.context("running the HTTP server");
        // The counts of the last second: a restart loses none.
        match actix_web::web::block(move || quotas.flush()).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "final quota flush failed"),
            Err(err) => tracing::warn!(error = %err, "final quota flush task failed"),
        }
        served
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
