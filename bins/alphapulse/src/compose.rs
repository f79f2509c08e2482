//! The composition root: the one place that knows both sides of every port. It builds the
//! PostgreSQL repositories, the exchange router (paper + live venues), the services over
//! them, and hands the services to the API as ready objects (`alphapulse_api::Services`).
//! The API crate depends on the services and the domain only.

use std::{sync::Arc, time::Duration};

use alphapulse_admin::{
    BurstLimits, Login, LoginLimits, Principals, Quotas, TenantAdmin, UserAdmin,
};
use alphapulse_api::{AppState, HttpSettings, Services};
use alphapulse_console::{
    Access, AuditService, Console, DecisionDesk, DeskPorts, MiningThresholds, RulesService,
    SettingsService,
};
use alphapulse_domain::{
    ports::{
        AlertRepo, AuditRepo, CacheStatsSource, Clock, DecisionRepo, ExchangeAccountRepo,
        IdempotencyRepo, MarketDataRepo, RulesRepo, SettingsRepo, SystemClock, TenantRepo,
        TradingLocks, UserRepo,
    },
    ExchangeClient,
};
use alphapulse_ensemble::EnsembleService;
use alphapulse_exchange::{
    binance::BinanceConfig, BinanceVenue, CredentialsCipher, ExchangeRouter, PaperExchange,
};
use alphapulse_hedging::{HedgingDesk, PositionService};
use alphapulse_operations::{
    AlertRules, AlertService, AlertingExchange, CredentialsService, LiquidityService,
    MetricsService, SystemService, DEFAULT_GRACE,
};
use alphapulse_persistence::{
    AsyncReads, Db, PgAlertRepo, PgAuditRepo, PgDecisionAuditRepo, PgDecisionRepo, PgEnsembleRepo,
    PgExchangeAccountRepo, PgExchangeCredentialsRepo, PgIdempotencyRepo, PgMarketDataRepo,
    PgMetricsRepo, PgPaperBook, PgPortfolioSnapshotRepo, PgRegimeStore, PgRiskBudgetRepo,
    PgRiskLimitsRepo, PgRulesRepo, PgSettingsRepo, PgTenantRepo, PgTradeRepo, PgTradingLocks,
    PgUsageRepo, PgUserRepo,
};
use alphapulse_regime::{service::RegimeService, ModelConfig};
use alphapulse_risk::service::{
    BudgetService, CorrelationService, PortfolioService, RiskCore, RiskPorts, RiskService,
    SnapshotJob,
};
use anyhow::{Context as _, Result};

use crate::auth::AuthConfig;

/// Default `ALPHAPULSE_PRINCIPAL_TTL_SECONDS`.
pub const DEFAULT_PRINCIPAL_TTL: Duration = Duration::from_secs(30);

/// Default `ALPHAPULSE_SNAPSHOT_INTERVAL_SECONDS`: one portfolio snapshot per tenant an hour.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(3600);

/// What the composition needs besides the database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Token settings.
    pub auth: AuthConfig,
    /// How long a user/tenant status verdict is cached (at most 30 s; 0 = never).
    pub principal_ttl: Duration,
    /// Decrypts stored exchange credentials; `None` = live accounts cannot be used.
    pub cipher: Option<CredentialsCipher>,
    /// Where Binance is.
    pub binance: BinanceConfig,
    /// The burst limit of each plan.
    pub burst: BurstLimits,
    /// Login attempts per account, and the password-hashing pool.
    pub login: LoginLimits,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long an unfinished trading action's idempotency key holds before a retry takes it
    /// over and reconciles.
    pub idempotency_stale_after: Duration,
    /// Interval of the portfolio snapshot job.
    pub snapshot_interval: Duration,
    /// Whether the daily quota and the burst limit are enforced.
    pub enforce_quotas: bool,
    /// Whether hot tenant reads go over async connections (see `AsyncReads`).
    pub async_reads: bool,
    /// How long a rotated-out exchange key pair still signs.
    pub credentials_grace: Duration,
    /// The clock of grace periods, series windows and exchange back-off (tests move it).
    pub clock: Arc<dyn Clock>,
    /// Thresholds of the rules-mining job and the default of on-demand mining.
    pub mining: MiningThresholds,
}

impl Settings {
    /// Settings with the defaults for everything but the tokens.
    pub fn new(auth: AuthConfig) -> Self {
        Self {
            auth,
            principal_ttl: DEFAULT_PRINCIPAL_TTL,
            cipher: None,
            binance: BinanceConfig::default(),
            burst: BurstLimits::default(),
            login: LoginLimits::default(),
            trusted_proxies: Vec::new(),
            idempotency_stale_after: alphapulse_hedging::desk::DEFAULT_STALE_AFTER,
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
            enforce_quotas: true,
            async_reads: true,
            credentials_grace: DEFAULT_GRACE,
            clock: Arc::new(SystemClock),
            mining: MiningThresholds::default(),
        }
    }
}

