//! Bid-ask spread estimated from daily highs, lows and closes (no quote data needed).
//!
//! # Corwin & Schultz (2012) — the default
//! Corwin, S. A. and Schultz, P. (2012), "A Simple Way to Estimate Bid-Ask Spreads from Daily
//! High and Low Prices", *Journal of Finance* 67(2), 719-760. A day's high is usually a buy at
//! the ask and its low a sell at the bid, so `ln(H/L)` holds the spread plus volatility; the
//! variance part grows with the horizon and the spread part does not, so one-day and two-day
//! ranges separate them. For days `t, t+1`:
//!
//! ```text
//! beta  = ln(H_t/L_t)^2 + ln(H_{t+1}/L_{t+1})^2
//! gamma = ln(max(H_t, H_{t+1}) / min(L_t, L_{t+1}))^2
//! k     = 3 - 2*sqrt(2)
//! alpha = (sqrt(2*beta) - sqrt(beta)) / k - sqrt(gamma / k)
//! S     = 2 * (e^alpha - 1) / (1 + e^alpha)          (a fraction of price)
//! ```
//!
//! Negative two-day estimates are set to 0 and the window estimate is the mean of the two-day
//! estimates (the paper's main variant). *Overnight adjustment* (the paper, section on
//! overnight returns; on by default): if day `t+1`'s low is above day `t`'s close, both of day
//! `t+1`'s high and low are lowered by `L_{t+1} - C_t`; if day `t+1`'s high is below `C_t`, both
//! are raised by `C_t - H_{t+1}`. On 24/7 crypto venues the next bar opens at the previous
//! close, so the adjustment rarely fires, but it guards against gaps in the data.
//!
//! # Abdi & Ranaldo (2017) — CHL
//! Abdi, F. and Ranaldo, A. (2017), "A Simple Estimation of Bid-Ask Spreads from Daily Close,
//! High, and Low Prices", *Review of Financial Studies* 30(12), 4437-4480. With the log
//! mid-range `eta_t = (ln H_t + ln L_t)/2` and the log close `c_t = ln C_t`:
//!
//! ```text
//! S = sqrt(max(4 * mean_t[(c_t - eta_t) * (c_t - eta_{t+1})], 0))
//! ```
//!
//! the paper's window estimator (the mean is taken before flooring, so a liquid market often
//! reads exactly 0).
//!
//! # Which one the API uses
//! [`SpreadEstimator::CorwinSchultz`] with the overnight adjustment. Flooring each two-day
//! estimate biases it upwards in volatile markets, which makes the slippage built on it
//! conservative, and it rarely collapses to exactly zero; CHL is available for comparison.

use serde::{Deserialize, Serialize};

use crate::bar::{validate_series, Bar};
use crate::error::{finite, Result};

/// Which high-low spread estimator to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SpreadEstimator {
    /// Corwin & Schultz (2012), with the overnight adjustment when `overnight_adjustment` is on.
    #[default]
    CorwinSchultz,
    /// Abdi & Ranaldo (2017) CHL.
    AbdiRanaldo,
}

/// A window's spread estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpreadEstimate {
    /// Estimator used.
    pub estimator: SpreadEstimator,
    /// Estimated proportional spread (ask - bid) / mid, a fraction, `>= 0`.
    pub spread: f64,
    /// The same in basis points (`spread x 10_000`).
    pub spread_bps: f64,
    /// Number of two-day pairs averaged (`bars - 1`).
    pub pairs: usize,
    /// Pairs whose raw estimate was negative (set to 0 for Corwin-Schultz; for CHL the pairs
    /// with a negative product, before the mean is floored).
    pub negative_pairs: usize,
}

/// The Corwin-Schultz constant `3 - 2 sqrt(2)`.
const CS_K: f64 = 3.0 - 2.0 * std::f64::consts::SQRT_2;

