//! AlphaPulse firm console (seed 004): what a trading firm's admins see and steer.
//!
//! - [`settings`]: the tenant's autopost switch, threshold and monthly LLM cap;
//! - [`decisions`]: [`DecisionDesk::predict_and_decide`], the ensemble prediction turned into
//!   a decision by the [`policy`] with a [`calibration`] of the ensemble's confidence;
//! - [`rules`]: candidates mined from decision history, dry runs, reviews, versions and
//!   rollbacks;
//! - [`audit`]: the decision trail's pages and its streamed CSV export;
//! - [`access`]: who sees and changes which tenant (owner, assigned staff read-only, the
//!   tenant's admin).
//!
//! Services over domain ports only: no database or HTTP in this crate.
#![deny(missing_docs)]

pub mod access;
pub mod audit;
pub mod calibration;
pub mod decisions;
mod error;
pub mod outcomes;
pub mod policy;
pub mod rules;
pub mod settings;

use std::sync::Arc;

pub use access::Access;
pub use audit::{AuditExport, AuditQuery, AuditService};
pub use calibration::Calibration;
pub use decisions::{DecisionDesk, DeskPorts, FixedRegime, PredictAndDecide, RegimeSource};
pub use error::ConsoleError;
pub use rules::{DryRun, MineRequest, MiningThresholds, RulesService};
pub use settings::{SettingsChange, SettingsService, TenantWithSettings};

/// The console's services, as the API holds them.
#[derive(Clone)]
pub struct Console {
    /// Tenant settings.
    pub settings: SettingsService,
    /// Predictions turned into decisions.
    pub decisions: Arc<DecisionDesk>,
    /// Rules.
    pub rules: RulesService,
    /// The decision trail.
    pub audit: AuditService,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}
