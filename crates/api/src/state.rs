//! What handlers share: the services, built by the binary (the composition root) from
//! repositories and adapters it chose, and handed over here as ready objects. The API crate
//! never constructs a repository or an adapter.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use alphapulse_admin::{Login, Principals, Quotas, TenantAdmin, UserAdmin};
use alphapulse_console::Console;
use alphapulse_domain::ports::Readiness;
use alphapulse_ensemble::EnsembleService;
use alphapulse_hedging::{HedgingDesk, PositionService};
use alphapulse_operations::{
    AlertService, CredentialsService, LiquidityService, MetricsService, SystemService,
};
use alphapulse_regime::service::RegimeService;
use alphapulse_risk::service::{BudgetService, CorrelationService, PortfolioService, RiskService};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tenant_auth::actix::{Authenticator, PrincipalCheck, PrincipalCheckFuture, PrincipalRejection};
use tenant_auth::{TenantContext, TokenVerifier};

/// The services the API serves.
#[derive(Clone)]
pub struct Services {
    /// Is the database there (`/ready`)?
    pub readiness: Arc<dyn Readiness>,
    /// Login.
    pub login: Arc<Login>,
    /// The principal check behind every token.
    pub principals: Arc<Principals>,
    /// The daily quota and burst limit of each tenant.
    pub quotas: Arc<Quotas>,
    /// Tenants (platform administration).
    pub tenants: TenantAdmin,
    /// Users of tenants.
    pub users: UserAdmin,
    /// Positions valued through the tenant's exchange account.
    pub positions: PositionService,
    /// Market regimes per tenant.
    pub regime: Arc<RegimeService>,
    /// Hedge analysis and the trading actions.
    pub hedging: HedgingDesk,
    /// AI-agent ensembles.
    pub ensembles: Arc<EnsembleService>,
    /// Portfolio valuation, snapshots and trades.
    pub portfolio: PortfolioService,
    /// Exposure, risk metrics, limits, position sizes, the risk report.
    pub risk: RiskService,
    /// Risk budgets per strategy and asset class.
    pub risk_budget: BudgetService,
    /// Correlation, concentration and correlation alerts.
    pub correlation: CorrelationService,
    /// The tenant's alerts.
    pub alerts: AlertService,
    /// Metric series, cache and pool statistics.
    pub metrics: MetricsService,
    /// Host and process health, exchange re-sync.
    pub system: Arc<SystemService>,
    /// Liquidity models over the shared candles.
    pub liquidity: LiquidityService,
    /// The tenant's exchange credentials.
    pub credentials: CredentialsService,
    /// The firm console: settings, decisions, rules, the decision audit trail.
    pub console: Console,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Login attempts allowed per client address per minute.
    pub login_per_minute: u32,
    /// Peers whose `X-Forwarded-For` is believed (`ALPHAPULSE_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Tenants with a metrics label of their own (`ALPHAPULSE_METRICS_TENANT_LABELS`).
    pub metrics_tenant_labels: usize,
    /// Whether the daily quota and the burst limit are enforced (`ALPHAPULSE_QUOTAS`; off for
    /// a deployment whose gateway enforces them, or to measure their cost).
    pub enforce_quotas: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            login_per_minute: 20,
            trusted_proxies: Vec::new(),
            metrics_tenant_labels: crate::metrics::DEFAULT_TENANT_LABELS,
            enforce_quotas: true,
        }
    }
}

/// What handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The services.
    pub services: Services,
    /// Verifies tokens and checks principals (the extractor reads it from app data).
    pub authenticator: Authenticator,
    /// Per-client-address login limiter.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Whether requests are counted against the quota and burst limit.
    pub enforce_quotas: bool,
    /// Bounded tenant labels of the metrics.
    pub tenant_labels: Arc<crate::metrics::TenantLabels>,
    /// Web console sessions ended by logout (until their token expires).
    pub console_logouts: Arc<crate::web::session::Logouts>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl AppState {
    /// The state over `services`; tokens are checked by `verifier`, then by the services'
    /// principal check.
    pub fn new(services: Services, verifier: TokenVerifier, http: &HttpSettings) -> Self {
        let authenticator = Authenticator::new(verifier)
            .with_principal_check(PrincipalsCheck(services.principals.clone()));
        let per_minute = NonZeroU32::new(http.login_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let logouts = Arc::new(crate::web::session::Logouts::new(
            services.login.token_ttl(),
        ));
        Self {
            services,
            authenticator,
            login_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            trusted_proxies: http.trusted_proxies.clone().into(),
            enforce_quotas: http.enforce_quotas,
            tenant_labels: Arc::new(crate::metrics::TenantLabels::new(
                http.metrics_tenant_labels,
            )),
            console_logouts: logouts,
        }
    }

    /// The per-address login limit, shared by the API's and the console's login.
    ///
    /// # Errors
    /// 429 with `Retry-After` when this address tried too often.
    pub fn check_login_address(&self, req: &actix_web::HttpRequest) -> Result<(), crate::ApiError> {
        let client = crate::client::client_key(req, &self.trusted_proxies);
        self.login_limiter.check_key(&client).map_err(|not_until| {
            crate::ApiError::TooManyRequests {
                detail: "Too many login attempts from this address".to_owned(),
                retry_after: alphapulse_admin::retry_after_secs(&not_until),
                quota: None,
            }
        })
    }

    /// Forgets idle per-address and per-account login counters (memory stays bounded).
    pub fn prune_login_limits(&self) {
        self.login_limiter.retain_recent();
        self.login_limiter.shrink_to_fit();
        self.services.login.prune();
    }

    /// Lifetime of the tokens login issues.
    pub fn token_ttl(&self) -> Duration {
        self.services.login.token_ttl()
    }
}

/// tenant-auth's principal hook over the admin service: a cached verdict answers at once on
/// the async worker; a miss is looked up on the blocking pool.
struct PrincipalsCheck(Arc<Principals>);

fn rejection(r: alphapulse_admin::Rejection) -> PrincipalRejection {
    use alphapulse_admin::Rejection as R;
    match r {
        R::Unauthorized(why) => PrincipalRejection::Unauthorized(why.into()),
        R::Forbidden(why) => PrincipalRejection::Forbidden(why.into()),
        R::Unavailable(why) => PrincipalRejection::Unavailable(why.into()),
    }
}

impl PrincipalCheck for PrincipalsCheck {
    fn check<'a>(&'a self, ctx: &'a TenantContext) -> PrincipalCheckFuture<'a> {
        Box::pin(async move {
            if let Some(verdict) = self.0.cached(ctx) {
                crate::metrics::principal_cache(true);
                return verdict.map_err(rejection);
            }
            crate::metrics::principal_cache(false);
            let (principals, ctx) = (self.0.clone(), ctx.clone());
            actix_web::web::block(move || principals.check(&ctx))
                .await
                .unwrap_or(Err(alphapulse_admin::Rejection::Unavailable(
                    "identity check failed",
                )))
                .map_err(rejection)
        })
    }
}
