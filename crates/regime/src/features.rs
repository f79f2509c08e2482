//! Daily features the regime model observes.
//!
//! Why these four: a market regime is a *persistent* combination of direction and turbulence.
//! Daily returns alone are too noisy to show direction (a 0.2 %/day drift hides under 2 %/day
//! noise), so the model also sees a smoothed trend; turbulence is the rolling volatility; and the
//! drawdown from the running peak tells a rebound inside a hole (recovery) from a rally at highs
//! (bull). All are computed from closes only, so any candle source works.
//!
//! | index | name | definition |
//! |---|---|---|
//! | [`LOG_RETURN`] | `log_return` | `ln(P_t / P_{t-1})`, the day's log return |
//! | [`VOLATILITY`] | `volatility` | sample std-dev of the last `vol_window` log returns × `sqrt(periods_per_year)` (annualised) |
//! | [`TREND`] | `trend` | `ln(SMA_short / SMA_long)` of the price: > 0 in up-trends, < 0 in down-trends |
//! | [`DRAWDOWN`] | `drawdown` | `P_t / max_{s<=t} P_s - 1`, in `[-1, 0]`, peak taken from the first price given |
//!
//! The first `FeatureConfig::warmup()` prices only feed the rolling windows; rows start after
//! them. A universe of several instruments is first turned into one portfolio index (see
//! [`portfolio_index`]).

use std::collections::{BTreeMap, HashMap};

use alphapulse_domain::Candle;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// Number of features per day.
pub const N_FEATURES: usize = 4;
/// Column of the daily log return.
pub const LOG_RETURN: usize = 0;
/// Column of the annualised rolling volatility.
pub const VOLATILITY: usize = 1;
/// Column of the moving-average trend.
pub const TREND: usize = 2;
/// Column of the drawdown from the running peak.
pub const DRAWDOWN: usize = 3;
/// Feature names, by column.
pub const FEATURE_NAMES: [&str; N_FEATURES] = ["log_return", "volatility", "trend", "drawdown"];

/// Window lengths of the rolling features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Days in the volatility window (default 20, about a trading month).
    pub vol_window: usize,
    /// Days in the short moving average of the trend (default 10).
    pub trend_short: usize,
    /// Days in the long moving average of the trend (default 50).
    pub trend_long: usize,
    /// Periods per year used to annualise volatility (default 365: crypto trades every day).
    pub periods_per_year: f64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            vol_window: 20,
            trend_short: 10,
            trend_long: 50,
            periods_per_year: 365.0,
        }
    }
}

impl FeatureConfig {
    /// Leading prices consumed by the windows before the first feature row.
    pub fn warmup(&self) -> usize {
        self.vol_window
            .max(self.trend_long.saturating_sub(1))
            .max(1)
    }

