//! After the signature: is the tenant active, and is the user known, active, in the token's
//! tenant and still of the token's role? Answers are cached for a short, configurable time
//! (bounded by [`MAX_TTL`]) so the hot path does not ask the database on every request.
//!
//! The cache is a bounded `moka` cache. Concurrent checks of the same principal share one
//! database lookup. An outage is never cached. [`Principals::invalidate`] (after a user or
//! tenant change) moves a generation counter that is part of every key: verdicts cached
//! before it, and lookups still in flight when it moved, can never be served again, so a
//! demoted or deactivated user loses access at once on this process.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use alphapulse_domain::{
    ports::{CacheStat, CacheStatsSource, TenantRepo, UserRepo},
    RepoError, TenantId, TenantStatus, UserId,
};
use moka::sync::Cache;
use tenant_auth::{Role, TenantContext};

/// The longest a verdict may be trusted.
pub const MAX_TTL: Duration = Duration::from_secs(30);
/// How many principals are remembered.
pub const MAX_ENTRIES: u64 = 10_000;

/// Why a principal is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 401: unknown or inactive user, wrong tenant, changed role.
    Unauthorized(&'static str),
    /// 403: the tenant is suspended or cancelled.
    Forbidden(&'static str),
    /// 503: the check could not be made (never cached).
    Unavailable(&'static str),
}

/// The answer for one principal.
pub type Verdict = Result<(), Rejection>;

type Key = (u64, TenantId, UserId, Role);

/// The principal check, backed by the tenant and user repositories.
pub struct Principals {
    tenants: Arc<dyn TenantRepo>,
    users: Arc<dyn UserRepo>,
    generation: AtomicU64,
    cache: Option<Cache<Key, Verdict>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Principals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principals")
            .field("generation", &self.generation)
            .field("cached", &self.cache.as_ref().map(Cache::entry_count))
            .finish_non_exhaustive()
    }
}

impl Principals {
    /// A check whose verdicts live `ttl` (capped at [`MAX_TTL`]; zero disables caching).
    pub fn new(tenants: Arc<dyn TenantRepo>, users: Arc<dyn UserRepo>, ttl: Duration) -> Self {
        let ttl = ttl.min(MAX_TTL);
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl)
                .build()
        });
        Self {
            tenants,
            users,
            generation: AtomicU64::new(0),
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn key(&self, ctx: &TenantContext) -> Key {
        (
            self.generation.load(Ordering::Acquire),
            TenantId(ctx.tenant_id),
            UserId(ctx.user_id),
            ctx.role,
        )
    }

    /// The cached verdict, if there is one (never blocks).
    pub fn cached(&self, ctx: &TenantContext) -> Option<Verdict> {
        let found = self.cache.as_ref()?.get(&self.key(ctx));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The verdict for `ctx`: cached, or looked up now (blocking: call it off the async
    /// workers). Concurrent lookups of one principal share one database round.
    pub fn check(&self, ctx: &TenantContext) -> Verdict {
        let Some(cache) = &self.cache else {
            return lookup(&*self.tenants, &*self.users, ctx);
        };
        let key = self.key(ctx);
        let found = cache.try_get_with(key, || match lookup(&*self.tenants, &*self.users, ctx) {
            Err(Rejection::Unavailable(why)) => Err(why),
            verdict => Ok(verdict),
        });
        found.unwrap_or_else(|why| Err(Rejection::Unavailable(*why)))
    }

    /// Forgets every verdict (after a user or tenant change).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }
}

/// The verdict cache; hits and misses count [`Principals::cached`] lookups (the request path
/// asks it first and checks on a miss).
impl CacheStatsSource for Principals {
    fn cache_stats(&self) -> Vec<CacheStat> {
        vec![CacheStat {
            name: "principal_verdicts".to_owned(),
            entries: self.cache.as_ref().map_or(0, Cache::entry_count),
            capacity: if self.cache.is_some() { MAX_ENTRIES } else { 0 },
            hits: Some(self.hits.load(Ordering::Relaxed)),
            misses: Some(self.misses.load(Ordering::Relaxed)),
        }]
    }
}

fn unavailable(err: RepoError) -> Rejection {
    if !matches!(err, RepoError::Unavailable(_)) {
        tracing::error!(error = %err, "principal lookup failed");
    }
    Rejection::Unavailable("identity check failed")
}

fn lookup(tenants: &dyn TenantRepo, users: &dyn UserRepo, ctx: &TenantContext) -> Verdict {
    let tenant_id = TenantId(ctx.tenant_id);
    let user = users
        .find_any_tenant(UserId(ctx.user_id))
        .map_err(unavailable)?
        .ok_or(Rejection::Unauthorized("unknown user"))?;
    if user.tenant_id != tenant_id {
        return Err(Rejection::Unauthorized("user not in token tenant"));
    }
    if !user.active {
        return Err(Rejection::Unauthorized("user inactive"));
    }
    if user.role != ctx.role {
        return Err(Rejection::Unauthorized("role changed, log in again"));
    }
    let tenant = match tenants.get(tenant_id) {
        Ok(t) => t,
        Err(RepoError::NotFound(_)) => return Err(Rejection::Unauthorized("unknown tenant")),
        Err(e) => return Err(unavailable(e)),
    };
    match tenant.status {
        TenantStatus::Active => Ok(()),
        TenantStatus::Suspended => Err(Rejection::Forbidden("tenant suspended")),
        TenantStatus::Cancelled => Err(Rejection::Forbidden("tenant cancelled")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use alphapulse_domain::{
        ports::{MockTenantRepo, MockUserRepo},
        Email, Slug, SubscriptionTier, Tenant, User,
    };
    use chrono::Utc;

    use super::*;

    fn user(tenant: TenantId, id: UserId, active: bool) -> User {
        User {
            id,
            tenant_id: tenant,
            email: Email::parse("a@b.co").unwrap(),
            role: Role::Trader,
            active,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn tenant(id: TenantId, status: TenantStatus) -> Tenant {
        Tenant {
            id,
            name: "t".into(),
            slug: Slug::parse("tenant").unwrap(),
            subscription_tier: SubscriptionTier::Starter,
            status,
            max_users: 5,
            max_api_calls_per_day: 10,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            metadata: serde_json::json!({}),
        }
    }

    fn ctx(t: TenantId, u: UserId) -> TenantContext {
        TenantContext {
            tenant_id: t.as_uuid(),
            user_id: u.as_uuid(),
            role: Role::Trader,
        }
    }

    /// A user that becomes inactive after the first lookup; counts lookups.
    fn flipping(t: TenantId, u: UserId, lookups: Arc<AtomicUsize>) -> Principals {
        let mut users = MockUserRepo::new();
        users.expect_find_any_tenant().returning(move |_| {
            let n = lookups.fetch_add(1, Ordering::SeqCst);
            Ok(Some(user(t, u, n == 0)))
        });
        let mut tenants = MockTenantRepo::new();
        tenants
            .expect_get()
            .returning(move |id| Ok(tenant(id, TenantStatus::Active)));
        Principals::new(Arc::new(tenants), Arc::new(users), MAX_TTL)
    }

    #[test]
    fn verdicts_are_cached_until_invalidated() {
        let (t, u) = (TenantId::new_random(), UserId::new_random());
        let lookups = Arc::new(AtomicUsize::new(0));
        let principals = flipping(t, u, lookups.clone());
        assert_eq!(principals.check(&ctx(t, u)), Ok(()));
        assert_eq!(principals.cached(&ctx(t, u)), Some(Ok(())));
        assert_eq!(
            principals.check(&ctx(t, u)),
            Ok(()),
            "served from the cache"
        );
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
        principals.invalidate();
        assert_eq!(principals.cached(&ctx(t, u)), None);
        assert_eq!(
            principals.check(&ctx(t, u)),
            Err(Rejection::Unauthorized("user inactive")),
            "the deactivation is seen at once"
        );
        assert_eq!(lookups.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_zero_ttl_never_caches_and_outages_are_not_cached() {
        let (t, u) = (TenantId::new_random(), UserId::new_random());
        let lookups = Arc::new(AtomicUsize::new(0));
        let mut users = MockUserRepo::new();
        let seen = lookups.clone();
        users.expect_find_any_tenant().returning(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
            Err(RepoError::Unavailable("down".into()))
        });
        let principals = Principals::new(Arc::new(MockTenantRepo::new()), Arc::new(users), MAX_TTL);
        for _ in 0..2 {
            assert_eq!(
                principals.check(&ctx(t, u)),
                Err(Rejection::Unavailable("identity check failed"))
            );
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 2, "outage not cached");

        let lookups = Arc::new(AtomicUsize::new(0));
        let uncached = Principals::new(
            Arc::new({
                let mut t = MockTenantRepo::new();
                t.expect_get()
                    .returning(|id| Ok(tenant(id, TenantStatus::Suspended)));
                t
            }),
            Arc::new({
                let mut users = MockUserRepo::new();
                let seen = lookups.clone();
                users.expect_find_any_tenant().returning(move |_| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    Ok(Some(user(t, u, true)))
                });
                users
            }),
            Duration::ZERO,
        );
        assert_eq!(
            uncached.check(&ctx(t, u)),
            Err(Rejection::Forbidden("tenant suspended"))
        );
        assert_eq!(uncached.cached(&ctx(t, u)), None);
        uncached.check(&ctx(t, u)).unwrap_err();
        assert_eq!(lookups.load(Ordering::SeqCst), 2);
    }
}
