//! Demo market data: the demo symbols and their daily candles, drawn by the regime crate's
//! reproducible [`regime_switching_walk`] with a fixed seed per symbol, and writing the
//! candles each symbol is missing.

use alphapulse_domain::{ports::Actor, Candle, Symbol};
use alphapulse_regime::synthetic::regime_switching_walk;
use anyhow::{anyhow, Context, Result};
use chrono::{NaiveDate, NaiveTime};

use super::DemoMarket;

/// The first day of the demo series (a bit over three years before the end of 2026, so the
/// regime model's default 1095-day lookback is always covered).
pub const START_DATE: (i32, u32, u32) = (2023, 9, 1);

/// One demo symbol: its price on [`START_DATE`] (roughly the market's) and the seed of its walk.
#[derive(Debug, Clone, Copy)]
pub struct SymbolSpec {
    pub symbol: &'static str,
    pub start_price: f64,
    pub seed: u64,
}

/// The demo symbols.
pub const SYMBOLS: [SymbolSpec; 10] = [
    SymbolSpec {
        symbol: "BTCUSDT",
        start_price: 25_940.0,
        seed: 0xB7C0_0001,
    },
    SymbolSpec {
        symbol: "ETHUSDT",
        start_price: 1_645.0,
        seed: 0xE7E0_0001,
    },
    SymbolSpec {
        symbol: "SOLUSDT",
        start_price: 19.9,
        seed: 0x5010_000B,
    },
    SymbolSpec {
        symbol: "BNBUSDT",
        start_price: 215.6,
        seed: 0xB4B0_0005,
    },
    SymbolSpec {
        symbol: "XRPUSDT",
        start_price: 0.5094,
        seed: 0x0A90_000A,
    },
    SymbolSpec {
        symbol: "ADAUSDT",
        start_price: 0.2562,
        seed: 0xADA0_0008,
    },
    SymbolSpec {
        symbol: "DOGEUSDT",
        start_price: 0.06363,
        seed: 0xD060_0006,
    },
    SymbolSpec {
        symbol: "AVAXUSDT",
        start_price: 9.52,
        seed: 0xA7A0_0006,
    },
    SymbolSpec {
        symbol: "DOTUSDT",
        start_price: 4.31,
        seed: 0xD070_0008,
    },
    SymbolSpec {
        symbol: "LINKUSDT",
        start_price: 6.21,
        seed: 0x1140_0009,
    },
];

/// The first day of the demo series.
pub fn start_date() -> Result<NaiveDate> {
    let (y, m, d) = START_DATE;
    NaiveDate::from_ymd_opt(y, m, d).context("START_DATE is not a date")
}

/// The demo candles of `spec` from [`START_DATE`] to `today` inclusive (empty before it). The
/// candles of a day never depend on `today`.
pub fn demo_candles(spec: &SymbolSpec, today: NaiveDate) -> Result<Vec<Candle>> {
    let symbol = Symbol::parse(spec.symbol).map_err(|e| anyhow!(e))?;
    let start = start_date()?;
    let days = usize::try_from((today - start).num_days() + 1).unwrap_or(0);
    let (candles, _) = regime_switching_walk(
        spec.seed,
        &symbol,
        days,
        spec.start_price,
        start.and_time(NaiveTime::MIN).and_utc(),
    );
    Ok(candles)
}

impl DemoMarket<'_> {
    /// Writes the demo candles each symbol is missing, up to `today`; returns the rows written
    /// and the symbols skipped. `reader` is any tenant (market data is readable by all).
    pub fn seed_market_data(&self, reader: &Actor, today: NaiveDate) -> Result<(usize, usize)> {
        let (mut written, mut skipped) = (0, 0);
        for spec in &SYMBOLS {
            let candles = demo_candles(spec, today)?;
            let symbol = Symbol::parse(spec.symbol).map_err(|e| anyhow!(e))?;
            let stored = self
                .market
                .daily_candles(reader, &symbol, 1)
                .with_context(|| format!("reading the newest {symbol} candle"))?;
            let missing = match stored.first() {
                None => &candles[..],
                Some(last) => {
                    let same = candles
                        .iter()
                        .position(|c| c.open_time == last.open_time)
                        .filter(|&i| candles[i] == *last);
                    match same {
                        Some(i) => &candles[i + 1..],
                        None => {
                            tracing::info!(
                                %symbol,
                                newest = %last.open_time.date_naive(),
                                "the stored candles are not the demo series; leaving them alone"
                            );
                            skipped += 1;
                            continue;
                        }
                    }
                }
            };
            if missing.is_empty() {
                continue;
            }
            written += self
                .market
                .import(missing)
                .with_context(|| format!("writing the demo {symbol} candles"))?;
            tracing::debug!(%symbol, rows = missing.len(), "wrote demo candles");
        }
        Ok((written, skipped))
    }
}
