//! The ensemble service: validates requests, combines signals, scores performance and
//! optimises weights over the [`EnsembleRepo`] and [`MarketDataRepo`] ports. Every change
//! hands the repository the audit row to append in the change's own transaction.
//!
//! One module per use case, each adding its methods to [`EnsembleService`]:
//! - `ensembles`: create and list;
//! - `agents`: register an agent;
//! - `predict`: combine signals into a stored prediction;
//! - `weights`: current weights, optimisation;
//! - `reports`: performance report, agent rankings;
//! - `outcomes`: closes and realised outcomes the last two share;
//!
//! and their support: `io` (inputs and answers), `error`, `limits`, `validation`, `audit`.

use std::sync::Arc;

use alphapulse_domain::ports::{EnsembleRepo, MarketDataRepo};

mod agents;
mod audit;
mod ensembles;
mod error;
mod io;
mod limits;
mod outcomes;
mod predict;
mod reports;
mod validation;
mod weights;

pub use error::{EnsembleError, FieldIssue};
pub use io::*;
pub use limits::{
    MAX_AGENT_LEN, MAX_CONFIG_BYTES, MAX_INITIAL_WEIGHT, MAX_NAME_LEN, MAX_SIGNALS,
    OPTIMIZE_LOOKBACK, PERFORMANCE_LOOKBACK, RANKINGS_LOOKBACK,
};

/// The service (share it as `Arc<EnsembleService>`).
pub struct EnsembleService {
    repo: Arc<dyn EnsembleRepo>,
    market: Arc<dyn MarketDataRepo>,
}

impl std::fmt::Debug for EnsembleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnsembleService").finish_non_exhaustive()
    }
}

impl EnsembleService {
    /// A service over the ensemble store and the market data.
    pub fn new(repo: Arc<dyn EnsembleRepo>, market: Arc<dyn MarketDataRepo>) -> Self {
        Self { repo, market }
    }
}

#[cfg(test)]
mod tests;
