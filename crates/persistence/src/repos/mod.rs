//! Row types, queries and the `Pg*Repo` implementations of the domain ports, one module per
//! table group.
//!
//! Query functions take `&mut PgConnection` and leave the transaction to the caller (a
//! [`crate::TenantScope`] or [`crate::PlatformScope`]); the repo structs open the right scope.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod console;
pub mod credentials;
mod cursor;
pub mod ensembles;
pub mod idempotency;
pub mod market;
pub mod metrics;
pub mod paper;
pub mod portfolio;
pub mod regime;
pub mod risk_budget;
pub mod risk_limits;
pub mod tenants;
pub mod trading_lock;
pub mod usage;
pub mod users;

pub use accounts::PgExchangeAccountRepo;
pub use alerts::PgAlertRepo;
pub use audit::PgAuditRepo;
pub use console::{PgDecisionAuditRepo, PgDecisionRepo, PgRulesRepo, PgSettingsRepo};
pub use credentials::PgExchangeCredentialsRepo;
pub use ensembles::PgEnsembleRepo;
pub use idempotency::PgIdempotencyRepo;
pub use market::PgMarketDataRepo;
pub use metrics::PgMetricsRepo;
pub use paper::PgPaperBook;
pub use portfolio::{PgPortfolioSnapshotRepo, PgTradeRepo};
pub use regime::PgRegimeStore;
pub use risk_budget::PgRiskBudgetRepo;
pub use risk_limits::PgRiskLimitsRepo;
pub use tenants::PgTenantRepo;
pub use trading_lock::PgTradingLocks;
pub use usage::PgUsageRepo;
pub use users::PgUserRepo;
