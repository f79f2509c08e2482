//! All candle-derived metrics of a symbol over a window, and their daily history.
//!
//! [`compute_metrics`] takes the last [`MetricsConfig::window`] bars (default 30 days) and
//! computes on that window: the spread ([`crate::spread`], Corwin-Schultz by default), ADV and
//! Amihud ([`crate::volume`]), Kyle's lambda ([`crate::kyle`]) and daily volatility
//! ([`crate::volatility`]). The window needs at least [`MIN_WINDOW`] bars (what Kyle's lambda
//! needs); fewer bars than the window is an error saying how many there are and how many are
//! needed, rather than a silently shorter window.
//!
//! [`history`] recomputes the metrics for each of the last `days` days, each on the window
//! ending that day (`window + days - 1` bars needed), for the `history/{symbol}?days=30` route.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bar::{tail, validate_series, Bar};
use crate::error::{LiquidityError, Result};
use crate::impact::MarketConditions;
use crate::kyle::{kyle_lambda, KyleLambda, SignRule};
use crate::spread::{estimate_spread, SpreadEstimate, SpreadEstimator};
use crate::volatility::daily_volatility;
use crate::volume::{amihud, average_daily_volume, Adv, Amihud};

/// Smallest window [`compute_metrics`] accepts (4 bars: 3 returns for Kyle's lambda).
pub const MIN_WINDOW: usize = 4;

/// How the metrics are computed. `Default` gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// Bars per window (default 30, at least [`MIN_WINDOW`]).
    pub window: usize,
    /// Spread estimator (default Corwin-Schultz).
    pub spread_estimator: SpreadEstimator,
    /// Corwin-Schultz overnight adjustment (default on).
    pub overnight_adjustment: bool,
    /// Sign rule of Kyle's lambda (default close-to-close tick rule).
    pub sign_rule: SignRule,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            window: 30,
            spread_estimator: SpreadEstimator::CorwinSchultz,
            overnight_adjustment: true,
            sign_rule: SignRule::CloseToClose,
        }
    }
}

/// The liquidity metrics of one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiquidityMetrics {
    /// Date of the window's last bar.
    pub date: NaiveDate,
    /// Bars in the window.
    pub observations: usize,
    /// Close of the last bar.
    pub last_close: f64,
    /// Spread estimate.
    pub spread_estimate: SpreadEstimate,
    /// Average daily volume.
    pub adv: Adv,
    /// Amihud illiquidity.
    pub amihud: Amihud,
    /// Kyle's lambda; `None` when the signed volume has no variance (e.g. nothing traded).
    pub kyle_lambda: Option<KyleLambda>,
    /// Daily return volatility, a fraction.
    pub volatility_daily: f64,
}

impl LiquidityMetrics {
    /// The market conditions for impact, assessment and stress computations.
    #[must_use]
    pub fn conditions(&self) -> MarketConditions {
        MarketConditions {
            adv: self.adv.base,
            sigma_daily: self.volatility_daily,
            spread: self.spread_estimate.spread,
            sigma_observations: self.observations.saturating_sub(1),
        }
    }
}

fn check_window(config: &MetricsConfig) -> Result<()> {
    if config.window < MIN_WINDOW {
        return Err(LiquidityError::InvalidInput {
            field: "window",
            value: config.window as f64,
            reason: "must be at least 4 bars",
        });
    }
    Ok(())
}

/// Metrics of the last `config.window` bars (bars validated once, then each estimator runs on
/// the window).
fn window_metrics(window: &[Bar], config: &MetricsConfig) -> Result<LiquidityMetrics> {
    let spread_estimate =
        estimate_spread(window, config.spread_estimator, config.overnight_adjustment)?;
    let kyle = match kyle_lambda(window, config.sign_rule) {
        Ok(k) => Some(k),
        Err(LiquidityError::Degenerate(_)) => None,
        Err(e) => return Err(e),
    };
    let last = window[window.len() - 1];
    Ok(LiquidityMetrics {
        date: last.date,
        observations: window.len(),
        last_close: last.close,
        spread_estimate,
        adv: average_daily_volume(window)?,
        amihud: amihud(window)?,
        kyle_lambda: kyle,
        volatility_daily: daily_volatility(window)?.daily,
    })
}

/// The metrics of the last `config.window` bars of `bars`.
///
/// # Errors
/// [`LiquidityError::TooFewBars`] when there are fewer bars than the window;
/// [`LiquidityError::InvalidInput`] for a window below [`MIN_WINDOW`]; invalid or unordered
/// bars.
///
/// # Examples
/// ```
/// use alphapulse_liquidity::{compute_metrics, synthetic, MetricsConfig};
/// use chrono::NaiveDate;
///
/// let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
/// let bars = synthetic::random_walk(7, start, 60, 30_000.0, 0.03, 1_000.0);
/// let m = compute_metrics(&bars, &MetricsConfig::default()).unwrap();
/// assert_eq!(m.observations, 30);
/// assert!(m.spread_estimate.spread >= 0.0 && m.adv.base > 0.0);
/// ```
pub fn compute_metrics(bars: &[Bar], config: &MetricsConfig) -> Result<LiquidityMetrics> {
    check_window(config)?;
    validate_series("metrics", bars, config.window)?;
    window_metrics(tail(bars, config.window), config)
}

