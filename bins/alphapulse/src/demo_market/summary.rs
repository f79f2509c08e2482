//! [`DemoMarketCounts`]: what a run of the market seeding changed, and its one-line summary.

/// What a run of the market seeding changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoMarketCounts {
    /// Candle rows written (inserted or refreshed).
    pub candles_written: usize,
    /// Demo symbols left alone because they hold other (imported) data.
    pub symbols_skipped: usize,
    /// Paper accounts activated.
    pub accounts_created: usize,
    /// Tenants whose positions were set.
    pub books_filled: usize,
    /// Spot and futures positions set.
    pub positions_set: usize,
    /// Regime configurations saved.
    pub regime_configs_created: usize,
}

impl DemoMarketCounts {
    /// Whether the run wrote nothing.
    pub fn is_noop(&self) -> bool {
        Self {
            symbols_skipped: 0,
            ..*self
        } == Self::default()
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        if self.is_noop() {
            return "Demo market data and books already present; nothing created.".to_owned();
        }
        format!(
            "Demo market data: {} candle(s) written; {} paper account(s), {} position(s) in {} book(s) and {} regime configuration(s) created.",
            self.candles_written,
            self.accounts_created,
            self.positions_set,
            self.books_filled,
            self.regime_configs_created
        )
    }
}
