//! Average True Range and the stops derived from it.
//!
//! Wilder, *New Concepts in Technical Trading Systems*, 1978, ch. "Volatility":
//! - true range `TR_t = max(H_t − L_t, |H_t − C_{t−1}|, |L_t − C_{t−1}|)`, the day's range
//!   extended to the previous close so overnight gaps count;
//! - `ATR` over `n` periods: the first value is the mean of the first `n` true ranges, then
//!   Wilder's smoothing `ATR_t = (ATR_{t−1}·(n − 1) + TR_t) / n` (an exponential average with
//!   `α = 1/n`).
//!
//! Convention: a true range needs the previous close, so the first bar only provides that close
//! and `TR` starts at the second bar (as TA-Lib's `ATR` does). An `n`-period ATR therefore needs
//! `n + 1` bars.
//!
//! Stops (Wilder's "volatility stop", as in the original service's 2·ATR stop / 3·ATR target):
//! for a long, `stop = entry − k·ATR` and `take profit = entry + R·k·ATR` where `k` is the ATR
//! multiple and `R` the reward-to-risk ratio; mirrored for a short.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Result, RiskError};
use crate::sizing::SIZE_DECIMALS;
use crate::stats::{check_finite, check_positive};

/// Wilder's period.
pub const DEFAULT_ATR_PERIOD: usize = 14;

/// One bar's high, low and close (prices are statistics here; entries and stops are decimals).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bar {
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
}

/// True ranges from the second bar on (`bars.len() − 1` values).
///
/// # Errors
/// Fewer than two bars, a non-finite price, or a high below its low.
pub fn true_ranges(bars: &[Bar]) -> Result<Vec<f64>> {
    if bars.len() < 2 {
        return Err(RiskError::TooFewObservations {
            have: bars.len(),
            need: 2,
        });
    }
    for (index, b) in bars.iter().enumerate() {
        if check_finite(&[b.high, b.low, b.close], "bar").is_err() {
            return Err(RiskError::NonFinite {
                what: "bars",
                index,
            });
        }
        if b.high < b.low {
            return Err(RiskError::InvalidParameter {
                name: "bars",
                reason: "a high is below its low",
            });
        }
    }
    Ok(bars
        .windows(2)
        .map(|w| {
            let (prev, b) = (w[0].close, w[1]);
            (b.high - b.low)
                .max((b.high - prev).abs())
                .max((b.low - prev).abs())
        })
        .collect())
}

/// The latest Wilder ATR over `period` bars.
///
/// # Errors
/// `period == 0`, fewer than `period + 1` bars, or a bad bar (see [`true_ranges`]).
pub fn wilder_atr(bars: &[Bar], period: usize) -> Result<f64> {
    if period == 0 {
        return Err(RiskError::InvalidParameter {
            name: "period",
            reason: "must be at least 1",
        });
    }
    if bars.len() < period + 1 {
        return Err(RiskError::TooFewObservations {
            have: bars.len(),
            need: period + 1,
        });
    }
    let tr = true_ranges(bars)?;
    let (seed, rest) = tr.split_at(period);
    let n = period as f64;
    let first = seed.iter().sum::<f64>() / n;
    Ok(rest.iter().fold(first, |atr, t| (atr * (n - 1.0) + t) / n))
}

/// Direction of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bought: the stop is below the entry.
    Long,
    /// Sold: the stop is above the entry.
    Short,
}

/// How far stops sit from the entry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StopRule {
    /// Stop distance in ATRs (`k`). Default 2.
    pub atr_multiple: f64,
    /// Take-profit distance / stop distance (`R`). Default 1.5 (a 3·ATR target).
    pub reward_risk: f64,
}

impl Default for StopRule {
    fn default() -> Self {
        Self {
            atr_multiple: 2.0,
            reward_risk: 1.5,
        }
    }
}

/// Stop loss and take profit of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stops {
    /// Entry price.
    pub entry: Decimal,
    /// Stop loss price.
    pub stop_loss: Decimal,
    /// Take profit price.
    pub take_profit: Decimal,
    /// `|entry − stop_loss|`: the loss per unit if stopped out.
    pub risk_per_unit: Decimal,
}

