//! AlphaPulse operations services, over the domain's ports (no diesel, no actix):
//!
//! - [`alerts`]: the tenant's alerts (list, acknowledge) and the rules this crate owns
//!   ([`alerts::AlertRules`]: exchange account failing; the quota alerts are raised by
//!   `alphapulse_admin::Quotas`);
//! - [`exchange_watch`]: the exchange-failure rule in front of the exchange client;
//! - [`metrics`]: metric series (buckets aggregated by the database), cache and pool
//!   statistics;
//! - [`system`]: host, process, database and pool health; the exchange re-sync;
//! - [`credentials`]: the tenant's exchange credentials (add, list, rotate with a grace period,
//!   delete, check);
//! - [`liquidity`]: the `alphapulse-liquidity` maths over the shared candles and the tenant's
//!   holdings.
//!
//! One error type, [`OpsError`].
#![deny(missing_docs)]

pub mod alerts;
pub mod credentials;
mod error;
pub mod exchange_watch;
pub mod liquidity;
pub mod metrics;
pub mod system;

use chrono::{DateTime, Utc};

pub use alerts::{AlertRules, AlertService};
pub use credentials::{CredentialsService, DEFAULT_GRACE};
pub use error::{OpsError, OpsResult};
pub use exchange_watch::AlertingExchange;
pub use liquidity::LiquidityService;
pub use metrics::{MetricsService, SeriesRequest};
pub use system::SystemService;

/// A time clamped into what PostgreSQL stores (years 1900 to 9999): a window bound beyond it
/// selects the same rows.
pub fn clamp_window(at: DateTime<Utc>) -> DateTime<Utc> {
    let min = DateTime::<Utc>::from_timestamp(-2_208_988_800, 0).unwrap_or_default();
    let max = DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or_default();
    at.clamp(min, max)
}