/// The metrics for each of the last `days` days, oldest first, each on the `config.window`
/// bars ending that day.
///
/// # Errors
/// [`LiquidityError::TooFewBars`] below `config.window + days - 1` bars;
/// [`LiquidityError::InvalidInput`] for `days == 0` or a window below [`MIN_WINDOW`]; invalid
/// or unordered bars.
pub fn history(bars: &[Bar], config: &MetricsConfig, days: usize) -> Result<Vec<LiquidityMetrics>> {
    check_window(config)?;
    if days == 0 {
        return Err(LiquidityError::InvalidInput {
            field: "days",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    let need = config.window.saturating_add(days - 1);
    validate_series("history", bars, need)?;
    let bars = tail(bars, need);
    bars.windows(config.window)
        .map(|w| window_metrics(w, config))
        .collect()
}

/// How many history days `bars` bars support with `window`-bar windows (0 when fewer bars
/// than the window), so a route can clamp `?days=` instead of failing.
#[must_use]
pub fn max_history_days(bars: usize, window: usize) -> usize {
    (bars + 1).saturating_sub(window.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::test_support::bar;
    use crate::synthetic::random_walk;
    use proptest::prelude::*;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
    }

    #[test]
    fn metrics_use_the_last_window_only() {
        let bars = random_walk(3, start(), 100, 100.0, 0.02, 500.0);
        let config = MetricsConfig::default();
        let m = compute_metrics(&bars, &config).unwrap();
        let window = &bars[70..];
        assert_eq!(m.date, bars[99].date);
        assert_eq!(m.observations, 30);
        assert_eq!(m.last_close, bars[99].close);
        assert_eq!(m.adv, average_daily_volume(window).unwrap());
        assert_eq!(m.amihud, amihud(window).unwrap());
        assert_eq!(
            m.spread_estimate,
            crate::corwin_schultz(window, true).unwrap()
        );
        assert_eq!(
            m.kyle_lambda,
            Some(kyle_lambda(window, SignRule::CloseToClose).unwrap())
        );
        assert_eq!(m.volatility_daily, daily_volatility(window).unwrap().daily);
        let c = m.conditions();
        assert_eq!((c.adv, c.sigma_observations), (m.adv.base, 29));
        assert_eq!(c.spread, m.spread_estimate.spread);
    }

    #[test]
    fn too_few_bars_says_have_and_need() {
        let bars = random_walk(3, start(), 20, 100.0, 0.02, 500.0);
        assert_eq!(
            compute_metrics(&bars, &MetricsConfig::default()),
            Err(LiquidityError::TooFewBars {
                what: "metrics",
                have: 20,
                need: 30
            })
        );
        assert_eq!(
            history(
                &bars,
                &MetricsConfig {
                    window: 10,
                    ..MetricsConfig::default()
                },
                30
            ),
            Err(LiquidityError::TooFewBars {
                what: "history",
                have: 20,
                need: 39
            })
        );
        let tiny = MetricsConfig {
            window: 3,
            ..MetricsConfig::default()
        };
        assert!(compute_metrics(&bars, &tiny).is_err());
        assert!(history(&bars, &MetricsConfig::default(), 0).is_err());
    }

    #[test]
    fn history_is_one_window_per_day_oldest_first() {
        let bars = random_walk(5, start(), 80, 100.0, 0.02, 500.0);
        let config = MetricsConfig::default();
        let h = history(&bars, &config, 30).unwrap();
        assert_eq!(h.len(), 30);
        assert_eq!(h[0].date, bars[50].date);
        assert_eq!(h[29].date, bars[79].date);
        assert_eq!(h[29], compute_metrics(&bars, &config).unwrap());
        assert_eq!(h[0], compute_metrics(&bars[..51], &config).unwrap());
        assert_eq!(max_history_days(80, 30), 51);
        assert_eq!(max_history_days(20, 30), 0);
        assert_eq!(history(&bars, &config, 51).unwrap().len(), 51);
        assert!(history(&bars, &config, 52).is_err());
    }

    #[test]
    fn untraded_window_has_no_lambda_amihud_or_adv() {
        let bars: Vec<Bar> = (1..=10)
            .map(|d| {
                let c = 100.0 + f64::from(d % 3);
                bar(d, c, c + 1.0, c - 1.0, c, 0.0)
            })
            .collect();
        let config = MetricsConfig {
            window: 10,
            ..MetricsConfig::default()
        };
        let m = compute_metrics(&bars, &config).unwrap();
        assert_eq!(m.kyle_lambda, None);
        assert_eq!(m.amihud.illiquidity, None);
        assert_eq!(m.adv.base, 0.0);
        let json = serde_json::to_value(m).unwrap();
        assert!(json["kyle_lambda"].is_null());
        assert_eq!(json["spread_estimate"]["estimator"], "corwin_schultz");
    }

    proptest! {
        #[test]
        fn metrics_are_finite_for_any_valid_bars(bars in crate::bar::test_support::arb_bars(60)) {
            prop_assume!(bars.len() >= MIN_WINDOW);
            let config = MetricsConfig { window: bars.len().min(30), ..MetricsConfig::default() };
            let m = compute_metrics(&bars, &config).unwrap();
            prop_assert!(m.spread_estimate.spread.is_finite() && m.spread_estimate.spread >= 0.0);
            prop_assert!(m.adv.base.is_finite() && m.adv.notional.is_finite());
            prop_assert!(m.amihud.illiquidity.is_none_or(|a| a.is_finite() && a >= 0.0));
            prop_assert!(m.volatility_daily.is_finite());
            if let Some(k) = m.kyle_lambda {
                prop_assert!(k.lambda.is_finite() && (0.0..=1.0).contains(&k.r_squared));
            }
            prop_assert!(serde_json::to_string(&m).is_ok());
        }
    }
}
