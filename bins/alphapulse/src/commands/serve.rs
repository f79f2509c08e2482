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

/// How long a stop waits for in-flight requests before closing their connections.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// SIGTERM or Ctrl-C (SIGINT): stop accepting, let in-flight requests finish (up to
/// [`SHUTDOWN_TIMEOUT`]), then stop. Actix would treat SIGINT as a forced stop that drops
/// requests in flight; here both are graceful, and a second signal forces the stop.
async fn stop_on_signals(
    api: actix_web::dev::ServerHandle,
    others: Vec<actix_web::dev::ServerHandle>,
) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT: stop the server with SIGKILL");
        return;
    };
    let first = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        signal = first,
        timeout_seconds = SHUTDOWN_TIMEOUT.as_secs(),
        "stopping: finishing the requests in flight (a second signal forces the stop)"
    );
    let graceful = actix_web::rt::spawn({
        let api = api.clone();
        let others = others.clone();
        async move {
            api.stop(true).await;
            for other in others {
                other.stop(true).await;
            }
        }
    });
    tokio::select! {
        _ = graceful => {}
        _ = term.recv() => force(&api, &others).await,
        _ = int.recv() => force(&api, &others).await,
    }
}

async fn force(api: &actix_web::dev::ServerHandle, others: &[actix_web::dev::ServerHandle]) {
    tracing::warn!("second signal: stopping now, dropping the requests in flight");
    api.stop(false).await;
    for other in others {
        other.stop(false).await;
    }
}

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
    // Plain PostgreSQL or Citus: decides, once, how every scope sets the tenant context.
    let engine = db
        .detect_engine()
        .context("detecting the database engine")?;
    tracing::info!(?engine, "tenant context for this engine");
    let demo_data = if args.demo { prepare_demo(&db)? } else { None };
    let mut settings = Settings {
        cipher,
        principal_ttl: Duration::from_secs(args.principal_ttl_seconds),
        trusted_proxies: args.trusted_proxies.clone(),
        idempotency_stale_after: Duration::from_secs(args.idempotency_stale_seconds),
        snapshot_interval: Duration::from_secs(args.snapshot_interval_seconds),
        enforce_quotas: args.quotas,
        async_reads: args.async_reads,
        credentials_grace: Duration::from_secs(args.credentials_grace_seconds),
        mining: args.mining.thresholds()?,
        ..Settings::new(auth.config)
    };
    settings.burst = settings.burst.scaled(args.burst_scale);
    if let Some(n) = std::num::NonZeroU32::new(args.login_per_account_per_minute) {
        settings.login.per_account_per_minute = n;
    }
    let http = alphapulse_api::HttpSettings {
        login_per_minute: settings.auth.login_per_minute,
        trusted_proxies: settings.trusted_proxies.clone(),
        metrics_tenant_labels: args.metrics_tenant_labels,
        enforce_quotas: settings.enforce_quotas,
    };
    let (state, snapshot_job) =
        compose::app_state_with(&db, &settings, &http).context("building the application state")?;
    let metrics = match args.metrics_bind.0 {
        Some(bind) => Some((bind, metrics::install()?)),
        None => None,
    };
    let mining = (args.mining.rules_mining_interval_seconds > 0).then(|| {
        (
            std::sync::Arc::new(PgTenantRepo::new(db.clone()))
                as std::sync::Arc<dyn alphapulse_domain::ports::TenantRepo>,
            state.console.rules.clone(),
            settings.mining,
            Duration::from_secs(args.mining.rules_mining_interval_seconds),
        )
    });

    let quotas = state.services.quotas.clone();
    actix_web::rt::System::new().block_on(async move {
        jobs::spawn_quota_jobs(quotas.clone());
        jobs::spawn_login_pruning(state.clone());
        actix_web::rt::spawn(jobs::run_snapshot_job(std::sync::Arc::new(snapshot_job)));
        if let Some((tenants, rules, thresholds, every)) = mining {
            jobs::spawn_rule_mining(tenants, rules, thresholds, every);
        }
        let mut listeners = Vec::new();
        if let Some((bind, handle)) = metrics {
            jobs::spawn_metrics_upkeep(handle.clone(), db.clone());
            let (listener, addr) = metrics::serve(bind, handle)?;
            tracing::info!(%addr, "metrics listening");
            listeners.push(listener.handle());
            actix_web::rt::spawn(listener);
        }
        let mut server = HttpServer::new(move || alphapulse_api::app(state.clone()));
        if let Some(n) = args.http_workers {
            server = server.workers(n.get());
        }
        if let Some(n) = args.blocking_threads {
            server = server.worker_max_blocking_threads(n.get());
        }
        let server = server
            .bind(args.bind)
            .with_context(|| format!("binding {}", args.bind))?
            .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
            .disable_signals();
        let addrs = server.addrs();
        tracing::info!(?addrs, "AlphaPulse listening");
        if let Some(data) = &demo_data {
            let base = base_url(addrs.first().copied().unwrap_or(args.bind));
            // Once, on stdout (never in the logs: they may be shipped elsewhere).
            let text = demo::login_instructions(&base, data);
            print!("{text}");
            std::io::Write::flush(&mut std::io::stdout()).context("writing to stdout")?;
        }
        let running = server.run();
        actix_web::rt::spawn(stop_on_signals(running.handle(), listeners));
        let served = running.await.context("running the HTTP server");
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