/// ATR stops for an entry. Prices are rounded to [`SIZE_DECIMALS`]; the caller rounds to the
/// venue's tick size.
///
/// # Errors
/// `entry <= 0`, `atr < 0` or non-finite, `atr_multiple` or `reward_risk` not `> 0`, or a long
/// stop at or below zero (the ATR is too large for the price).
///
/// # Examples
/// ```
/// use alphapulse_risk::sizing::{atr_stops, Side, StopRule};
/// use rust_decimal::Decimal;
/// let s = atr_stops(Decimal::from(100), 2.0, Side::Long, StopRule::default()).unwrap();
/// assert_eq!((s.stop_loss, s.take_profit), (Decimal::from(96), Decimal::from(106)));
/// ```
pub fn atr_stops(entry: Decimal, atr: f64, side: Side, rule: StopRule) -> Result<Stops> {
    if entry <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "entry",
            reason: "must be greater than 0",
        });
    }
    crate::stats::check_non_negative(atr, "atr")?;
    check_positive(rule.atr_multiple, "atr_multiple")?;
    check_positive(rule.reward_risk, "reward_risk")?;
    let to_dec = |x: f64| {
        Decimal::from_f64(x)
            .map(|d| d.round_dp(SIZE_DECIMALS))
            .ok_or(RiskError::InvalidParameter {
                name: "atr",
                reason: "out of decimal range",
            })
    };
    let risk = to_dec(rule.atr_multiple * atr)?;
    let reward = to_dec(rule.reward_risk * rule.atr_multiple * atr)?;
    let (stop_loss, take_profit) = match side {
        Side::Long => (entry - risk, entry + reward),
        Side::Short => (entry + risk, entry - reward),
    };
    if stop_loss <= Decimal::ZERO || take_profit <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "atr_multiple",
            reason: "puts a stop or target at or below zero",
        });
    }
    Ok(Stops {
        entry,
        stop_loss,
        take_profit,
        risk_per_unit: risk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bar(high: f64, low: f64, close: f64) -> Bar {
        Bar { high, low, close }
    }

    /// Six bars; the last one gaps above the previous close.
    fn bars() -> Vec<Bar> {
        vec![
            bar(10.0, 9.0, 9.5),
            bar(10.5, 9.6, 10.2),
            bar(10.4, 9.8, 9.9),
            bar(10.0, 9.0, 9.2),
            bar(9.6, 9.1, 9.5),
            bar(10.6, 10.2, 10.5),
        ]
    }

    #[test]
    fn atr_of_a_short_worked_series() {
        // TR1 = max(10.5-9.6=0.9, |10.5-9.5|=1.0, |9.6-9.5|=0.1)  = 1.0
        // TR2 = max(10.4-9.8=0.6, |10.4-10.2|=0.2, |9.8-10.2|=0.4) = 0.6
        // TR3 = max(10.0-9.0=1.0, |10.0-9.9|=0.1, |9.0-9.9|=0.9)  = 1.0
        // TR4 = max(9.6-9.1=0.5, |9.6-9.2|=0.4, |9.1-9.2|=0.1)    = 0.5
        // TR5 = max(10.6-10.2=0.4, |10.6-9.5|=1.1, |10.2-9.5|=0.7) = 1.1 (the gap counts)
        let tr = true_ranges(&bars()).unwrap();
        let expected = [1.0, 0.6, 1.0, 0.5, 1.1];
        for (a, b) in tr.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
        // Period 3: ATR = (1.0 + 0.6 + 1.0)/3 = 13/15; then (13/15·2 + 0.5)/3 = 67/90;
        // then (67/90·2 + 1.1)/3 = 233/270 = 0.862963.
        let atr = wilder_atr(&bars(), 3).unwrap();
        assert!((atr - 233.0 / 270.0).abs() < 1e-12);
        // Period 5 uses all five TRs: plain mean 4.2 / 5 = 0.84.
        assert!((wilder_atr(&bars(), 5).unwrap() - 0.84).abs() < 1e-12);
    }

    #[test]
    fn atr_needs_period_plus_one_bars() {
        assert_eq!(
            wilder_atr(&bars(), 6),
            Err(RiskError::TooFewObservations { have: 6, need: 7 })
        );
        assert!(wilder_atr(&bars(), 0).is_err());
        assert!(true_ranges(&[bar(1.0, 2.0, 1.5), bar(2.0, 1.0, 1.5)]).is_err());
        assert!(true_ranges(&[bar(1.0, 0.5, f64::NAN), bar(2.0, 1.0, 1.5)]).is_err());
    }

    #[test]
    fn stops_long_and_short() {
        // Entry 100, ATR 2, k = 2, R = 1.5: risk 4, reward 6.
        let rule = StopRule::default();
        let long = atr_stops(dec!(100), 2.0, Side::Long, rule).unwrap();
        assert_eq!(long.stop_loss, dec!(96));
        assert_eq!(long.take_profit, dec!(106));
        assert_eq!(long.risk_per_unit, dec!(4));
        let short = atr_stops(dec!(100), 2.0, Side::Short, rule).unwrap();
        assert_eq!((short.stop_loss, short.take_profit), (dec!(104), dec!(94)));
        // An ATR bigger than the price cannot give a long stop.
        assert!(atr_stops(dec!(1), 1.0, Side::Long, rule).is_err());
        assert!(atr_stops(dec!(0), 1.0, Side::Long, rule).is_err());
        assert!(atr_stops(dec!(100), -1.0, Side::Long, rule).is_err());
    }
}
