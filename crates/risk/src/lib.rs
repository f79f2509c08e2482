//! AlphaPulse risk mathematics.
//!
//! Why this crate exists: the portfolio, risk, risk-budget and correlation answers of the API
//! all rest on the same statistics, and those must be right, reproducible and explainable. So
//! they live here as pure functions over `f64` return series (and `rust_decimal::Decimal`
//! wherever money enters: position values, equity, budgets, prices of stops), with no I/O, no
//! clock and no global state. The API crate fetches rows, calls these functions and shapes the
//! answer.
//!
//! Modules, by subject (each documents its formulas and their sources):
//! - [`returns`]: simple and log returns, alignment of several symbols on common dates,
//!   portfolio returns from current weights or from value snapshots.
//! - [`var`]: VaR and CVaR — historical, parametric Gaussian, Monte Carlo (seeded).
//! - [`ratios`]: annualised volatility, Sharpe, Sortino, Calmar, maximum drawdown, return since
//!   inception; 365 periods a year for crypto ([`ratios::CRYPTO_PERIODS_PER_YEAR`]).
//! - [`sizing`]: volatility-target and fractional-Kelly position sizes capped by the tenant's
//!   limits; Wilder ATR stops.
//! - [`budget`]: risk-budget utilisation and warnings, rebalancing proposals, regime budgets.
//! - [`correlation`]: Pearson, Spearman, Kendall τ-b; matrices, rolling windows, high pairs.
//! - [`concentration`]: portfolio volatility, risk contributions, diversification ratio,
//!   effective number of assets, concentration score, covariance.
//! - [`normal`]: the standard normal quantile (Wichura AS 241) and density.
//! - [`stats`]: the shared descriptive statistics and input checks.
//! - [`service`]: the use cases of the portfolio, trades, risk, risk-budget and correlation
//!   routes over the domain's ports (no diesel, no actix), and the snapshot job.
//!
//! Conventions that hold everywhere:
//! - Bad input (too short, non-finite, out of range) is a [`RiskError`] saying what and, for
//!   lengths, how many there are and how many are needed.
//! - A value that is undefined for valid input (a correlation with a constant series, a
//!   Sharpe ratio at zero volatility) is `None`. No result ever holds NaN or ±∞.
//! - VaR, CVaR and drawdown are positive loss fractions.
//!
//! ```
//! use alphapulse_risk::{ratios, returns, var};
//!
//! let prices = [100.0, 102.0, 99.0, 101.0, 104.0, 103.0, 107.0, 105.0];
//! let r = returns::simple_returns(&prices).unwrap();
//! let perf = ratios::performance(&r, ratios::CRYPTO_PERIODS_PER_YEAR).unwrap();
//! let risk = var::report(&r, 0.95, var::MonteCarloConfig::default()).unwrap();
//! assert_eq!(risk.observations, 7);
//! assert!(risk.cvar.historical >= risk.var.historical);
//! assert!(perf.max_drawdown > 0.0);
//! ```
#![deny(missing_docs)]

pub mod budget;
pub mod concentration;
pub mod correlation;
mod error;
pub mod normal;
pub mod ratios;
pub mod returns;
pub mod service;
pub mod sizing;
pub mod stats;
pub mod var;

pub use error::{Result, RiskError};
