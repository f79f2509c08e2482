//! The composition root: the one place that knows both sides of every port. It builds the
//! PostgreSQL repositories, the exchange router (paper + live venues), the services over
//! them, and hands the services to the API as ready objects (`alphapulse_api::Services`).
//! The API crate depends on the services and the domain only.

use std::{sync::Arc, time::Duration};

use alphapulse_admin::{Login, Principals, TenantAdmin, UserAdmin};
use alphapulse_api::{AppState, HttpSettings, Services};
use alphapulse_console::{
    Access, AuditService, Console, DecisionDesk, DeskPorts, MiningThresholds, RulesService,
    SettingsService,
};
use alphapulse_domain::{
    ports::{
        AuditRepo, Clock, DecisionRepo, ExchangeAccountRepo, IdempotencyRepo, MarketDataRepo,
        RulesRepo, SettingsRepo, SystemClock, TenantRepo, TradingLocks, UserRepo,
    },
    ExchangeClient,
};
use alphapulse_ensemble::EnsembleService;
use alphapulse_exchange::{
    binance::BinanceConfig, CredentialsCipher, ExchangeRouter, PaperExchange,
};
use alphapulse_hedging::{HedgingDesk, PositionService};
use alphapulse_persistence::{
    Db, PgAuditRepo, PgDecisionAuditRepo, PgDecisionRepo, PgEnsembleRepo, PgExchangeAccountRepo,
    PgIdempotencyRepo, PgMarketDataRepo, PgPaperBook, PgRegimeStore, PgRiskLimitsRepo, PgRulesRepo,
    PgSettingsRepo, PgTenantRepo, PgTradingLocks, PgUserRepo,
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
    let exchange: Arc<dyn ExchangeClient> = Arc::new(ExchangeRouter::new(
        repos.accounts.clone(),
        paper,
        settings.cipher.clone(),
        settings.binance.clone(),
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
        hedging: HedgingDesk::new(
            exchange,
            repos.tenants,
            repos.idempotency,
            repos.audit,
            locks,
        ),
        ensembles,
        console,
    })
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
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
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
