//! Row types, queries and the `Pg*Repo` implementations of the domain ports, one module per
//! table group.
//!
//! Query functions take `&mut PgConnection` and leave the transaction to the caller (a
//! [`crate::TenantScope`] or [`crate::PlatformScope`]); the repo structs open the right scope.

pub mod accounts;
pub mod audit;
pub mod console;
mod cursor;
pub mod ensembles;
pub mod idempotency;
pub mod market;
pub mod paper;
pub mod regime;
pub mod risk_limits;
pub mod tenants;
pub mod trading_lock;
pub mod users;

pub use accounts::PgExchangeAccountRepo;
pub use audit::PgAuditRepo;
pub use console::{PgDecisionAuditRepo, PgDecisionRepo, PgRulesRepo, PgSettingsRepo};
pub use ensembles::PgEnsembleRepo;
pub use idempotency::PgIdempotencyRepo;
pub use market::PgMarketDataRepo;
pub use paper::PgPaperBook;
pub use regime::PgRegimeStore;
pub use risk_limits::PgRiskLimitsRepo;
pub use tenants::PgTenantRepo;
pub use trading_lock::PgTradingLocks;
pub use users::PgUserRepo;
