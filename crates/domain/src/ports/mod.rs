//! Port traits: what the services need from storage and the outside world.
//!
//! Every method that touches tenant data takes an [`Actor`] (the tenant and the acting user),
//! so forgetting the tenant is a compile error rather than a leak. Platform methods (tenant
//! administration, login lookups) say so in their names and docs.
//!
//! With the `mocks` feature (or in this crate's tests) `mockall` generates `Mock*` types.

mod accounts;

/// A boxed future that can move between threads: what a port returns for work it does without
/// blocking a thread (see [`PaperBook::spot_holdings_priced_nonblocking`]).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

mod alerts;
mod audit;
mod clock;
mod console;
mod credentials;
mod ensemble;
mod idempotency;
mod market;
mod metrics;
mod operations;
mod paper;
mod portfolio;
mod readiness;
mod regime;
mod risk_budget;
mod risk_limits;
mod tenants;
mod trading_lock;
mod usage;
mod users;

pub use accounts::{AdapterKind, ExchangeAccount, ExchangeAccountRepo, NewExchangeAccount};
pub use alerts::{
    Alert, AlertFilter, AlertPageFuture, AlertRepo, AlertSeverity, AlertSource, NewAlert,
};
pub use audit::AuditRepo;
pub use clock::{Clock, ManualClock, SystemClock};
pub use console::*;
pub use credentials::{
    mask_key, CredentialsInfo, ExchangeAdmin, ExchangeCredentialsRepo, SealedCredentials,
    VenueSecrets,
};
#[allow(unused_imports)]
pub use ensemble::*;
pub use idempotency::{IdempotencyBegin, IdempotencyRepo};
pub use market::MarketDataRepo;
pub use metrics::{Aggregation, BucketInterval, MetricPoint, MetricType, MetricsRepo, SeriesQuery};
pub use operations::{CacheStat, CacheStatsSource, DatabaseHealth, DatabaseStats, PoolStats};
pub use paper::{AccountViewFuture, MarkedPositionsFuture, PaperBook, PricedHoldingsFuture};
pub use portfolio::{
    HoldingValue, NewPortfolioSnapshot, PortfolioSnapshot, PortfolioSnapshotRepo, SnapshotSlot,
    SnapshotSource, TradeFilter, TradeRecord, TradeRepo,
};
pub use readiness::Readiness;
pub use regime::{RegimeAlert, RegimeConfig, RegimeDay, RegimeStore};
pub use risk_budget::{
    BudgetAllocation, BudgetEntityType, EntityScope, IdempotentAnswer, NewRiskBudget, RiskBudget,
    RiskBudgetRepo,
};
pub use risk_limits::{RiskLimits, RiskLimitsRepo, LIMIT_RANGES};
pub use tenants::{for_each_active_tenant, OwnTenantFuture, TenantFilter, TenantRepo};
pub use trading_lock::{TradingGuard, TradingLocks};
pub use usage::UsageRepo;
pub use users::{Credentials, UserRepo};

#[cfg(any(test, feature = "mocks"))]
pub use accounts::MockExchangeAccountRepo;
#[cfg(any(test, feature = "mocks"))]
pub use alerts::MockAlertRepo;
#[cfg(any(test, feature = "mocks"))]
pub use audit::MockAuditRepo;
#[cfg(any(test, feature = "mocks"))]
pub use credentials::{MockExchangeAdmin, MockExchangeCredentialsRepo};
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyRepo;
#[cfg(any(test, feature = "mocks"))]
pub use market::MockMarketDataRepo;
#[cfg(any(test, feature = "mocks"))]
pub use metrics::MockMetricsRepo;
#[cfg(any(test, feature = "mocks"))]
pub use operations::MockDatabaseStats;
#[cfg(any(test, feature = "mocks"))]
pub use paper::MockPaperBook;
#[cfg(any(test, feature = "mocks"))]
pub use portfolio::{MockPortfolioSnapshotRepo, MockTradeRepo};
#[cfg(any(test, feature = "mocks"))]
pub use readiness::MockReadiness;
#[cfg(any(test, feature = "mocks"))]
pub use regime::MockRegimeStore;
#[cfg(any(test, feature = "mocks"))]
pub use risk_budget::MockRiskBudgetRepo;
#[cfg(any(test, feature = "mocks"))]
pub use risk_limits::MockRiskLimitsRepo;
#[cfg(any(test, feature = "mocks"))]
pub use tenants::MockTenantRepo;
#[cfg(any(test, feature = "mocks"))]
pub use trading_lock::MockTradingLocks;
#[cfg(any(test, feature = "mocks"))]
pub use usage::MockUsageRepo;
#[cfg(any(test, feature = "mocks"))]
pub use users::MockUserRepo;

use crate::{TenantId, UserId};

/// Who is acting, and in which tenant: the key of every tenant-scoped port call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The tenant whose rows may be touched (and no other).
    pub tenant_id: TenantId,
    /// The acting user, recorded in `app.current_user_id` for auditing (`None` for jobs).
    pub user_id: Option<UserId>,
}

impl Actor {
    /// A user acting in their tenant.
    pub fn user(tenant_id: TenantId, user_id: UserId) -> Self {
        Self {
            tenant_id,
            user_id: Some(user_id),
        }
    }

    /// A system job acting for a tenant.
    pub fn system(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            user_id: None,
        }
    }
}