    fn validate(&self) -> Result<(), FeatureError> {
        if self.vol_window < 2 {
            return Err(FeatureError::InvalidConfig(
                "vol_window must be at least 2".into(),
            ));
        }
        if self.trend_short == 0 || self.trend_short >= self.trend_long {
            return Err(FeatureError::InvalidConfig(
                "need 0 < trend_short < trend_long".into(),
            ));
        }
        if !(self.periods_per_year.is_finite() && self.periods_per_year > 0.0) {
            return Err(FeatureError::InvalidConfig(
                "periods_per_year must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Why features could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// The universe has no instruments.
    #[error("the universe is empty")]
    EmptyUniverse,
    /// A weight is negative or not finite, or all weights are zero.
    #[error("invalid weight {weight} for universe member {member}")]
    InvalidWeight {
        /// Position in the universe.
        member: usize,
        /// The weight given.
        weight: f64,
    },
    /// Candles of a member are not strictly increasing in time (one per day).
    #[error("candles of universe member {member} are not strictly increasing by date at {date}")]
    NotSorted {
        /// Position in the universe.
        member: usize,
        /// First offending bar.
        date: DateTime<Utc>,
    },
    /// A close is zero, negative or not representable as `f64`.
    #[error("invalid close for universe member {member} at {date}")]
    InvalidPrice {
        /// Position in the universe.
        member: usize,
        /// The bar.
        date: DateTime<Utc>,
    },
    /// Fewer (common) days than the windows need.
    #[error("need at least {needed} daily prices, got {got}")]
    TooShort {
        /// Minimum number of prices.
        needed: usize,
        /// Prices available.
        got: usize,
    },
    /// Window lengths make no sense.
    #[error("invalid feature config: {0}")]
    InvalidConfig(String),
}

/// One row of features per day, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMatrix {
    /// Day of each row (the bar's `open_time`).
    pub dates: Vec<DateTime<Utc>>,
    /// Features per day, columns as in [`FEATURE_NAMES`].
    pub rows: Vec<[f64; N_FEATURES]>,
}

impl FeatureMatrix {
    /// Features of one instrument's daily candles (sorted by time).
    ///
    /// # Errors
    /// See [`FeatureError`].
    pub fn from_candles(candles: &[Candle], config: &FeatureConfig) -> Result<Self, FeatureError> {
        let (dates, prices) = closes(0, candles)?;
        Self::from_prices(&dates, &prices, config)
    }

    /// Features of a weighted universe, through [`portfolio_index`].
    ///
    /// # Errors
    /// See [`FeatureError`].
    pub fn from_universe(
        universe: &[(f64, Vec<Candle>)],
        config: &FeatureConfig,
    ) -> Result<Self, FeatureError> {
        let (dates, levels) = portfolio_index(universe)?;
        Self::from_prices(&dates, &levels, config)
    }

    /// Features of a price series (`dates[i]` is the day of `prices[i]`).
    ///
    /// # Errors
    /// [`FeatureError::TooShort`] when fewer than `warmup() + 1` prices,
    /// [`FeatureError::InvalidPrice`] for a non-positive price.
    pub fn from_prices(
        dates: &[DateTime<Utc>],
        prices: &[f64],
        config: &FeatureConfig,
    ) -> Result<Self, FeatureError> {
        config.validate()?;
        let n = prices.len().min(dates.len());
        let warmup = config.warmup();
        if n <= warmup {
            return Err(FeatureError::TooShort {
                needed: warmup + 1,
                got: n,
            });
        }
        if let Some(i) = prices[..n]
            .iter()
            .position(|p| !(p.is_finite() && *p > 0.0))
        {
            return Err(FeatureError::InvalidPrice {
                member: 0,
                date: dates[i],
            });
        }
        let prices = &prices[..n];
        let mut returns = vec![0.0; n];
        for t in 1..n {
            returns[t] = (prices[t] / prices[t - 1]).ln();
        }
        let mut prefix = vec![0.0; n + 1];
        for t in 0..n {
            prefix[t + 1] = prefix[t] + prices[t];
        }
        let sma = |t: usize, w: usize| (prefix[t + 1] - prefix[t + 1 - w]) / w as f64;
        let annualise = config.periods_per_year.sqrt();
        let mut peak = prices[0];
        let mut out_dates = Vec::with_capacity(n - warmup);
        let mut rows = Vec::with_capacity(n - warmup);
        for t in 0..n {
            peak = peak.max(prices[t]);
            if t < warmup {
                continue;
            }
            let window = &returns[t + 1 - config.vol_window..=t];
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            let var =
                window.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (window.len() - 1) as f64;
            let trend = (sma(t, config.trend_short) / sma(t, config.trend_long)).ln();
            rows.push([
                returns[t],
                var.sqrt() * annualise,
                trend,
                prices[t] / peak - 1.0,
            ]);
            out_dates.push(dates[t]);
        }
        Ok(Self {
            dates: out_dates,
            rows,
        })
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no days.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// One feature over all days.
    pub fn column(&self, feature: usize) -> Vec<f64> {
        self.rows.iter().map(|r| r[feature]).collect()
    }

    /// Keeps only the last `n` days.
    pub fn keep_last(&mut self, n: usize) {
        let drop = self.rows.len().saturating_sub(n);
        self.rows.drain(..drop);
        self.dates.drain(..drop);
    }

    /// The features of day `i` by name (`None` when out of range).
    pub fn named(&self, i: usize) -> Option<BTreeMap<String, f64>> {
        let row = self.rows.get(i)?;
        Some(
            FEATURE_NAMES
                .iter()
                .zip(row)
                .map(|(name, v)| ((*name).to_owned(), *v))
                .collect(),
        )
    }
}

/// Collapses a weighted universe into one daily index level series starting at 1.
///
/// Days are those on which *every* member has a candle (matched by calendar day of `open_time`,
/// in UTC; the first member's `open_time` is reported). Weights are normalised to sum 1 and held
/// constant (rebalanced daily): `I_t = I_{t-1} × Σ w_i P_{i,t} / P_{i,t-1}`. A single member
/// gives its own price path, rescaled.
///
/// # Errors
/// An empty universe, a negative/non-finite weight or all-zero weights, unsorted candles,
/// invalid closes, or no common day.
pub fn portfolio_index(
    universe: &[(f64, Vec<Candle>)],
) -> Result<(Vec<DateTime<Utc>>, Vec<f64>), FeatureError> {
    if universe.is_empty() {
        return Err(FeatureError::EmptyUniverse);
    }
    for (member, (weight, _)) in universe.iter().enumerate() {
        if !(weight.is_finite() && *weight >= 0.0) {
            return Err(FeatureError::InvalidWeight {
                member,
                weight: *weight,
            });
        }
    }
    let total: f64 = universe.iter().map(|(w, _)| w).sum();
    if total <= 0.0 {
        return Err(FeatureError::InvalidWeight {
            member: 0,
            weight: total,
        });
    }
    let mut series = Vec::with_capacity(universe.len());
    for (member, (_, candles)) in universe.iter().enumerate() {
        series.push(closes(member, candles)?);
    }
    let lookups: Vec<HashMap<NaiveDate, f64>> = series
        .iter()
        .map(|(dates, prices)| {
            dates
                .iter()
                .map(|d| d.date_naive())
                .zip(prices.iter().copied())
                .collect()
        })
        .collect();
    let (first_dates, _) = &series[0];
    let mut dates = Vec::new();
    let mut level = 1.0;
    let mut levels = Vec::new();
    let mut previous: Option<Vec<f64>> = None;
    for date in first_dates {
        let day = date.date_naive();
        let Some(today) = lookups
            .iter()
            .map(|l| l.get(&day).copied())
            .collect::<Option<Vec<f64>>>()
        else {
            continue;
        };
        if let Some(prev) = &previous {
            let growth: f64 = universe
                .iter()
                .zip(today.iter().zip(prev))
                .map(|((w, _), (p, q))| w / total * p / q)
                .sum();
            level *= growth;
        }
        dates.push(*date);
        levels.push(level);
        previous = Some(today);
    }
    if dates.is_empty() {
        return Err(FeatureError::TooShort { needed: 1, got: 0 });
    }
    Ok((dates, levels))
}

/// Dates and closes of one member, checked.
fn closes(
    member: usize,
    candles: &[Candle],
) -> Result<(Vec<DateTime<Utc>>, Vec<f64>), FeatureError> {
    let mut dates = Vec::with_capacity(candles.len());
    let mut prices = Vec::with_capacity(candles.len());
    for (i, c) in candles.iter().enumerate() {
        if i > 0 && c.open_time.date_naive() <= candles[i - 1].open_time.date_naive() {
            return Err(FeatureError::NotSorted {
                member,
                date: c.open_time,
            });
        }
        match c.close.to_f64() {
            Some(p) if p.is_finite() && p > 0.0 => prices.push(p),
            _ => {
                return Err(FeatureError::InvalidPrice {
                    member,
                    date: c.open_time,
                })
            }
        }
        dates.push(c.open_time);
    }
    Ok((dates, prices))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn days(n: usize) -> Vec<DateTime<Utc>> {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        (0..n).map(|i| start + Duration::days(i as i64)).collect()
    }

    #[test]
    fn features_of_a_known_series() {
        let cfg = FeatureConfig {
            vol_window: 2,
            trend_short: 1,
            trend_long: 3,
            periods_per_year: 4.0,
        };
        // Up 10 %, down 10 %, up 10 %, ...: returns alternate.
        let prices = [100.0, 110.0, 99.0, 108.9, 98.01];
        let m = FeatureMatrix::from_prices(&days(5), &prices, &cfg).unwrap();
        assert_eq!(cfg.warmup(), 2);
        assert_eq!(m.len(), 3);
        let r = &m.rows[0]; // day 2: 110 -> 99
        assert!((r[LOG_RETURN] - (99.0f64 / 110.0).ln()).abs() < 1e-12);
        let (a, b) = ((110.0f64 / 100.0).ln(), (99.0f64 / 110.0).ln());
        let sd = ((a - b).powi(2) / 2.0).sqrt(); // sample sd of two values
        assert!((r[VOLATILITY] - sd * 2.0).abs() < 1e-12);
        assert!((r[TREND] - (99.0f64 / ((100.0 + 110.0 + 99.0) / 3.0)).ln()).abs() < 1e-12);
        assert!((r[DRAWDOWN] - (99.0 / 110.0 - 1.0)).abs() < 1e-12);
        assert_eq!(m.named(0).unwrap().len(), N_FEATURES);
    }

    #[test]
    fn too_short_input_is_a_typed_error() {
        let cfg = FeatureConfig::default();
        let err = FeatureMatrix::from_prices(&days(30), &[1.0; 30], &cfg).unwrap_err();
        assert_eq!(
            err,
            FeatureError::TooShort {
                needed: 50,
                got: 30
            }
        );
        assert_eq!(
            portfolio_index(&[]).unwrap_err(),
            FeatureError::EmptyUniverse
        );
    }
}
