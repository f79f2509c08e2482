//! Demo market data and trading books: what makes the demo tenants' positions, metrics,
//! regimes and alerts differ.
//!
//! - **Market data** (shared, platform scope): daily candles of [`SYMBOLS`] from
//!   [`START_DATE`] up to today (UTC), drawn by the regime crate's reproducible
//!   [`regime_switching_walk`] with a fixed seed per symbol. The walk only ever depends on the
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

use std::time::Instant;

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, ExchangeAccountRepo, MarketDataRepo, NewExchangeAccount, PaperBook,
        RegimeConfig, RegimeStore,
    },
    Candle, FuturesPosition, Market, PositionSide, Symbol, TenantId,
};
use alphapulse_persistence::{
    Db, PgExchangeAccountRepo, PgMarketDataRepo, PgPaperBook, PgRegimeStore,
};
use alphapulse_regime::synthetic::regime_switching_walk;
use anyhow::{anyhow, Context, Result};
use chrono::{NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

use crate::demo::DemoData;

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

/// A spot holding: `notional_usd` worth at the latest close, bought at `cost_bp` basis points
/// of it (8500 = bought 15 % cheaper than today).
#[derive(Debug, Clone, Copy)]
pub struct Holding {
    pub symbol: &'static str,
    pub notional_usd: u32,
    pub cost_bp: i64,
}

/// How big a futures position is.
#[derive(Debug, Clone, Copy)]
pub enum Size {
    /// This many basis points of the tenant's spot quantity of the same symbol.
    OfSpot(i64),
    /// This many USD at the latest close.
    Notional(u32),
}

/// A futures position: size, direction, leverage, entry at `entry_bp` of the latest close.
#[derive(Debug, Clone, Copy)]
pub struct FuturesSpec {
    pub symbol: &'static str,
    pub side: PositionSide,
    pub size: Size,
    pub leverage: u32,
    pub entry_bp: i64,
}

/// A demo tenant's trading book.
#[derive(Debug, Clone, Copy)]
pub struct BookSpec {
    pub slug: &'static str,
    pub paper_cash_usd: u32,
    pub spot: &'static [Holding],
    pub futures: &'static [FuturesSpec],
    pub universe: &'static [(&'static str, f64)],
}

/// Fee rate of the demo paper accounts (10 bp).
pub fn demo_fee_rate() -> Decimal {
    Decimal::new(1, 3)
}
/// Label of the demo paper accounts.
pub const ACCOUNT_LABEL: &str = "Demo paper account";
/// Lookback of the demo regime configurations, in days.
pub const LOOKBACK_DAYS: u32 = 1095;
/// Hidden states of the demo regime configurations.
pub const N_STATES: usize = 5;

