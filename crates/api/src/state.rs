//! Shared application state: the ports as `Arc<dyn Trait>` (crates-io style), the token
//! issuer, and the authenticator the `TenantContext` extractor uses.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{
        AuditRepo, ExchangeAccountRepo, IdempotencyRepo, MarketDataRepo, TenantRepo, UserRepo,
    },
    ExchangeClient,
};
use alphapulse_ensemble::EnsembleService;
use alphapulse_exchange::{
    binance::BinanceConfig, CredentialsCipher, ExchangeRouter, PaperExchange,
};
use alphapulse_hedging::PositionService;
use alphapulse_persistence::{
    Db, PgAuditRepo, PgEnsembleRepo, PgExchangeAccountRepo, PgIdempotencyRepo, PgMarketDataRepo,
    PgPaperBook, PgRegimeStore, PgTenantRepo, PgUserRepo,
};
use alphapulse_regime::{service::RegimeService, ModelConfig};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tenant_auth::{actix::Authenticator, KeySet, TokenIssuer, TokenVerifier, VerifierConfig};

use crate::principal::RepoPrincipalCheck;

/// Token settings (from `ALPHAPULSE_JWT_*`).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Signing and verification keys by `kid`; the active key signs.
    pub keys: KeySet,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Clock-skew leeway for `exp`/`nbf`.
    pub leeway: Duration,
    /// Login attempts allowed per client address per minute.
    pub login_per_minute: u32,
}

/// Exchange settings (from `ALPHAPULSE_CREDENTIALS_KEY` and friends).
#[derive(Debug, Clone, Default)]
pub struct ExchangeSettings {
    /// Decrypts stored exchange credentials; `None` = live accounts cannot be used.
    pub cipher: Option<CredentialsCipher>,
    /// Where Binance is.
    pub binance: BinanceConfig,
}

/// The services and repositories a state is built from.
pub struct Ports {
    /// Tenants (platform).
    pub tenants: Arc<dyn TenantRepo>,
    /// Users.
    pub users: Arc<dyn UserRepo>,
    /// Audit log.
    pub audit: Arc<dyn AuditRepo>,
    /// The tenant-routing exchange client.
    pub exchange: Arc<dyn ExchangeClient>,
    /// Regime service.
    pub regime: Arc<RegimeService>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn IdempotencyRepo>,
    /// AI-agent ensembles.
    pub ensembles: Arc<EnsembleService>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// Errors building the state.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The keys cannot sign or the settings are inconsistent.
    #[error(transparent)]
    Auth(#[from] tenant_auth::AuthError),
}

/// What handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The pool (readiness; tenant data only through repositories and their scopes).
    pub db: Option<Db>,
    /// Tenants (platform).
    pub tenants: Arc<dyn TenantRepo>,
    /// Users.
    pub users: Arc<dyn UserRepo>,
    /// Audit log.
    pub audit: Arc<dyn AuditRepo>,
    /// Issues access tokens at login.
    pub issuer: Arc<TokenIssuer>,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Verifies tokens and checks principals (the extractor reads it from app data).
    pub authenticator: Authenticator,
    /// The status cache behind the authenticator (to invalidate after changes).
    pub principals: Arc<RepoPrincipalCheck>,
    /// Per-client-address login limiter.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Positions valued through the tenant's exchange account.
    pub positions: PositionService,
    /// Market regimes per tenant.
    pub regime: Arc<RegimeService>,
    /// The tenant-routing exchange client (orders of hedge actions).
    pub exchange: Arc<dyn ExchangeClient>,
    /// Idempotency keys of trading actions.
    pub idempotency: Arc<dyn IdempotencyRepo>,
    /// AI-agent ensembles of the tenant.
    pub ensembles: Arc<EnsembleService>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The production state over PostgreSQL.
    ///
    /// # Errors
    /// Keys that cannot sign.
    pub fn new(db: Db, auth: AuthConfig) -> Result<Self, SetupError> {
        Self::with_exchange(db, auth, ExchangeSettings::default())
    }

    /// The production state with exchange settings.
    ///
    /// # Errors
    /// Keys that cannot sign.
    pub fn with_exchange(
        db: Db,
        auth: AuthConfig,
        exchange: ExchangeSettings,
    ) -> Result<Self, SetupError> {
        let tenants: Arc<dyn TenantRepo> = Arc::new(PgTenantRepo::new(db.clone()));
        let users: Arc<dyn UserRepo> = Arc::new(PgUserRepo::new(db.clone()));
        let audit: Arc<dyn AuditRepo> = Arc::new(PgAuditRepo::new(db.clone()));
        let market: Arc<dyn MarketDataRepo> = Arc::new(PgMarketDataRepo::new(db.clone()));
        let accounts: Arc<dyn ExchangeAccountRepo> =
            Arc::new(PgExchangeAccountRepo::new(db.clone()));
        let paper = PaperExchange::new(
            Arc::new(PgPaperBook::new(db.clone())),
            market.clone(),
            accounts.clone(),
        );
        let router: Arc<dyn ExchangeClient> = Arc::new(ExchangeRouter::new(
            accounts,
            paper,
            exchange.cipher,
            exchange.binance,
        ));
        let ensembles = Arc::new(EnsembleService::new(
            Arc::new(PgEnsembleRepo::new(db.clone())),
            market.clone(),
        ));
        let regime = Arc::new(RegimeService::new(
            market,
            Arc::new(PgRegimeStore::new(db.clone())),
            ModelConfig::default(),
        ));
        let idempotency: Arc<dyn IdempotencyRepo> = Arc::new(PgIdempotencyRepo::new(db.clone()));
        let ports = Ports {
            tenants,
            users,
            audit,
            exchange: router,
            regime,
            idempotency,
            ensembles,
        };
        let mut state = Self::from_ports(ports, auth)?;
        state.db = Some(db);
        Ok(state)
    }

    /// A state over any port implementations (mocks in tests).
    ///
    /// # Errors
    /// Keys that cannot sign.
    pub fn from_ports(ports: Ports, auth: AuthConfig) -> Result<Self, SetupError> {
        let Ports {
            tenants,
            users,
            audit,
            exchange,
            regime,
            idempotency,
            ensembles,
        } = ports;
        let issuer = TokenIssuer::new(
            auth.keys.clone(),
            auth.issuer.clone(),
            auth.audience.clone(),
        )?;
        let verifier = TokenVerifier::new(
            auth.keys,
            VerifierConfig::new(auth.issuer, auth.audience).with_leeway(auth.leeway),
        );
        let principals = Arc::new(RepoPrincipalCheck::new(tenants.clone(), users.clone()));
        let authenticator =
            Authenticator::new(verifier).with_principal_check(SharedCheck(principals.clone()));
        let per_minute = NonZeroU32::new(auth.login_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            db: None,
            tenants,
            users,
            audit,
            issuer: Arc::new(issuer),
            token_ttl: auth.token_ttl,
            authenticator,
            principals,
            login_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            positions: PositionService::new(exchange.clone()),
            regime,
            exchange,
            idempotency,
            ensembles,
        })
    }
}

/// Lets the authenticator and the state share one principal cache.
struct SharedCheck(Arc<RepoPrincipalCheck>);

impl tenant_auth::actix::PrincipalCheck for SharedCheck {
    fn check<'a>(
        &'a self,
        ctx: &'a tenant_auth::TenantContext,
    ) -> tenant_auth::actix::PrincipalCheckFuture<'a> {
        self.0.check(ctx)
    }
}
