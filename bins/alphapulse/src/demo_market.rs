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
mod tests {
    use std::{
        collections::{BTreeMap, HashMap},
        sync::Mutex,
    };

    use alphapulse_domain::{
        ports::{ExchangeAccount, RegimeAlert, RegimeDay},
        OrderAck, OrderRequest, Regime, RepoError, SpotBalance, UserId,
    };
    use chrono::{DateTime, Days};

    use super::*;
    use crate::demo::{DemoPlatform, DemoTenant, DemoUser};

    #[derive(Default)]
    struct Fakes {
        candles: Mutex<BTreeMap<(Symbol, DateTime<Utc>), Candle>>,
        imports: Mutex<usize>,
        accounts: Mutex<HashMap<TenantId, ExchangeAccount>>,
        positions: Mutex<Vec<(TenantId, Market, FuturesPosition)>>,
        configs: Mutex<HashMap<TenantId, RegimeConfig>>,
    }

    impl MarketDataRepo for Fakes {
        fn daily_candles(
            &self,
            _: &Actor,
            symbol: &Symbol,
            limit: u32,
        ) -> Result<Vec<Candle>, RepoError> {
            let all = self.candles.lock().unwrap();
            let mut rows: Vec<Candle> = all
                .values()
                .filter(|c| &c.symbol == symbol)
                .rev()
                .take(limit as usize)
                .cloned()
                .collect();
            rows.reverse();
            Ok(rows)
        }
        fn latest_closes(
            &self,
            a: &Actor,
            symbols: &[Symbol],
        ) -> Result<BTreeMap<Symbol, Decimal>, RepoError> {
            let mut out = BTreeMap::new();
            for s in symbols {
                if let Some(c) = self.daily_candles(a, s, 1)?.pop() {
                    out.insert(s.clone(), c.close);
                }
            }
            Ok(out)
        }
        fn version(&self, _: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError> {
            let all = self.candles.lock().unwrap();
            Ok((all.keys().map(|k| k.1).max(), all.len() as i64))
        }
        fn import(&self, candles: &[Candle]) -> Result<usize, RepoError> {
            *self.imports.lock().unwrap() += 1;
            let mut all = self.candles.lock().unwrap();
            for c in candles {
                all.insert((c.symbol.clone(), c.open_time), c.clone());
            }
            Ok(candles.len())
        }
    }

    impl ExchangeAccountRepo for Fakes {
        fn active(&self, a: &Actor) -> Result<Option<ExchangeAccount>, RepoError> {
            Ok(self.accounts.lock().unwrap().get(&a.tenant_id).cloned())
        }
        fn activate(
            &self,
            a: &Actor,
            new: NewExchangeAccount,
        ) -> Result<ExchangeAccount, RepoError> {
            let account = ExchangeAccount {
                id: uuid::Uuid::new_v4(),
                adapter: new.adapter,
                label: new.label,
                credentials_encrypted: new.credentials_encrypted,
                paper_cash: new.paper_cash,
                fee_rate: new.fee_rate,
                created_at: Utc::now(),
            };
            self.accounts
                .lock()
                .unwrap()
                .insert(a.tenant_id, account.clone());
            Ok(account)
        }
    }

    impl PaperBook for Fakes {
        fn spot_holdings(&self, a: &Actor) -> Result<Vec<SpotBalance>, RepoError> {
            Ok(self
                .positions
                .lock()
                .unwrap()
                .iter()
                .filter(|(t, m, _)| *t == a.tenant_id && *m == Market::Spot)
                .map(|(_, _, p)| SpotBalance {
                    symbol: p.symbol.clone(),
                    asset: p.symbol.as_str().trim_end_matches("USDT").to_owned(),
                    quantity: p.quantity,
                    avg_price: Some(p.entry_price),
                })
                .collect())
        }
        fn spot_holdings_priced(
            &self,
            a: &Actor,
        ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, RepoError> {
            Ok(self
                .spot_holdings(a)?
                .into_iter()
                .map(|b| (b, None))
                .collect())
        }
        fn futures_positions(&self, a: &Actor) -> Result<Vec<FuturesPosition>, RepoError> {
            Ok(self.positions_of(a.tenant_id, Market::Futures))
        }
        fn fill(
            &self,
            _: &Actor,
            _: &OrderRequest,
            _: Decimal,
            _: Decimal,
            _: DateTime<Utc>,
        ) -> Result<OrderAck, RepoError> {
            Err(RepoError::Internal("not used".to_owned()))
        }
        fn set_position(
            &self,
            a: &Actor,
            market: Market,
            p: &FuturesPosition,
        ) -> Result<(), RepoError> {
            let mut all = self.positions.lock().unwrap();
            all.retain(|(t, m, q)| !(*t == a.tenant_id && *m == market && q.symbol == p.symbol));
            all.push((a.tenant_id, market, p.clone()));
            Ok(())
        }
    }

