//! AlphaPulse persistence: PostgreSQL through diesel, with row-level security as the net under
//! every tenant query.
//!
//! - [`Db`]: the r2d2 pool, and the two units of work: [`TenantScope`] (the one way into
//!   tenant data: `alphapulse_tenant` role + `app.current_tenant_id`, transaction-local) and
//!   [`PlatformScope`] (`alphapulse_platform`, `BYPASSRLS`, platform operations only);
//! - [`AsyncReads`]: tenant reads on the request path over `diesel-async` (pipelined, no
//!   blocking thread), beside the r2d2 pool;
//! - [`repos`]: diesel rows and queries, and the `Pg*Repo` implementations of the domain ports;
//! - [`migrations`]: the embedded, reversible migrations;
//! - [`cluster`]: a local PostgreSQL cluster from the machine's binaries;
//! - `testing` (feature `test-support`): a shared cluster for a test run and a fresh database
//!   per test, cloned from a migrated template.
//!
//! Errors: [`Error`] inside this crate, converted to `alphapulse_domain::RepoError` at the
//! port boundary.

pub mod cluster;
pub mod error;
pub mod migrations;
pub mod pool;
pub mod reads;
pub mod repos;
pub mod schema;
pub mod scope;
#[cfg(feature = "test-support")]
pub mod testing;

pub use cluster::{CitusCluster, CitusConfig, ClusterConfig, ClusterError, LocalCluster};
pub use error::{Error, Result};
pub use pool::{Db, Engine, PoolConfig};
pub use reads::{AsyncReads, AsyncTenantRead, CachedLoad};
pub use repos::{
    PgAlertRepo, PgAuditRepo, PgDecisionAuditRepo, PgDecisionRepo, PgEnsembleRepo,
    PgExchangeAccountRepo, PgExchangeCredentialsRepo, PgIdempotencyRepo, PgMarketDataRepo,
    PgMetricsRepo, PgPaperBook, PgRegimeStore, PgRiskLimitsRepo, PgRulesRepo, PgSettingsRepo,
    PgTenantRepo, PgTradingLocks, PgUsageRepo, PgUserRepo,
};
pub use repos::{PgPortfolioSnapshotRepo, PgRiskBudgetRepo, PgTradeRepo};
pub use scope::{PlatformScope, TenantScope, PLATFORM_ROLE, TENANT_ROLE};
