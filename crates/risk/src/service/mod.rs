//! The use cases of the portfolio, trades, risk, risk-budget and correlation routes, over the
//! domain's ports (no diesel, no actix here): the tenant's book from its exchange account, the
//! shared daily candles, the tenant's snapshots, limits, budgets and regime history, and the
//! maths of this crate.
//!
//! - [`PortfolioService`]: valuation, snapshots (the job's and on demand), trades;
//! - [`RiskService`]: exposure, risk metrics, limits and their use, position sizes, the report;
//! - [`BudgetService`]: risk budgets per strategy and asset class, utilisation, rebalancing
//!   (idempotent), recommendations, history, regime budgets;
//! - [`CorrelationService`]: correlation matrices, rolling correlation, concentration,
//!   correlation by regime, correlation alerts;
//! - [`SnapshotJob`]: one pass of the per-tenant snapshot job (the binary runs it on an
//!   interval).
//!
//! They share one [`RiskCore`] (the ports and the caches). Every figure is computed from the
//! caller's tenant's rows and the shared market data only: every port call carries the
//! caller's [`Actor`](alphapulse_domain::ports::Actor).
//!
//! **Portfolio returns** ([`ReturnsSource`]): from the tenant's daily snapshots once they
//! cover the whole lookback window (the realised path of the account), otherwise from the
//! current holdings applied to the holdings' aligned daily candles (today's weights on
//! history, Jorion's "returns reconstructed from current positions"). Weights are signed net
//! exposures per symbol over the net asset value (cash included, so cash dilutes the risk).
//! Every answer says which source it used and how many observations.
//!
//! **Alerts**: the rules that raise alerts (a drawdown or risk limit breached, budget use above
//! 90 %, a correlation spike) call [`AlertRepo::raise`](alphapulse_domain::ports::AlertRepo)
//! with a deduplication key when [`RiskPorts::alerts`] is set; without it they only report.
//! A failing alert store never fails the request: it is logged.

mod alerts;
mod book;
mod budget;
mod core;
mod correlation;
mod error;
mod job;
mod portfolio;
mod risk;
mod series;
#[cfg(test)]
mod tests;

pub use book::{Book, BookPosition};
pub use budget::*;
pub use core::{RiskCore, RiskPorts, CACHE_CAPACITY, CACHE_TTL};
pub use correlation::*;
pub use error::ServiceError;
pub use job::{SnapshotJob, SnapshotRun};
pub use portfolio::*;
pub use risk::*;
pub use series::{PortfolioSeries, ReturnsSource, MIN_OBSERVATIONS};

/// A decimal as the `f64` the statistics use; a value beyond `f64` reads as 0 rather than
/// poisoning a sum with infinity.
pub(crate) fn to_f64(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().filter(|v| v.is_finite()).unwrap_or(0.0)
}