    impl RegimeStore for Fakes {
        fn config(&self, a: &Actor) -> Result<Option<RegimeConfig>, RepoError> {
            Ok(self.configs.lock().unwrap().get(&a.tenant_id).cloned())
        }
        fn save_config(&self, a: &Actor, config: &RegimeConfig) -> Result<(), RepoError> {
            self.configs
                .lock()
                .unwrap()
                .insert(a.tenant_id, config.clone());
            Ok(())
        }
        fn record(
            &self,
            _: &Actor,
            _: &[RegimeDay],
            _: &[(NaiveDate, Option<Regime>, Regime, f64)],
        ) -> Result<usize, RepoError> {
            Ok(0)
        }
        fn history(&self, _: &Actor, _: u32) -> Result<Vec<RegimeDay>, RepoError> {
            Ok(Vec::new())
        }
        fn alerts(&self, _: &Actor, _: u32) -> Result<Vec<RegimeAlert>, RepoError> {
            Ok(Vec::new())
        }
    }

    impl Fakes {
        fn demo(&self) -> DemoMarket<'_> {
            DemoMarket::new(self, self, self, self)
        }

        fn positions_of(&self, tenant: TenantId, market: Market) -> Vec<FuturesPosition> {
            self.positions
                .lock()
                .unwrap()
                .iter()
                .filter(|(t, m, _)| *t == tenant && *m == market)
                .map(|(_, _, p)| p.clone())
                .collect()
        }

        fn position(
            &self,
            tenant: TenantId,
            market: Market,
            symbol: &str,
        ) -> Option<FuturesPosition> {
            self.positions_of(tenant, market)
                .into_iter()
                .find(|p| p.symbol.as_str() == symbol)
        }
    }

