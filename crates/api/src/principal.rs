//! After the signature: is the tenant active, and is the user known, active, in the token's
//! tenant and still of the token's role? Answers are cached for at most [`PRINCIPAL_TTL`] so
//! the hot path does not hit the database on every request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alphapulse_domain::{
    ports::{TenantRepo, UserRepo},
    RepoError, TenantId, TenantStatus, UserId,
};
use tenant_auth::{
    actix::{PrincipalCheck, PrincipalCheckFuture, PrincipalRejection},
    TenantContext,
};

/// How long a tenant/user status answer is trusted.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

type Verdict = Result<(), PrincipalRejection>;
type Key = (TenantId, UserId, tenant_auth::Role);

/// The [`PrincipalCheck`] of the API, backed by the tenant and user repositories.
pub struct RepoPrincipalCheck {
    tenants: Arc<dyn TenantRepo>,
    users: Arc<dyn UserRepo>,
    ttl: Duration,
    cache: Mutex<HashMap<Key, (Instant, Verdict)>>,
}

impl std::fmt::Debug for RepoPrincipalCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoPrincipalCheck")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RepoPrincipalCheck {
    /// A check with the default TTL.
    pub fn new(tenants: Arc<dyn TenantRepo>, users: Arc<dyn UserRepo>) -> Self {
        Self::with_ttl(tenants, users, PRINCIPAL_TTL)
    }

    /// A check with a custom TTL (capped at [`PRINCIPAL_TTL`]; zero disables caching).
    pub fn with_ttl(tenants: Arc<dyn TenantRepo>, users: Arc<dyn UserRepo>, ttl: Duration) -> Self {
        Self {
            tenants,
            users,
            ttl: ttl.min(PRINCIPAL_TTL),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached answer (after suspending a tenant or deactivating a user, so the
    /// change applies at once on this instance).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    fn cached(&self, key: &Key) -> Option<Verdict> {
        let cache = self.cache.lock().ok()?;
        let (at, verdict) = cache.get(key)?;
        (at.elapsed() < self.ttl).then(|| verdict.clone())
    }

    fn remember(&self, key: Key, verdict: &Verdict) {
        // Outages are not cached: the next request retries.
        if matches!(verdict, Err(PrincipalRejection::Unavailable(_))) || self.ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_ENTRIES {
                cache.retain(|_, (at, _)| at.elapsed() < self.ttl);
                if cache.len() >= MAX_ENTRIES {
                    cache.clear();
                }
            }
            cache.insert(key, (Instant::now(), verdict.clone()));
        }
    }
}

fn lookup(tenants: &dyn TenantRepo, users: &dyn UserRepo, ctx: &TenantContext) -> Verdict {
    {
        let tenant_id = TenantId(ctx.tenant_id);
        let unavailable = |e: RepoError| match e {
            RepoError::Unavailable(_) => {
                PrincipalRejection::Unavailable("database unavailable".into())
            }
            other => {
                tracing::error!(error = %other, "principal lookup failed");
                PrincipalRejection::Unavailable("identity check failed".into())
            }
        };
        let user = users
            .find_any_tenant(UserId(ctx.user_id))
            .map_err(unavailable)?;
        let Some(user) = user else {
            return Err(PrincipalRejection::Unauthorized("unknown user".into()));
        };
        if user.tenant_id != tenant_id {
            return Err(PrincipalRejection::Unauthorized(
                "user not in token tenant".into(),
            ));
        }
        if !user.active {
            return Err(PrincipalRejection::Unauthorized("user inactive".into()));
        }
        if user.role != ctx.role {
            return Err(PrincipalRejection::Unauthorized(
                "role changed, log in again".into(),
            ));
        }
        let tenant = match tenants.get(tenant_id) {
            Ok(t) => t,
            Err(RepoError::NotFound(_)) => {
                return Err(PrincipalRejection::Unauthorized("unknown tenant".into()))
            }
            Err(e) => return Err(unavailable(e)),
        };
        match tenant.status {
            TenantStatus::Active => Ok(()),
            TenantStatus::Suspended => {
                Err(PrincipalRejection::Forbidden("tenant suspended".into()))
            }
            TenantStatus::Cancelled => {
                Err(PrincipalRejection::Forbidden("tenant cancelled".into()))
            }
        }
    }
}

impl PrincipalCheck for RepoPrincipalCheck {
    fn check<'a>(&'a self, ctx: &'a TenantContext) -> PrincipalCheckFuture<'a> {
        Box::pin(async move {
            let key = (TenantId(ctx.tenant_id), UserId(ctx.user_id), ctx.role);
            if let Some(verdict) = self.cached(&key) {
                return verdict;
            }
            let (tenants, users, ctx_owned) =
                (self.tenants.clone(), self.users.clone(), ctx.clone());
            let verdict = actix_web::web::block(move || lookup(&*tenants, &*users, &ctx_owned))
                .await
                .unwrap_or_else(|_| {
                    Err(PrincipalRejection::Unavailable(
                        "identity check failed".into(),
                    ))
                });
            self.remember(key, &verdict);
            verdict
        })
    }
}