/// Raw Corwin-Schultz two-day spread from `first` (day `t`) and `second` (day `t+1`), before
/// flooring (may be negative). With `overnight_adjustment`, `second`'s high and low are shifted
/// by the overnight gap from `first.close` as described in the module docs.
#[must_use]
pub fn corwin_schultz_two_day(first: &Bar, second: &Bar, overnight_adjustment: bool) -> f64 {
    let (mut high2, mut low2) = (second.high, second.low);
    if overnight_adjustment {
        if low2 > first.close {
            let gap = low2 - first.close;
            high2 -= gap;
            low2 -= gap;
        } else if high2 < first.close {
            let gap = first.close - high2;
            high2 += gap;
            low2 += gap;
        }
    }
    let beta = (first.high / first.low).ln().powi(2) + (high2 / low2).ln().powi(2);
    let gamma = (first.high.max(high2) / first.low.min(low2)).ln().powi(2);
    let alpha = ((2.0 * beta).sqrt() - beta.sqrt()) / CS_K - (gamma / CS_K).sqrt();
    2.0 * (alpha.exp() - 1.0) / (1.0 + alpha.exp())
}

/// Corwin-Schultz spread over all of `bars`: the mean of the floored two-day estimates.
///
/// # Errors
/// [`crate::LiquidityError::TooFewBars`] below 2 bars; invalid or unordered bars.
pub fn corwin_schultz(bars: &[Bar], overnight_adjustment: bool) -> Result<SpreadEstimate> {
    validate_series("corwin_schultz", bars, 2)?;
    let mut sum = 0.0;
    let mut negative = 0;
    for pair in bars.windows(2) {
        let s = corwin_schultz_two_day(&pair[0], &pair[1], overnight_adjustment);
        if s < 0.0 {
            negative += 1;
        } else {
            sum += s;
        }
    }
    let pairs = bars.len() - 1;
    let spread = finite("corwin_schultz", sum / pairs as f64)?;
    Ok(SpreadEstimate {
        estimator: SpreadEstimator::CorwinSchultz,
        spread,
        spread_bps: spread * 1e4,
        pairs,
        negative_pairs: negative,
    })
}

/// Abdi-Ranaldo CHL spread over all of `bars`.
///
/// # Errors
/// [`crate::LiquidityError::TooFewBars`] below 2 bars; invalid or unordered bars.
pub fn abdi_ranaldo(bars: &[Bar]) -> Result<SpreadEstimate> {
    validate_series("abdi_ranaldo", bars, 2)?;
    let eta = |b: &Bar| 0.5 * (b.high.ln() + b.low.ln());
    let mut sum = 0.0;
    let mut negative = 0;
    for pair in bars.windows(2) {
        let c = pair[0].close.ln();
        let d = (c - eta(&pair[0])) * (c - eta(&pair[1]));
        if d < 0.0 {
            negative += 1;
        }
        sum += d;
    }
    let pairs = bars.len() - 1;
    let spread = finite("abdi_ranaldo", (4.0 * sum / pairs as f64).max(0.0).sqrt())?;
    Ok(SpreadEstimate {
        estimator: SpreadEstimator::AbdiRanaldo,
        spread,
        spread_bps: spread * 1e4,
        pairs,
        negative_pairs: negative,
    })
}