/// The repositories over one database.
struct Repos {
    tenants: Arc<dyn TenantRepo>,
    users: Arc<dyn UserRepo>,
    audit: Arc<dyn AuditRepo>,
    market: Arc<dyn MarketDataRepo>,
    accounts: Arc<dyn ExchangeAccountRepo>,
    idempotency: Arc<dyn IdempotencyRepo>,
    alerts: Arc<dyn AlertRepo>,
}

impl Repos {
    /// `reads`: the async read pool of the request path's hot reads, when switched on.
    fn new(db: &Db, reads: Option<&AsyncReads>) -> Self {
        let (mut tenants, mut alerts) =
            (PgTenantRepo::new(db.clone()), PgAlertRepo::new(db.clone()));
        if let Some(reads) = reads {
            tenants = tenants.with_async_reads(reads.clone());
            alerts = alerts.with_async_reads(reads.clone());
        }
        Self {
            tenants: Arc::new(tenants),
            users: Arc::new(PgUserRepo::new(db.clone())),
            audit: Arc::new(PgAuditRepo::new(db.clone())),
            market: Arc::new(PgMarketDataRepo::new(db.clone())),
            accounts: Arc::new(PgExchangeAccountRepo::new(db.clone())),
            idempotency: Arc::new(PgIdempotencyRepo::new(db.clone())),
            alerts: Arc::new(alerts),
        }
    }
}

/// The services over `db` and the portfolio snapshot job over the same ports (one exchange
/// router per process: its venue back-off and caches are shared).
///
/// # Errors
/// Token keys that cannot sign.
pub fn components(db: &Db, settings: &Settings) -> Result<(Services, SnapshotJob)> {
    // The hot reads of the request path (positions, hedge analysis, risk exposure, cached
    // portfolio and metrics, the alert list) go over async
    // connections (issue 16): one pool set shared by every repository that serves them.
    let reads = if settings.async_reads {
        Some(db.async_reads().context("opening the async read pool")?)
    } else {
        None
    };
    let repos = Repos::new(db, reads.as_ref());
    let mut book = PgPaperBook::new(db.clone());
    if let Some(reads) = reads {
        book = book.with_async_reads(reads);
    }
    let paper = PaperExchange::new(Arc::new(book), repos.market.clone(), repos.accounts.clone());
    let router = Arc::new(ExchangeRouter::new(
        repos.accounts.clone(),
        paper,
        settings.cipher.clone(),
        BinanceVenue::with_clock(settings.binance.clone(), settings.clock.clone()),
    ));
    let rules = AlertRules::new(repos.alerts.clone());
    // Every service trades and reads through the exchange-failure rule.
    let exchange: Arc<dyn ExchangeClient> = Arc::new(AlertingExchange::new(
        router.clone(),
        repos.accounts.clone(),
        rules.clone(),
    ));
    let principals = Arc::new(Principals::new(
        repos.tenants.clone(),
        repos.users.clone(),
        settings.principal_ttl,
    ));
    let regime_store = Arc::new(PgRegimeStore::new(db.clone()));
    let regime = Arc::new(RegimeService::new(
        repos.market.clone(),
        regime_store.clone(),
        ModelConfig::default(),
    ));
    let risk_ports = RiskPorts::new(
        exchange.clone(),
        repos.market.clone(),
        Arc::new(PgPortfolioSnapshotRepo::new(db.clone())),
        Arc::new(PgTradeRepo::new(db.clone())),
        Arc::new(PgRiskLimitsRepo::new(db.clone())),
        Arc::new(PgRiskBudgetRepo::new(db.clone())),
        repos.idempotency.clone(),
        repos.audit.clone(),
        regime_store,
    )
    // The alert rules (risk limits, budget use, correlation spikes) raise into the alerts.
    .with_alerts(Some(repos.alerts.clone()));
    let risk_core = Arc::new(RiskCore::new(risk_ports));
    let job = {
        let regime = regime.clone();
        SnapshotJob::new(
            risk_core.clone(),
            repos.tenants.clone(),
            settings.snapshot_interval,
        )
        // Keep the tenant's regime history fresh for the rules and the budgets.
        .with_before_rules(Arc::new(move |actor| {
            if let Err(err) = regime.current(actor) {
                tracing::debug!(error = %err, "regime not refreshed for the alert rules");
            }
        }))
    };
    let caches: Vec<Arc<dyn CacheStatsSource>> =
        vec![principals.clone(), regime.clone(), router.clone()];
    let locks: Arc<dyn TradingLocks> = Arc::new(PgTradingLocks::new(db.clone()));
    let ensembles = Arc::new(EnsembleService::new(
        Arc::new(PgEnsembleRepo::new(db.clone())),
        repos.market.clone(),
    ));
    let console = console(
        db,
        &repos,
        settings,
        ensembles.clone(),
        exchange.clone(),
        locks.clone(),
        regime.clone(),
    );
    let login = Login::new(
        repos.users.clone(),
        repos.tenants.clone(),
        Arc::new(settings.auth.issuer()?),
        settings.auth.token_ttl,
        &settings.login,
    );
    let quotas = Quotas::new(
        Arc::new(PgUsageRepo::new(db.clone())),
        repos.tenants.clone(),
        settings.clock.clone(),
        settings.burst,
    )
    .with_alerts(repos.alerts.clone());
    let services = Services {
        readiness: Arc::new(db.clone()),
        quotas: Arc::new(quotas),
        login: Arc::new(login),
        tenants: TenantAdmin::new(repos.tenants.clone(), principals.clone()),
        users: UserAdmin::new(
            repos.tenants.clone(),
            repos.users.clone(),
            principals.clone(),
        ),
        principals,
        positions: PositionService::new(exchange.clone()),
        regime,
        alerts: AlertService::new(repos.alerts.clone()),
        metrics: MetricsService::new(
            Arc::new(PgMetricsRepo::new(db.clone())),
            caches,
            Arc::new(db.clone()),
            settings.clock.clone(),
        ),
        system: Arc::new(SystemService::new(
            Arc::new(db.clone()),
            exchange.clone(),
            repos.accounts.clone(),
            router.clone(),
        )),
        liquidity: LiquidityService::new(repos.market.clone(), exchange.clone()),
        credentials: CredentialsService::new(
            Arc::new(PgExchangeCredentialsRepo::new(db.clone())),
            router,
            rules,
            settings.clock.clone(),
            settings.credentials_grace,
        ),
        hedging: HedgingDesk::new(
            exchange,
            repos.tenants,
            repos.idempotency,
            repos.audit,
            locks,
        )
        .with_stale_after(settings.idempotency_stale_after),
        ensembles,
        console,
        portfolio: PortfolioService::new(risk_core.clone()),
        risk: RiskService::new(risk_core.clone()),
        risk_budget: BudgetService::new(risk_core.clone()),
        correlation: CorrelationService::new(risk_core),
    };
    Ok((services, job))
}

