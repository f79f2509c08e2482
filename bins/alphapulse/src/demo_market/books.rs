//! The demo tenants' trading books: paper cash, spot holdings, futures positions and regime
//! universes, and the settings of their paper accounts and regime configurations.

use alphapulse_domain::PositionSide;
use rust_decimal::Decimal;

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
