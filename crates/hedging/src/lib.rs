//! AlphaPulse hedging: what a tenant holds and how much of it is hedged.
//!
//! [`PositionService`] fetches spot holdings and futures positions from the tenant's
//! [`ExchangeClient`] and values them at current prices; [`metrics`] derives the exposure
//! figures of `GET /api/v1/positions/metrics`. Services talk to ports only: no diesel, no HTTP.
#![deny(missing_docs)]

pub mod analysis;
pub mod execution;
pub mod metrics;
pub mod positions;

pub use analysis::{analyse, HedgeAction, HedgeAnalysis, Recommendation};
pub use execution::OrderOutcome;
pub use metrics::{metrics, PositionMetrics};
pub use positions::{FuturesPositionView, PositionService, SpotPosition};

#[doc(no_inline)]
pub use alphapulse_domain::ExchangeClient;
