//! Demo market data and trading books: what makes the demo tenants' positions, metrics,
//! regimes and alerts differ.
//!
//! - **Market data** (shared, platform scope): daily candles of [`SYMBOLS`] from
//!   [`START_DATE`] up to today (UTC), drawn by the regime crate's reproducible
//!   [`regime_switching_walk`](alphapulse_regime::synthetic::regime_switching_walk) with a fixed seed per symbol. The walk only ever depends on the
//!   seed, so a later run reproduces every past candle and only appends the days since. A symbol
//!   whose newest stored candle is not the demo series' (real data imported with
//!   `alphapulse market import`) is left alone.
//! - **Per demo tenant** ([`BOOKS`]): a paper exchange account (activated only if the tenant
//!   has no active account), spot holdings and futures hedges (set only if the tenant has no
//!   position at all, so trades made since are never overwritten) and a regime universe (saved
//!   only if the tenant has none). Quantities come from USD notionals at the latest close, so
//!   they stay sensible whatever the prices are.
//!
//! Everything goes through the repository ports, as [`crate::demo::Demo`] does.
//!
//! Modules: `candles` (the symbols and their series), `books` (the tenants' books),
//! `accounts` (paper accounts and positions), `universes` (regime configurations), `summary`
//! (what a run changed). This module holds [`DemoMarket`], which runs them in order.

mod accounts;
mod books;
mod candles;
mod summary;
mod universes;

use std::time::Instant;

use alphapulse_domain::{
    ports::{Actor, ExchangeAccountRepo, MarketDataRepo, PaperBook, RegimeStore},
    TenantId,
};
use alphapulse_persistence::{
    Db, PgExchangeAccountRepo, PgMarketDataRepo, PgPaperBook, PgRegimeStore,
};
use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};

pub use books::{
    demo_fee_rate, BookSpec, FuturesSpec, Holding, Size, ACCOUNT_LABEL, BOOKS, LOOKBACK_DAYS,
    N_STATES,
};
pub use candles::{demo_candles, start_date, SymbolSpec, START_DATE, SYMBOLS};
pub use summary::DemoMarketCounts;

use crate::demo::DemoData;

/// Demo market data and books over the repository ports.
pub struct DemoMarket<'a> {
    market: &'a dyn MarketDataRepo,
    accounts: &'a dyn ExchangeAccountRepo,
    paper: &'a dyn PaperBook,
    regimes: &'a dyn RegimeStore,
}

impl std::fmt::Debug for DemoMarket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoMarket").finish_non_exhaustive()
    }
}

impl<'a> DemoMarket<'a> {
    pub fn new(
        market: &'a dyn MarketDataRepo,
        accounts: &'a dyn ExchangeAccountRepo,
        paper: &'a dyn PaperBook,
        regimes: &'a dyn RegimeStore,
    ) -> Self {
        Self {
            market,
            accounts,
            paper,
            regimes,
        }
    }

    /// Market data, then every demo tenant's book (tenants of `data` without a [`BookSpec`]
    /// are skipped). Idempotent.
    pub fn seed(&self, data: &DemoData, today: NaiveDate) -> Result<DemoMarketCounts> {
        let mut counts = DemoMarketCounts::default();
        let reader = data
            .tenants
            .first()
            .map(|t| Actor::system(t.id))
            .context("no demo tenant to read the market data as")?;
        let (written, skipped) = self.seed_market_data(&reader, today)?;
        counts.candles_written = written;
        counts.symbols_skipped = skipped;
        for tenant in &data.tenants {
            if let Some(spec) = BOOKS.iter().find(|b| b.slug == tenant.slug) {
                self.seed_book(tenant.id, spec, &mut counts)
                    .with_context(|| format!("seeding the demo book of {}", spec.slug))?;
            }
        }
        Ok(counts)
    }

    /// One tenant's paper account, positions and regime universe, each only if missing.
    fn seed_book(
        &self,
        tenant: TenantId,
        spec: &BookSpec,
        counts: &mut DemoMarketCounts,
    ) -> Result<()> {
        let actor = Actor::system(tenant);
        self.seed_account(&actor, spec, counts)?;
        self.seed_positions(&actor, spec, counts)?;
        self.seed_universe(&actor, spec, counts)
    }
}

/// [`DemoMarket::seed`] over the PostgreSQL repositories, up to today (UTC).
///
/// # Errors
/// Database failures; no demo tenant in `data`.
pub fn seed_demo_market(db: &Db, data: &DemoData) -> Result<DemoMarketCounts> {
    let started = Instant::now();
    let (market, accounts, paper, regimes) = (
        PgMarketDataRepo::new(db.clone()),
        PgExchangeAccountRepo::new(db.clone()),
        PgPaperBook::new(db.clone()),
        PgRegimeStore::new(db.clone()),
    );
    let counts = DemoMarket::new(&market, &accounts, &paper, &regimes)
        .seed(data, Utc::now().date_naive())?;
    tracing::info!(
        candles_written = counts.candles_written,
        symbols_skipped = counts.symbols_skipped,
        accounts_created = counts.accounts_created,
        positions_set = counts.positions_set,
        regime_configs_created = counts.regime_configs_created,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo market data and books ready"
    );
    Ok(counts)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
