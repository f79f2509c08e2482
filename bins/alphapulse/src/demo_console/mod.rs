//! The firm console's demo data (seed 004): the seed's three pilot tenants are the demo
//! tenants (`acme-capital`, `beta-quant`, `gamma-macro`), each given a 100-day pilot history
//! replayed through the console's own policy, calibration and mining code over the demo's
//! stored daily closes:
//!
//! - two ensembles with three agents each (technical, LLM sentiment, on-chain);
//! - 100 decisions per tenant, one a day: the prediction from the symbol's momentum, its
//!   confidence calibrated on the tenant's earlier outcomes (Platt, raw until 30 outcomes),
//!   the regime from the 20-day trend, the LLM cost of the sentiment agent, checked by the
//!   policy against the settings and rules of that day;
//! - the admins' settings changes during the pilot, ending at the seed's settings
//!   (acme: autopost off, 0.90; beta: on, 0.92; gamma: off, 0.90);
//! - 50 rule candidates mined from that history (evidence from realised outcomes), some
//!   accepted (rules versions) or rejected, one rollback per tenant;
//! - 500 decision-trail entries in all (the decisions, settings changes, reviews and
//!   rollbacks).
//!
//! Idempotent: a tenant that has decisions already is left alone.

mod sim;

use alphapulse_persistence::Db;
use anyhow::Result;

use crate::demo::DemoData;

pub use sim::{ConsoleCounts, PILOTS};

/// Seeds the console's demo history of every demo tenant that has none.
///
/// # Errors
/// Storage failures; a demo tenant without market data.
pub fn seed_demo_console(db: &Db, data: &DemoData) -> Result<ConsoleCounts> {
    sim::Pilot::new(db).seed(data)
}
