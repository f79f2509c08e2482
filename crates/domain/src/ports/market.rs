use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::Actor;
use crate::{Candle, RepoError, Symbol};

/// Stored daily market data (shared by every tenant; written only by platform imports).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait MarketDataRepo: Send + Sync {
    /// The last `limit` daily candles of `symbol`, oldest first (read in the actor's scope).
    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, RepoError>;

    /// The last `limit` daily candles of each of `symbols`, oldest first; symbols without data
    /// are absent. The default asks [`MarketDataRepo::daily_candles`] per symbol; stores that
    /// can answer in one query override it.
    fn daily_candles_many(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
        limit: u32,
    ) -> Result<BTreeMap<Symbol, Vec<Candle>>, RepoError> {
        let mut out = BTreeMap::new();
        for symbol in symbols {
            let candles = self.daily_candles(actor, symbol, limit)?;
            if !candles.is_empty() {
                out.insert(symbol.clone(), candles);
            }
        }
        Ok(out)
    }

    /// The latest close of each of `symbols` that has data.
    fn latest_closes(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, RepoError>;

    /// The daily closes of every one of `symbols` since `since` (inclusive), oldest first per
    /// symbol, in ONE query (symbols without data are absent).
    fn daily_closes(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
        since: NaiveDate,
    ) -> Result<BTreeMap<Symbol, Vec<(NaiveDate, Decimal)>>, RepoError>;

    /// A version stamp of the data (newest candle time and row count): changes whenever
    /// candles are added, so cached models know to refit.
    fn version(&self, actor: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError>;

    /// Platform: inserts or replaces candles; returns how many rows were written.
    fn import(&self, candles: &[Candle]) -> Result<usize, RepoError>;
}