/// The spread of `bars` with the chosen estimator (`overnight_adjustment` applies to
/// Corwin-Schultz only).
///
/// # Errors
/// As [`corwin_schultz`] / [`abdi_ranaldo`].
pub fn estimate_spread(
    bars: &[Bar],
    estimator: SpreadEstimator,
    overnight_adjustment: bool,
) -> Result<SpreadEstimate> {
    match estimator {
        SpreadEstimator::CorwinSchultz => corwin_schultz(bars, overnight_adjustment),
        SpreadEstimator::AbdiRanaldo => abdi_ranaldo(bars),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::test_support::bar;
    use crate::LiquidityError;
    use proptest::prelude::*;

    const EPS: f64 = 1e-9;

    #[test]
    fn corwin_schultz_two_bars_by_hand() {
        // Day 1: H=102, L=98, C=100. Day 2: H=103, L=99 (C_1 = 100 lies in [99, 103]: no
        // overnight adjustment).
        //   ln(102/98) = 0.0400053346      ln(103/99) = 0.0396091381
        //   beta  = 0.0400053346^2 + 0.0396091381^2 = 0.0031693106
        //   gamma = ln(103/98)^2 = 0.0497615096^2   = 0.0024762078
        //   k = 3 - 2 sqrt 2 = 0.1715728753
        //   (sqrt(2 beta) - sqrt(beta)) / k = (0.0796149 - 0.0562966) / k = 0.1359120891
        //   sqrt(gamma / k)                                               = 0.1201349113
        //   alpha = 0.1359120891 - 0.1201349113 = 0.0157771779
        //   S = 2 (e^alpha - 1) / (1 + e^alpha) = 2 x 0.0159022947 / 2.0159022947
        //     = 0.0157768506  (157.8 bps)
        let d1 = bar(1, 99.0, 102.0, 98.0, 100.0, 1.0);
        let d2 = bar(2, 100.0, 103.0, 99.0, 101.0, 1.0);
        let raw = corwin_schultz_two_day(&d1, &d2, true);
        assert!((raw - 0.015_776_850_614).abs() < EPS, "{raw}");
        let est = corwin_schultz(&[d1, d2], true).unwrap();
        assert!((est.spread - 0.015_776_850_614).abs() < EPS);
        assert!((est.spread_bps - 157.768_506_14).abs() < 1e-5);
        assert_eq!((est.pairs, est.negative_pairs), (1, 0));
        assert_eq!(est.estimator, SpreadEstimator::CorwinSchultz);
    }

    #[test]
    fn overnight_adjustment_shifts_the_second_day_by_the_gap() {
        // Day 1 closes at 100; day 2 trades 101..105, entirely above it: the 1.0 gap is
        // removed, so day 2 is read as 100..104.
        //   unadjusted: beta = ln(102/98)^2 + ln(105/101)^2 = 0.0031089594,
        //     gamma = ln(105/98)^2 = 0.0047600163, alpha = 0.1346118 - 0.1665635 = -0.0319517,
        //     S = -0.0319489824
        //   adjusted:   beta = ln(102/98)^2 + ln(104/100)^2 = 0.0031386911,
        //     gamma = ln(104/98)^2 = 0.0035311429, alpha = 0.1352540 - 0.1434608 = -0.0082069,
        //     S = -0.0082068257
        let d1 = bar(1, 99.0, 102.0, 98.0, 100.0, 1.0);
        let d2 = bar(2, 102.0, 105.0, 101.0, 104.0, 1.0);
        let raw = corwin_schultz_two_day(&d1, &d2, false);
        let adjusted = corwin_schultz_two_day(&d1, &d2, true);
        assert!((raw + 0.031_948_982_429).abs() < EPS, "{raw}");
        assert!((adjusted + 0.008_206_825_745).abs() < EPS, "{adjusted}");
        // Both negative: the window estimate floors them to 0.
        let est = corwin_schultz(&[d1, d2], true).unwrap();
        assert_eq!((est.spread, est.negative_pairs), (0.0, 1));
        // The symmetric case: day 2 entirely below the close is raised by the gap.
        let down = bar(2, 96.0, 99.0, 95.0, 97.0, 1.0);
        let shifted = bar(2, 97.0, 100.0, 96.0, 98.0, 1.0);
        assert!(
            (corwin_schultz_two_day(&d1, &down, true)
                - corwin_schultz_two_day(&d1, &shifted, false))
            .abs()
                < 1e-15
        );
    }

    #[test]
    fn window_is_the_mean_of_floored_pairs() {
        // Pair 1 = 0.0157768506 (the hand example); pair 2 (day 2 -> a flat day 3 at 101,
        // inside day 2's range) is computed by the same function; negatives count as 0.
        let d1 = bar(1, 99.0, 102.0, 98.0, 100.0, 1.0);
        let d2 = bar(2, 100.0, 103.0, 99.0, 101.0, 1.0);
        let d3 = bar(3, 101.0, 101.0, 101.0, 101.0, 1.0);
        let p2 = corwin_schultz_two_day(&d2, &d3, true);
        let est = corwin_schultz(&[d1, d2, d3], true).unwrap();
        let expected = (0.015_776_850_614 + p2.max(0.0)) / 2.0;
        assert!((est.spread - expected).abs() < EPS);
        assert_eq!(est.pairs, 2);
    }

    #[test]
    fn abdi_ranaldo_three_bars_by_hand() {
        // (H, L, C): (102, 98, 101), (101.5, 97.5, 98), (102, 98, 101)
        //   eta_0 = (ln 102 + ln 98)/2 = 4.6049701460, c_0 = ln 101 = 4.6151205168
        //   eta_1 = (ln 101.5 + ln 97.5)/2 = 4.5999555882, c_1 = ln 98 = 4.5849674787
        //   eta_2 = eta_0 = 4.6049701460
        //   d_0 = (c_0 - eta_0)(c_0 - eta_1) = 0.0101503709 x 0.0151649286 = 1.5392965e-4
        //   d_1 = (c_1 - eta_1)(c_1 - eta_2) = -0.0149881096 x -0.0200026673 = 2.9980217e-4
        //   mean = 2.2686591e-4; S = sqrt(4 x 2.2686591e-4) = 0.0301241371
        let bars = [
            bar(1, 100.0, 102.0, 98.0, 101.0, 1.0),
            bar(2, 100.0, 101.5, 97.5, 98.0, 1.0),
            bar(3, 100.0, 102.0, 98.0, 101.0, 1.0),
        ];
        let est = abdi_ranaldo(&bars).unwrap();
        assert!(
            (est.spread - 0.030_124_137_124).abs() < EPS,
            "{}",
            est.spread
        );
        assert_eq!((est.pairs, est.negative_pairs), (2, 0));
        assert_eq!(est.estimator, SpreadEstimator::AbdiRanaldo);
        let via = estimate_spread(&bars, SpreadEstimator::AbdiRanaldo, true).unwrap();
        assert_eq!(via, est);
    }

    #[test]
    fn abdi_ranaldo_floors_a_negative_mean_to_zero() {
        // (H, L, C): (102, 98, 101), (103, 99, 100), (101, 97, 98)
        //   d_0 = (c_0 - eta_0)(c_0 - eta_1) = 0.0101503709 x 0.0001960977  =  1.990e-6
        //   d_1 = (c_1 - eta_1)(c_1 - eta_2) = -0.0097542332 x 0.0102544383 = -1.000e-4
        //   mean = -4.90e-5 < 0, so S = sqrt(max(4 x mean, 0)) = 0
        let bars = [
            bar(1, 100.0, 102.0, 98.0, 101.0, 1.0),
            bar(2, 100.0, 103.0, 99.0, 100.0, 1.0),
            bar(3, 100.0, 101.0, 97.0, 98.0, 1.0),
        ];
        let est = abdi_ranaldo(&bars).unwrap();
        assert_eq!(est.spread, 0.0);
        assert_eq!(est.negative_pairs, 1);
    }

    #[test]
    fn one_bar_is_too_few() {
        let one = [bar(1, 100.0, 101.0, 99.0, 100.0, 1.0)];
        for estimator in [SpreadEstimator::CorwinSchultz, SpreadEstimator::AbdiRanaldo] {
            assert!(matches!(
                estimate_spread(&one, estimator, true),
                Err(LiquidityError::TooFewBars {
                    have: 1,
                    need: 2,
                    ..
                })
            ));
        }
    }

    #[test]
    fn flat_bars_give_zero_spread() {
        let bars = [
            bar(1, 100.0, 100.0, 100.0, 100.0, 1.0),
            bar(2, 100.0, 100.0, 100.0, 100.0, 1.0),
        ];
        assert_eq!(corwin_schultz(&bars, true).unwrap().spread, 0.0);
        assert_eq!(abdi_ranaldo(&bars).unwrap().spread, 0.0);
    }

    proptest! {
        #[test]
        fn spreads_are_finite_and_non_negative(bars in crate::bar::test_support::arb_bars(40), adjust in any::<bool>()) {
            for est in [corwin_schultz(&bars, adjust).unwrap(), abdi_ranaldo(&bars).unwrap()] {
                prop_assert!(est.spread.is_finite() && est.spread >= 0.0, "{est:?}");
                prop_assert!(est.spread_bps >= 0.0);
                prop_assert_eq!(est.pairs, bars.len() - 1);
            }
        }
    }
}