/// The firm console's services (settings, the decision desk, rules, the audit trail).
fn console(
    db: &Db,
    repos: &Repos,
    settings: &Settings,
    ensembles: Arc<EnsembleService>,
    exchange: Arc<dyn ExchangeClient>,
    locks: Arc<dyn TradingLocks>,
    regime: Arc<RegimeService>,
) -> Console {
    let access = Access::new(repos.tenants.clone());
    let clock = settings.clock.clone();
    let settings_repo: Arc<dyn SettingsRepo> = Arc::new(PgSettingsRepo::new(db.clone()));
    let decisions: Arc<dyn DecisionRepo> = Arc::new(PgDecisionRepo::new(db.clone()));
    let rules: Arc<dyn RulesRepo> = Arc::new(PgRulesRepo::new(db.clone()));
    Console {
        settings: SettingsService::new(access.clone(), settings_repo.clone()),
        decisions: Arc::new(DecisionDesk::new(
            ensembles,
            DeskPorts {
                settings: settings_repo,
                decisions: decisions.clone(),
                rules: rules.clone(),
                limits: Arc::new(PgRiskLimitsRepo::new(db.clone())),
                market: repos.market.clone(),
                accounts: repos.accounts.clone(),
                exchange,
                locks,
                regime,
                clock: clock.clone(),
            },
        )),
        rules: RulesService::new(
            access.clone(),
            rules,
            decisions,
            repos.market.clone(),
            clock,
            settings.mining,
        ),
        audit: AuditService::new(access, Arc::new(PgDecisionAuditRepo::new(db.clone()))),
    }
}

/// The API state over `db`: the services, the token verifier and the default HTTP settings
/// for `settings`.
///
/// # Errors
/// Token keys that cannot sign.
pub fn app_state(db: &Db, settings: &Settings) -> Result<AppState> {
    app_state_and_job(db, settings).map(|(state, _)| state)
}

/// The API state and the snapshot job with the default HTTP settings for `settings`.
///
/// # Errors
/// Token keys that cannot sign.
pub fn app_state_and_job(db: &Db, settings: &Settings) -> Result<(AppState, SnapshotJob)> {
    let http = HttpSettings {
        login_per_minute: settings.auth.login_per_minute,
        trusted_proxies: settings.trusted_proxies.clone(),
        enforce_quotas: settings.enforce_quotas,
        ..HttpSettings::default()
    };
    app_state_with(db, settings, &http)
}

/// The API state over `db` with explicit HTTP settings, and the snapshot job, sharing one
/// exchange router and one risk core.
///
/// # Errors
/// Token keys that cannot sign.
pub fn app_state_with(
    db: &Db,
    settings: &Settings,
    http: &HttpSettings,
) -> Result<(AppState, SnapshotJob)> {
    let (services, job) = components(db, settings)?;
    Ok((AppState::new(services, settings.auth.verifier(), http), job))
}
