//! Volume-based liquidity: average daily volume (ADV) and Amihud illiquidity.
//!
//! # ADV
//! Over the `n` bars given:
//!
//! ```text
//! ADV_base     = (1/n) * sum_t V_t              (base units per day, e.g. BTC)
//! ADV_notional = (1/n) * sum_t C_t * V_t        (quote units per day, e.g. USDT)
//! ```
//!
//! Zero-volume days count (they are days on which nothing could be traded).
//!
//! # Amihud (2002)
//! Amihud, Y. (2002), "Illiquidity and stock returns: cross-section and time-series effects",
//! *Journal of Financial Markets* 5(1), 31-56. The average absolute return per unit of
//! notional volume:
//!
//! ```text
//! ILLIQ = 1e6 * (1/D) * sum_t |r_t| / (C_t * V_t)
//! ```
//!
//! with `r_t = C_t/C_{t-1} - 1` and `D` the days with non-zero notional volume (zero-volume
//! days are skipped: the ratio is undefined there). Units: fractional price move per one
//! million quote units traded (the `1e6` scaling), e.g. `0.01` = a 1 % move per 1 M USDT.
//! `None` when no day in the window traded.

use serde::Serialize;

use crate::bar::{validate_series, Bar};
use crate::error::{finite, Result};

/// Scaling of Amihud illiquidity and Kyle's lambda: one million quote units.
pub const PER_MILLION: f64 = 1e6;

/// Average daily volume over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adv {
    /// Mean daily volume in base units.
    pub base: f64,
    /// Mean daily notional (`close x volume`) in quote units.
    pub notional: f64,
    /// Days averaged.
    pub days: usize,
}

/// Amihud illiquidity over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amihud {
    /// `ILLIQ` in fractional return per 1 M quote units traded; `None` when no day traded.
    pub illiquidity: Option<f64>,
    /// Return days averaged (non-zero notional volume).
    pub days_used: usize,
    /// Return days skipped for zero volume.
    pub days_skipped: usize,
}

/// ADV of `bars` (all of them; pass [`crate::bar::tail`] for a window).
///
/// # Errors
/// [`crate::LiquidityError::TooFewBars`] for an empty slice; invalid or unordered bars.
pub fn average_daily_volume(bars: &[Bar]) -> Result<Adv> {
    validate_series("adv", bars, 1)?;
    let n = bars.len() as f64;
    let base = bars.iter().map(|b| b.volume).sum::<f64>() / n;
    let notional = bars.iter().map(Bar::notional_volume).sum::<f64>() / n;
    Ok(Adv {
        base: finite("adv", base)?,
        notional: finite("adv", notional)?,
        days: bars.len(),
    })
}

/// Amihud illiquidity of `bars` (one return per bar after the first).
///
/// # Errors
/// [`crate::LiquidityError::TooFewBars`] below 2 bars; invalid or unordered bars.
pub fn amihud(bars: &[Bar]) -> Result<Amihud> {
    validate_series("amihud", bars, 2)?;
    let mut sum = 0.0;
    let mut used = 0usize;
    let mut skipped = 0usize;
    for pair in bars.windows(2) {
        let dollar_volume = pair[1].notional_volume();
        if dollar_volume > 0.0 {
            let r = pair[1].close / pair[0].close - 1.0;
            sum += r.abs() / dollar_volume;
            used += 1;
        } else {
            skipped += 1;
        }
    }
    let illiquidity = if used == 0 {
        None
    } else {
        Some(finite("amihud", PER_MILLION * sum / used as f64)?)
    };
    Ok(Amihud {
        illiquidity,
        days_used: used,
        days_skipped: skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::test_support::flat;
    use crate::LiquidityError;

    /// Closes 100 -> 102 -> 99.96 -> 100.9596 (returns +2 %, -2 %, +1 %) with notional volumes
    /// on days 1..3 of 2 M, 4 M and 1 M (volume = notional / close).
    fn three_return_days() -> Vec<crate::Bar> {
        vec![
            flat(1, 100.0, 5_000.0),
            flat(2, 102.0, 2e6 / 102.0),
            flat(3, 99.96, 4e6 / 99.96),
            flat(4, 100.9596, 1e6 / 100.9596),
        ]
    }

    #[test]
    fn amihud_three_days_by_hand() {
        // |r_t| / DV_t x 1e6:
        //   day 1: 0.02 / 2e6 x 1e6 = 0.010
        //   day 2: 0.02 / 4e6 x 1e6 = 0.005
        //   day 3: 0.01 / 1e6 x 1e6 = 0.010
        //   ILLIQ = (0.010 + 0.005 + 0.010) / 3 = 0.008333...
        let a = amihud(&three_return_days()).unwrap();
        assert!(
            (a.illiquidity.unwrap() - 0.025 / 3.0).abs() < 1e-12,
            "{a:?}"
        );
        assert_eq!((a.days_used, a.days_skipped), (3, 0));
    }

    #[test]
    fn amihud_skips_zero_volume_days() {
        // Day 2 has no volume: only days 1 and 3 count, (0.010 + 0.010) / 2 = 0.010.
        let mut bars = three_return_days();
        bars[2].volume = 0.0;
        let a = amihud(&bars).unwrap();
        assert!((a.illiquidity.unwrap() - 0.010).abs() < 1e-12);
        assert_eq!((a.days_used, a.days_skipped), (2, 1));
    }

    #[test]
    fn amihud_without_any_volume_is_none() {
        let bars = [flat(1, 100.0, 0.0), flat(2, 101.0, 0.0)];
        let a = amihud(&bars).unwrap();
        assert_eq!(a.illiquidity, None);
        assert_eq!((a.days_used, a.days_skipped), (0, 1));
    }

    #[test]
    fn adv_by_hand() {
        // Volumes 10, 20, 0 at closes 100, 110, 120:
        //   ADV_base = (10 + 20 + 0)/3 = 10;  ADV_notional = (1000 + 2200 + 0)/3 = 1066.67
        let bars = [
            flat(1, 100.0, 10.0),
            flat(2, 110.0, 20.0),
            flat(3, 120.0, 0.0),
        ];
        let adv = average_daily_volume(&bars).unwrap();
        assert!((adv.base - 10.0).abs() < 1e-12);
        assert!((adv.notional - 3200.0 / 3.0).abs() < 1e-9);
        assert_eq!(adv.days, 3);
    }

    #[test]
    fn too_few_bars() {
        assert_eq!(
            average_daily_volume(&[]),
            Err(LiquidityError::TooFewBars {
                what: "adv",
                have: 0,
                need: 1
            })
        );
        assert_eq!(
            amihud(&[flat(1, 100.0, 1.0)]),
            Err(LiquidityError::TooFewBars {
                what: "amihud",
                have: 1,
                need: 2
            })
        );
    }
}
