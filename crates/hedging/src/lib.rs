//! AlphaPulse hedging: what a tenant holds and how much of it is hedged.
//!
//! [`PositionService`] fetches spot holdings and futures positions from the tenant's
//! [`ExchangeClient`] and values them at current prices; [`metrics`](mod@metrics) derives the exposure
//! figures of `GET /api/v1/positions/metrics`; [`HedgingDesk`] owns the hedging use cases
//! (analysis, and execute/close under the [`idempotency`] protocol with their audit rows). Services talk to ports only: no diesel, no HTTP.
#![deny(missing_docs)]

pub mod analysis;
pub mod desk;
pub mod execution;
pub mod idempotency;
pub mod metrics;
pub mod positions;

pub use analysis::{analyse, HedgeAction, HedgeAnalysis, Recommendation};
pub use desk::{Answer, Closed, DeskError, Executed, HedgingDesk};
pub use execution::OrderOutcome;
pub use idempotency::IdempotencyKey;
pub use metrics::{metrics, PositionMetrics};
pub use positions::{FuturesPositionView, PositionService, SpotPosition};

#[doc(no_inline)]
pub use alphapulse_domain::ExchangeClient;
