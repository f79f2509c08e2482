//! AlphaPulse liquidity analytics from daily candles.
//!
//! Pure functions (no I/O, no clock, no global state) over daily OHLCV [`Bar`]s, behind the
//! `/api/v1/liquidity` routes:
//!
//! | module | what | source |
//! |---|---|---|
//! | [`spread`] | bid-ask spread from highs and lows | Corwin & Schultz (2012) (default); Abdi & Ranaldo (2017) |
//! | [`volume`] | ADV (base and notional); Amihud illiquidity | Amihud (2002) |
//! | [`kyle`] | Kyle's lambda: OLS of returns on signed notional volume | Kyle (1985) |
//! | [`volatility`] | daily return volatility | |
//! | [`impact`] | square-root impact, temporary/permanent split, band | Almgren et al. (2005); Tóth et al. (2011); Farmer et al. (2013) |
//! | [`execution`] | TWAP / VWAP / Iceberg / Implementation Shortfall, slices, horizon | Almgren & Chriss (2001) |
//! | [`liquidation`] | days to liquidate, liquidity score, expected slippage, advice | |
//! | [`book`] | the same for a book of holdings | |
//! | [`stress`] | `market_crash`, `flash_crash`, `liquidity_crisis` liquidation costs | |
//! | [`metrics`] | every metric over a window, and its daily history | |
//! | [`synthetic`] | reproducible bars with a planted spread | |
//!
//! Each module documents its formulas, units and defaults; `docs/liquidity.md` collects them.
//! Results derive `Serialize` and never hold an infinity or NaN: what cannot be computed
//! (nothing traded) is `None`. One error type, [`LiquidityError`].
//!
//! ```
//! use alphapulse_liquidity::{
//!     assess_position, compute_metrics, plan_execution, stress_test, synthetic, ExecutionParams,
//!     Holding, LiquidityParams, MetricsConfig, ScenarioKind, Urgency,
//! };
//! use chrono::NaiveDate;
//!
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
//! let bars = synthetic::with_spread(1, start, 90, 30_000.0, 0.03, 0.001, 2_000.0);
//! let metrics = compute_metrics(&bars, &MetricsConfig::default()).unwrap();
//! let market = metrics.conditions();
//!
//! let assessment = assess_position(150.0, metrics.last_close, &market, &LiquidityParams::default()).unwrap();
//! assert!((0.0..=1.0).contains(&assessment.liquidity_score));
//!
//! let plan = plan_execution(150.0, &market, Urgency::Normal, 0.01, &ExecutionParams::default()).unwrap();
//! assert!(plan.slices >= 1);
//!
//! let book = [Holding { symbol: "BTCUSDT".into(), quantity: 150.0, price: metrics.last_close, conditions: market }];
//! let crash = stress_test(&book, &ScenarioKind::MarketCrash.scenario(), &LiquidityParams::default()).unwrap();
//! assert!(crash.total_loss > crash.market_loss);
//! ```
#![deny(missing_docs)]

pub mod bar;
pub mod book;
pub mod error;
pub mod execution;
pub mod impact;
pub mod kyle;
pub mod liquidation;
pub mod metrics;
pub mod spread;
pub mod stress;
pub mod synthetic;
pub mod volatility;
pub mod volume;

pub use bar::Bar;
pub use book::{assess_book, BookLiquidity, Holding, HoldingLiquidity};
pub use error::{LiquidityError, Result};
pub use execution::{
    plan_execution, ExecutionParams, ExecutionPlan, ExecutionStrategy, Urgency, UrgencyProfile,
};
pub use impact::{
    square_root_impact, BpsInterval, ImpactEstimate, ImpactParams, MarketConditions, Side,
};
pub use kyle::{kyle_lambda, ols, KyleLambda, Regression, SignRule};
pub use liquidation::{
    assess_position, days_to_liquidate, liquidity_score, Assessment, LiquidityParams, ScoreParams,
};
pub use metrics::{compute_metrics, history, max_history_days, LiquidityMetrics, MetricsConfig};
pub use spread::{
    abdi_ranaldo, corwin_schultz, corwin_schultz_two_day, estimate_spread, SpreadEstimate,
    SpreadEstimator,
};
pub use stress::{stress_test, ScenarioKind, StressResult, StressScenario, StressedHolding};
pub use volatility::{daily_volatility, Volatility};
pub use volume::{amihud, average_daily_volume, Adv, Amihud};
