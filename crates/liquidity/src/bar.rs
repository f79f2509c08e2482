//! The input of every estimator: a daily OHLCV candle, and the checks run on a series of them.
//!
//! Prices are in quote units (e.g. USDT), `volume` in base units (e.g. BTC), so `close x volume`
//! is the bar's notional (dollar) volume. A series must be in strictly increasing date order;
//! a missing day is allowed (returns then span the gap).
//!
//! Returns everywhere in this crate are simple close-to-close returns
//! `r_t = C_t / C_{t-1} - 1`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{LiquidityError, Result};

/// One daily candle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Trading day (UTC) of the candle.
    pub date: NaiveDate,
    /// First price of the day.
    pub open: f64,
    /// Highest price of the day.
    pub high: f64,
    /// Lowest price of the day.
    pub low: f64,
    /// Last price of the day.
    pub close: f64,
    /// Traded quantity in base units.
    pub volume: f64,
}

impl Bar {
    /// Notional (dollar) volume `close x volume`, in quote units.
    #[must_use]
    pub fn notional_volume(&self) -> f64 {
        self.close * self.volume
    }

    /// Checks one bar: finite fields, `0 < low <= open, close <= high`, `volume >= 0`.
    ///
    /// # Errors
    /// [`LiquidityError::InvalidBar`] naming the broken rule.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason| {
            Err(LiquidityError::InvalidBar {
                date: self.date,
                reason,
            })
        };
        let fields = [self.open, self.high, self.low, self.close, self.volume];
        if fields.iter().any(|v| !v.is_finite()) {
            return invalid("non-finite value");
        }
        if self.low <= 0.0 {
            return invalid("low must be > 0");
        }
        if self.high < self.low {
            return invalid("high below low");
        }
        if !(self.low..=self.high).contains(&self.open) {
            return invalid("open outside [low, high]");
        }
        if !(self.low..=self.high).contains(&self.close) {
            return invalid("close outside [low, high]");
        }
        if self.volume < 0.0 {
            return invalid("negative volume");
        }
        Ok(())
    }
}

/// Checks a series: each bar valid, dates strictly increasing, at least `need` bars.
///
/// # Errors
/// [`LiquidityError::TooFewBars`] (checked first), [`LiquidityError::InvalidBar`] or
/// [`LiquidityError::Unordered`].
pub fn validate_series(what: &'static str, bars: &[Bar], need: usize) -> Result<()> {
    if bars.len() < need {
        return Err(LiquidityError::TooFewBars {
            what,
            have: bars.len(),
            need,
        });
    }
    for bar in bars {
        bar.validate()?;
    }
    for pair in bars.windows(2) {
        if pair[1].date <= pair[0].date {
            return Err(LiquidityError::Unordered {
                previous: pair[0].date,
                date: pair[1].date,
            });
        }
    }
    Ok(())
}

/// Simple close-to-close returns `C_t / C_{t-1} - 1`; `bars.len() - 1` values (none for fewer
/// than two bars). Assumes validated bars (closes > 0).
#[must_use]
pub fn simple_returns(bars: &[Bar]) -> Vec<f64> {
    bars.windows(2)
        .map(|w| w[1].close / w[0].close - 1.0)
        .collect()
}

/// The last `window` bars (all of them when there are fewer).
#[must_use]
pub fn tail(bars: &[Bar], window: usize) -> &[Bar] {
    &bars[bars.len().saturating_sub(window)..]
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Bar;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    /// A bar on day `day` (1-based, from 2024-01-01).
    pub(crate) fn bar(day: u32, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Bar {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        Bar {
            date: start + chrono::Days::new(u64::from(day) - 1),
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// Arbitrary valid bars: positive price levels and ranges, open/close inside the range.
    pub(crate) fn arb_bars(max: usize) -> impl proptest::strategy::Strategy<Value = Vec<Bar>> {
        prop::collection::vec(
            (
                1e-3f64..1e5,
                0.0f64..0.3,
                0.0f64..=1.0,
                0.0f64..=1.0,
                0.0f64..1e7,
            ),
            2..max,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (low, range, o, c, volume))| {
                    let high = low * (1.0 + range);
                    let day = u32::try_from(i).unwrap() + 1;
                    bar(
                        day,
                        (low + o * (high - low)).clamp(low, high),
                        high,
                        low,
                        (low + c * (high - low)).clamp(low, high),
                        volume,
                    )
                })
                .collect()
        })
    }

    /// A bar whose open, high, low all equal `close` (flat day), with `volume`.
    pub(crate) fn flat(day: u32, close: f64, volume: f64) -> Bar {
        bar(day, close, close, close, close, volume)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{bar, flat};
    use super::*;

    #[test]
    fn valid_bar_passes_and_notional_is_close_times_volume() {
        let b = bar(1, 100.0, 102.0, 98.0, 101.0, 3.0);
        assert_eq!(b.validate(), Ok(()));
        assert_eq!(b.notional_volume(), 303.0);
    }

    #[test]
    fn impossible_bars_are_rejected_with_a_reason() {
        let cases = [
            (bar(1, 100.0, 98.0, 99.0, 98.5, 1.0), "high below low"),
            (bar(1, 100.0, 102.0, 0.0, 101.0, 1.0), "low must be > 0"),
            (
                bar(1, 103.0, 102.0, 98.0, 101.0, 1.0),
                "open outside [low, high]",
            ),
            (
                bar(1, 100.0, 102.0, 98.0, 97.0, 1.0),
                "close outside [low, high]",
            ),
            (bar(1, 100.0, 102.0, 98.0, 101.0, -1.0), "negative volume"),
            (
                bar(1, 100.0, f64::NAN, 98.0, 101.0, 1.0),
                "non-finite value",
            ),
        ];
        for (b, reason) in cases {
            assert_eq!(
                b.validate(),
                Err(LiquidityError::InvalidBar {
                    date: b.date,
                    reason
                })
            );
        }
    }

    #[test]
    fn series_checks_count_then_order() {
        let bars = [flat(2, 100.0, 1.0), flat(1, 100.0, 1.0)];
        assert_eq!(
            validate_series("x", &bars, 3),
            Err(LiquidityError::TooFewBars {
                what: "x",
                have: 2,
                need: 3
            })
        );
        assert!(matches!(
            validate_series("x", &bars, 2),
            Err(LiquidityError::Unordered { .. })
        ));
        let same_day = [flat(1, 100.0, 1.0), flat(1, 100.0, 1.0)];
        assert!(validate_series("x", &same_day, 2).is_err());
    }

    #[test]
    fn returns_and_tail() {
        let bars = [flat(1, 100.0, 1.0), flat(2, 110.0, 1.0), flat(3, 99.0, 1.0)];
        let r = simple_returns(&bars);
        assert_eq!(r.len(), 2);
        assert!((r[0] - 0.10).abs() < 1e-12);
        assert!((r[1] + 0.10).abs() < 1e-12);
        assert_eq!(tail(&bars, 2).len(), 2);
        assert_eq!(tail(&bars, 2)[0].date, bars[1].date);
        assert_eq!(tail(&bars, 10).len(), 3);
        assert!(simple_returns(&bars[..1]).is_empty());
    }
}
