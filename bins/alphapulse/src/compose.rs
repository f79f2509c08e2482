//! The composition root: the one place that knows both sides of every port. It builds the
//! PostgreSQL repositories, the exchange router (paper + live venues), the services over
//! them, and hands the services to the API as ready objects (`alphapulse_api::Services`).
//! The API crate depends on the services and the domain only.

use std::{sync::Arc, time::Duration};

use alphapulse_admin::{Login, Principals, TenantAdmin, UserAdmin};
use alphapulse_api::{AppState, HttpSettings, Services};
use alphapulse_domain::{
    ports::{
        AlertRepo, AuditRepo, CacheStatsSource, Clock, ExchangeAccountRepo, IdempotencyRepo,
        MarketDataRepo, SystemClock, TenantRepo, UserRepo,
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
    Db, PgAlertRepo, PgAuditRepo, PgEnsembleRepo, PgExchangeAccountRepo, PgExchangeCredentialsRepo,
    PgIdempotencyRepo, PgMarketDataRepo, PgMetricsRepo, PgPaperBook, PgRegimeStore, PgTenantRepo,
    PgTradingLocks, PgUserRepo,
};
use alphapulse_regime::{service::RegimeService, ModelConfig};
use anyhow::Result;

use crate::auth::AuthConfig;

/// Default `ALPHAPULSE_PRINCIPAL_TTL_SECONDS`.
pub const DEFAULT_PRINCIPAL_TTL: Duration = Duration::from_secs(30);

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
    /// How long a rotated-out exchange key pair still signs.
    pub credentials_grace: Duration,
    /// The clock of grace periods, series windows and exchange back-off (tests move it).
    pub clock: Arc<dyn Clock>,
}

impl Settings {
    /// Settings with the defaults for everything but the tokens.
    pub fn new(auth: AuthConfig) -> Self {
        Self {
            auth,
            principal_ttl: DEFAULT_PRINCIPAL_TTL,
            cipher: None,
            binance: BinanceConfig::default(),
            credentials_grace: DEFAULT_GRACE,
            clock: Arc::new(SystemClock),
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
    fn new(db: &Db) -> Self {
        Self {
            tenants: Arc::new(PgTenantRepo::new(db.clone())),
            users: Arc::new(PgUserRepo::new(db.clone())),
            audit: Arc::new(PgAuditRepo::new(db.clone())),
            market: Arc::new(PgMarketDataRepo::new(db.clone())),
            accounts: Arc::new(PgExchangeAccountRepo::new(db.clone())),
            idempotency: Arc::new(PgIdempotencyRepo::new(db.clone())),
            alerts: Arc::new(PgAlertRepo::new(db.clone())),
        }
    }
}

/// The services over `db`.
///
/// # Errors
/// Token keys that cannot sign.
pub fn services(db: &Db, settings: &Settings) -> Result<Services> {
    let repos = Repos::new(db);
    let paper = PaperExchange::new(
        Arc::new(PgPaperBook::new(db.clone())),
        repos.market.clone(),
        repos.accounts.clone(),
    );
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
    let regime = Arc::new(RegimeService::new(
        repos.market.clone(),
        Arc::new(PgRegimeStore::new(db.clone())),
        ModelConfig::default(),
    ));
    let caches: Vec<Arc<dyn CacheStatsSource>> =
        vec![principals.clone(), regime.clone(), router.clone()];
    let login = Login::new(
        repos.users.clone(),
        repos.tenants.clone(),
        Arc::new(settings.auth.issuer()?),
        settings.auth.token_ttl,
    );
    Ok(Services {
        readiness: Arc::new(db.clone()),
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
            Arc::new(PgTradingLocks::new(db.clone())),
        ),
        ensembles: Arc::new(EnsembleService::new(
            Arc::new(PgEnsembleRepo::new(db.clone())),
            repos.market,
        )),
    })
}

/// The API state over `db`: the services, the token verifier and the HTTP settings.
///
/// # Errors
/// Token keys that cannot sign.
pub fn app_state(db: &Db, settings: &Settings) -> Result<AppState> {
    let http = HttpSettings {
        login_per_minute: settings.auth.login_per_minute,
    };
    Ok(AppState::new(
        services(db, settings)?,
        settings.auth.verifier(),
        &http,
    ))
}