    fn data() -> DemoData {
        let user = |role| DemoUser {
            user_id: UserId::new_random(),
            email: String::new(),
            password: String::new(),
            role,
        };
        DemoData {
            platform: DemoPlatform {
                owner: user(alphapulse_domain::Role::Owner),
                staff: user(alphapulse_domain::Role::Staff),
            },
            tenants: BOOKS
                .iter()
                .map(|b| DemoTenant {
                    id: TenantId::new_random(),
                    slug: b.slug.to_owned(),
                    users: Vec::new(),
                })
                .collect(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn id(data: &DemoData, slug: &str) -> TenantId {
        data.tenants.iter().find(|t| t.slug == slug).unwrap().id
    }

    #[test]
    fn series_is_reproducible_and_ends_today() {
        let start = start_date().unwrap();
        for spec in &SYMBOLS {
            let now = demo_candles(spec, today()).unwrap();
            let later = demo_candles(spec, today() + Days::new(30)).unwrap();
            assert_eq!(now[..], later[..now.len()], "{}", spec.symbol);
            assert_eq!(now[0].open_time.date_naive(), start);
            assert_eq!(now.last().unwrap().open_time.date_naive(), today());
            assert!(now.len() as u32 > LOOKBACK_DAYS);
            assert!(now.iter().all(|c| c.low > Decimal::ZERO && c.low <= c.high));
        }
        assert!(demo_candles(&SYMBOLS[0], start - Days::new(1))
            .unwrap()
            .is_empty());
        // Different symbols, different paths.
        let btc = demo_candles(&SYMBOLS[0], today()).unwrap();
        let eth = demo_candles(&SYMBOLS[1], today()).unwrap();
        assert_ne!(btc[100].close / btc[0].close, eth[100].close / eth[0].close);
    }

    #[test]
    fn books_are_consistent() {
        for book in &BOOKS {
            let known = |s: &str| SYMBOLS.iter().any(|x| x.symbol == s);
            assert!(book.spot.iter().all(|h| known(h.symbol)), "{}", book.slug);
            assert!(
                book.futures.iter().all(|f| known(f.symbol)),
                "{}",
                book.slug
            );
            assert!((2..=5).contains(&book.spot.len()), "{}", book.slug);
            let total: f64 = book.universe.iter().map(|(_, w)| w).sum();
            assert!((total - 1.0).abs() < 1e-9, "{}", book.slug);
            assert!(book.universe.iter().all(|(s, _)| known(s)));
        }
        for spec in &crate::demo::TENANTS {
            assert!(BOOKS.iter().any(|b| b.slug == spec.slug), "{}", spec.slug);
        }
    }

    #[test]
    fn seeding_is_idempotent_and_books_differ() {
        let fakes = Fakes::default();
        let data = data();
        let first = fakes.demo().seed(&data, today()).unwrap();
        let days = demo_candles(&SYMBOLS[0], today()).unwrap().len();
        assert_eq!(first.candles_written, SYMBOLS.len() * days);
        assert_eq!(first.accounts_created, 3);
        assert_eq!(first.books_filled, 3);
        assert_eq!(first.regime_configs_created, 3);
        assert_eq!(first.positions_set, 3 + 1 + 4 + 2 + 5);
        assert!(!first.is_noop());

        // A second run writes nothing.
        let imports = *fakes.imports.lock().unwrap();
        let second = fakes.demo().seed(&data, today()).unwrap();
        assert!(second.is_noop(), "{second:?}");
        assert!(second.summary().contains("nothing created"));
        assert_eq!(*fakes.imports.lock().unwrap(), imports);

        // The next day: one candle per symbol.
        let next = fakes.demo().seed(&data, today() + Days::new(1)).unwrap();
        assert_eq!(next.candles_written, SYMBOLS.len());
        assert_eq!((next.accounts_created, next.positions_set), (0, 0));

        let acme = id(&data, "acme-capital");
        let beta = id(&data, "beta-quant");
        let gamma = id(&data, "gamma-macro");
        let accounts = fakes.accounts.lock().unwrap().clone();
        let cash: Vec<Decimal> = [acme, beta, gamma]
            .iter()
            .map(|t| accounts[t].paper_cash)
            .collect();
        assert_eq!(
            cash,
            [
                Decimal::from(250_000),
                Decimal::from(1_000_000),
                Decimal::from(100_000)
            ]
        );
        assert!(accounts.values().all(|a| a.adapter == AdapterKind::Paper
            && a.fee_rate == Decimal::new(1, 3)
            && a.credentials_encrypted.is_none()));

        // acme hedges half its BTC, beta-quant all its ETH plus a long SOL; gamma none.
        let btc = fakes.position(acme, Market::Spot, "BTCUSDT").unwrap();
        let btc_hedge = fakes.position(acme, Market::Futures, "BTCUSDT").unwrap();
        assert_eq!(btc_hedge.side, PositionSide::Short);
        assert_eq!(
            btc_hedge.quantity,
            (btc.quantity / Decimal::TWO).round_dp(4)
        );
        let eth = fakes.position(beta, Market::Spot, "ETHUSDT").unwrap();
        let eth_hedge = fakes.position(beta, Market::Futures, "ETHUSDT").unwrap();
        assert_eq!(
            (eth_hedge.side, eth_hedge.quantity),
            (PositionSide::Short, eth.quantity)
        );
        assert_eq!(
            fakes
                .position(beta, Market::Futures, "SOLUSDT")
                .unwrap()
                .side,
            PositionSide::Long
        );
        assert!(fakes.positions_of(gamma, Market::Futures).is_empty());
        assert_eq!(fakes.positions_of(gamma, Market::Spot).len(), 5);

        // Spot: long, leverage 1, average price near the latest close.
        let reader = Actor::system(acme);
        for (tenant, market, p) in fakes.positions.lock().unwrap().iter() {
            assert!(
                p.quantity > Decimal::ZERO && p.entry_price > Decimal::ZERO,
                "{p:?}"
            );
            if *market == Market::Spot {
                assert_eq!((p.side, p.leverage), (PositionSide::Long, Decimal::ONE));
            }
            let close = fakes
                .latest_closes(&reader, std::slice::from_ref(&p.symbol))
                .unwrap()[&p.symbol];
            let ratio = p.entry_price / close;
            assert!(
                ratio > Decimal::new(6, 1) && ratio < Decimal::new(14, 1),
                "{tenant} {p:?}"
            );
        }

        let configs = fakes.configs.lock().unwrap();
        let universe = |t: TenantId| -> Vec<(String, f64)> {
            configs[&t]
                .universe
                .iter()
                .map(|(s, w)| (s.to_string(), *w))
                .collect()
        };
        assert_eq!(
            universe(acme),
            [("BTCUSDT".to_owned(), 0.6), ("ETHUSDT".to_owned(), 0.4)]
        );
        assert_eq!(universe(beta).len(), 3);
        assert_eq!(universe(gamma).len(), 4);
        assert!(configs
            .values()
            .all(|c| c.lookback_days == 1095 && c.n_states == 5));
    }

    #[test]
    fn user_changes_and_imported_data_are_kept() {
        let fakes = Fakes::default();
        let data = data();
        let acme = id(&data, "acme-capital");
        let actor = Actor::system(acme);
        // acme already trades: one position, its own account and universe.
        let own = position(
            Symbol::parse("DOTUSDT").unwrap(),
            PositionSide::Long,
            Decimal::from(7),
            Decimal::from(5),
            1,
        );
        fakes.set_position(&actor, Market::Spot, &own).unwrap();
        fakes
            .activate(
                &actor,
                NewExchangeAccount {
                    adapter: AdapterKind::Paper,
                    label: "mine".to_owned(),
                    credentials_encrypted: None,
                    paper_cash: Decimal::from(5),
                    fee_rate: Decimal::ZERO,
                },
            )
            .unwrap();
        let config = RegimeConfig {
            universe: vec![(Symbol::parse("DOTUSDT").unwrap(), 1.0)],
            lookback_days: 200,
            n_states: 3,
            updated_at: Utc::now(),
        };
        fakes.save_config(&actor, &config).unwrap();
        // Real BTC data was imported.
        let real = Candle {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            open_time: today().and_time(NaiveTime::MIN).and_utc(),
            open: Decimal::from(90_000),
            high: Decimal::from(91_000),
            low: Decimal::from(89_000),
            close: Decimal::from(90_500),
            volume: Decimal::from(12),
        };
        fakes.import(std::slice::from_ref(&real)).unwrap();

        let counts = fakes.demo().seed(&data, today()).unwrap();
        assert_eq!(counts.symbols_skipped, 1);
        assert_eq!(counts.accounts_created, 2);
        assert_eq!(counts.books_filled, 2);
        assert_eq!(counts.regime_configs_created, 2);
        let btc = fakes.daily_candles(&actor, &real.symbol, 10_000).unwrap();
        assert_eq!(btc, [real]);
        assert_eq!(fakes.positions_of(acme, Market::Spot), [own]);
        assert!(fakes.positions_of(acme, Market::Futures).is_empty());
        assert_eq!(fakes.accounts.lock().unwrap()[&acme].label, "mine");
        assert_eq!(fakes.configs.lock().unwrap()[&acme], config);
        // gamma-macro holds BTC: valued at the imported close.
        let gamma = id(&data, "gamma-macro");
        let gamma_btc = fakes.position(gamma, Market::Spot, "BTCUSDT").unwrap();
        assert_eq!(
            gamma_btc.quantity,
            (Decimal::from(60_000) / Decimal::from(90_500)).round_dp(4)
        );
    }

    #[test]
    fn rounding_follows_the_price() {
        assert_eq!(
            round_quantity(Decimal::new(123_456_789, 8), Decimal::from(50_000)),
            Decimal::new(12_346, 4)
        );
        assert_eq!(
            round_quantity(Decimal::new(123_456_789, 5), Decimal::new(5, 2)),
            Decimal::from(1235)
        );
        assert_eq!(
            round_price(Decimal::new(45_678_910, 5)),
            Decimal::new(45_679, 2)
        );
        assert_eq!(
            round_price(Decimal::new(4_567_891, 5)),
            Decimal::new(456_789, 4)
        );
        assert_eq!(
            round_price(Decimal::new(1_234_567, 7)),
            Decimal::new(123_457, 6)
        );
    }
}