/// The demo tenants' books: acme hedges half its BTC, beta-quant all its ETH and is long SOL
/// futures, gamma-macro holds a spread of spot coins unhedged.
pub const BOOKS: [BookSpec; 3] = [
    BookSpec {
        slug: "acme-capital",
        paper_cash_usd: 250_000,
        spot: &[
            Holding {
                symbol: "BTCUSDT",
                notional_usd: 300_000,
                cost_bp: 8_200,
            },
            Holding {
                symbol: "ETHUSDT",
                notional_usd: 150_000,
                cost_bp: 10_600,
            },
            Holding {
                symbol: "SOLUSDT",
                notional_usd: 40_000,
                cost_bp: 7_400,
            },
        ],
        futures: &[FuturesSpec {
            symbol: "BTCUSDT",
            side: PositionSide::Short,
            size: Size::OfSpot(5_000),
            leverage: 2,
            entry_bp: 9_800,
        }],
        universe: &[("BTCUSDT", 0.6), ("ETHUSDT", 0.4)],
    },
    BookSpec {
        slug: "beta-quant",
        paper_cash_usd: 1_000_000,
        spot: &[
            Holding {
                symbol: "ETHUSDT",
                notional_usd: 400_000,
                cost_bp: 9_100,
            },
            Holding {
                symbol: "SOLUSDT",
                notional_usd: 150_000,
                cost_bp: 11_300,
            },
            Holding {
                symbol: "BNBUSDT",
                notional_usd: 100_000,
                cost_bp: 8_800,
            },
            Holding {
                symbol: "LINKUSDT",
                notional_usd: 50_000,
                cost_bp: 12_500,
            },
        ],
        futures: &[
            FuturesSpec {
                symbol: "ETHUSDT",
                side: PositionSide::Short,
                size: Size::OfSpot(10_000),
                leverage: 3,
                entry_bp: 10_150,
            },
            FuturesSpec {
                symbol: "SOLUSDT",
                side: PositionSide::Long,
                size: Size::Notional(75_000),
                leverage: 2,
                entry_bp: 9_600,
            },
        ],
        universe: &[("ETHUSDT", 0.5), ("SOLUSDT", 0.3), ("BNBUSDT", 0.2)],
    },
    BookSpec {
        slug: "gamma-macro",
        paper_cash_usd: 100_000,
        spot: &[
            Holding {
                symbol: "BTCUSDT",
                notional_usd: 60_000,
                cost_bp: 9_500,
            },
            Holding {
                symbol: "ETHUSDT",
                notional_usd: 40_000,
                cost_bp: 10_900,
            },
            Holding {
                symbol: "XRPUSDT",
                notional_usd: 25_000,
                cost_bp: 6_700,
            },
            Holding {
                symbol: "ADAUSDT",
                notional_usd: 15_000,
                cost_bp: 13_200,
            },
            Holding {
                symbol: "DOGEUSDT",
                notional_usd: 10_000,
                cost_bp: 8_900,
            },
        ],
        futures: &[],
        universe: &[
            ("BTCUSDT", 0.3),
            ("ETHUSDT", 0.3),
            ("XRPUSDT", 0.2),
            ("ADAUSDT", 0.2),
        ],
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

    fn seed_book(
        &self,
        tenant: TenantId,
        spec: &BookSpec,
        counts: &mut DemoMarketCounts,
    ) -> Result<()> {
        let actor = Actor::system(tenant);
        if self
            .accounts
            .active(&actor)
            .context("reading the exchange account")?
            .is_none()
        {
            let account = self
                .accounts
                .activate(
                    &actor,
                    NewExchangeAccount {
                        adapter: AdapterKind::Paper,
                        label: ACCOUNT_LABEL.to_owned(),
                        credentials_encrypted: None,
                        paper_cash: Decimal::from(spec.paper_cash_usd),
                        fee_rate: demo_fee_rate(),
                    },
                )
                .context("activating the paper account")?;
            counts.accounts_created += 1;
            tracing::info!(tenant = spec.slug, account_id = %account.id, "activated demo paper account");
        }

        let spot_held = self
            .paper
            .spot_holdings(&actor)
            .context("reading spot holdings")?;
        let futures_held = self
            .paper
            .futures_positions(&actor)
            .context("reading futures positions")?;
        if spot_held.is_empty() && futures_held.is_empty() {
            let positions = self.book_positions(&actor, spec)?;
            for (market, position) in &positions {
                self.paper
                    .set_position(&actor, *market, position)
                    .with_context(|| {
                        format!("setting the {market} {} position", position.symbol)
                    })?;
            }
            counts.positions_set += positions.len();
            counts.books_filled += 1;
            tracing::info!(
                tenant = spec.slug,
                positions = positions.len(),
                "set demo positions"
            );
        }

        if self
            .regimes
            .config(&actor)
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
                    &actor,
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

    /// The spot holdings and futures positions of `spec` at the latest closes.
    fn book_positions(
        &self,
        actor: &Actor,
        spec: &BookSpec,
    ) -> Result<Vec<(Market, FuturesPosition)>> {
        let symbols = spec
            .spot
            .iter()
            .map(|h| h.symbol)
            .chain(spec.futures.iter().map(|f| f.symbol))
            .map(|s| Symbol::parse(s).map_err(|e| anyhow!(e)))
            .collect::<Result<Vec<_>>>()?;
        let closes = self
            .market
            .latest_closes(actor, &symbols)
            .context("reading the latest closes")?;
        let close = |symbol: &Symbol| {
            closes
                .get(symbol)
                .copied()
                .filter(|p| *p > Decimal::ZERO)
                .with_context(|| format!("no market data for {symbol}"))
        };
        let mut out = Vec::with_capacity(spec.spot.len() + spec.futures.len());
        for holding in spec.spot {
            let symbol = Symbol::parse(holding.symbol).map_err(|e| anyhow!(e))?;
            let price = close(&symbol)?;
            let quantity = round_quantity(Decimal::from(holding.notional_usd) / price, price);
            let avg_price = round_price(price * bp(holding.cost_bp));
            out.push((
                Market::Spot,
                position(symbol, PositionSide::Long, quantity, avg_price, 1),
            ));
        }
        for f in spec.futures {
            let symbol = Symbol::parse(f.symbol).map_err(|e| anyhow!(e))?;
            let price = close(&symbol)?;
            let raw = match f.size {
                Size::OfSpot(share) => {
                    let spot = out
                        .iter()
                        .find(|(m, p)| *m == Market::Spot && p.symbol == symbol)
                        .map(|(_, p)| p.quantity)
                        .with_context(|| format!("{} hedges {symbol} but holds none", spec.slug))?;
                    spot * bp(share)
                }
                Size::Notional(usd) => Decimal::from(usd) / price,
            };
            let quantity = round_quantity(raw, price);
            let entry = round_price(price * bp(f.entry_bp));
            out.push((
                Market::Futures,
                position(symbol, f.side, quantity, entry, f.leverage),
            ));
        }
        out.retain(|(_, p)| p.quantity > Decimal::ZERO && p.entry_price > Decimal::ZERO);
        Ok(out)
    }
}

fn position(
    symbol: Symbol,
    side: PositionSide,
    quantity: Decimal,
    entry_price: Decimal,
    leverage: u32,
) -> FuturesPosition {
    FuturesPosition {
        symbol,
        side,
        quantity,
        entry_price,
        mark_price: None,
        leverage: Decimal::from(leverage),
        liquidation_price: None,
    }
}

fn bp(basis_points: i64) -> Decimal {
    Decimal::new(basis_points, 4)
}

/// Fewer decimals for cheap coins: 4 above 1000 USD, 2 above 1 USD, whole units below.
fn round_quantity(quantity: Decimal, price: Decimal) -> Decimal {
    let dp = if price >= Decimal::from(1000) {
        4
    } else if price >= Decimal::ONE {
        2
    } else {
        0
    };
    quantity.round_dp(dp).normalize()
}

/// Cents above 100 USD, 4 decimals above 1 USD, 6 below.
fn round_price(price: Decimal) -> Decimal {
    let dp = if price >= Decimal::from(100) {
        2
    } else if price >= Decimal::ONE {
        4
    } else {
        6
    };
    price.round_dp(dp).normalize()
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
