//! A demo tenant's regime universe, saved as its regime configuration only if it has none.

use alphapulse_domain::{
    ports::{Actor, RegimeConfig},
    Symbol,
};
use anyhow::{anyhow, Context, Result};
use chrono::Utc;

use super::{BookSpec, DemoMarket, DemoMarketCounts, LOOKBACK_DAYS, N_STATES};

impl DemoMarket<'_> {
    /// Saves the book's universe (with [`LOOKBACK_DAYS`] and [`N_STATES`]) unless the tenant
    /// has a regime configuration.
    pub(super) fn seed_universe(
        &self,
        actor: &Actor,
        spec: &BookSpec,
        counts: &mut DemoMarketCounts,
    ) -> Result<()> {
        if self
            .regimes
            .config(actor)
            .context("reading the regime configuration")?
            .is_none()
        {
            let universe = spec
                .universe
                .iter()
                .map(|(s, w)| Ok((Symbol::parse(s).map_err(|e| anyhow!(e))?, *w)))
                .collect::<Result<Vec<_>>>()?;
            self.regimes
                .save_config(
                    actor,
                    &RegimeConfig {
                        universe,
                        lookback_days: LOOKBACK_DAYS,
                        n_states: N_STATES,
                        updated_at: Utc::now(),
                    },
                )
                .context("saving the regime configuration")?;
            counts.regime_configs_created += 1;
            tracing::info!(tenant = spec.slug, "saved demo regime configuration");
        }
        Ok(())
    }
}
