//! Kyle's lambda: the price response to signed order flow, estimated from daily bars.
//!
//! Kyle, A. S. (1985), "Continuous Auctions and Insider Trading", *Econometrica* 53(6),
//! 1315-1335, models the price change as `lambda x` net order flow. Daily bars carry no trade
//! signs, so (as in López de Prado, *Advances in Financial Machine Learning*, 2018, section
//! 19.3.2) the day's notional volume is signed with a tick rule and the slope is estimated by
//! OLS:
//!
//! ```text
//! r_t = a + lambda * x_t + e_t,     x_t = b_t * C_t * V_t / 1e6
//! ```
//!
//! - `r_t = C_t/C_{t-1} - 1`, one observation per bar after the first;
//! - `b_t` (see [`SignRule`]): by default the sign of the close-to-close return, a zero
//!   return carrying the previous sign (the tick rule), `0` before any move;
//! - units: `lambda` is the fractional return per one million quote units of net signed
//!   notional volume (same scaling as Amihud).
//!
//! The regression reports `R^2 = 1 - SSR/SST` (reported as 0 when the returns have no
//! variance) and the slope's standard error `sqrt(SSR/(n-2) / Sxx)`. Caveat: a sign taken from
//! the return itself makes `lambda` positive by construction; read it as a *scale* of price
//! response (comparable across symbols and days), not as a test of informed trading.

use serde::{Deserialize, Serialize};

use crate::bar::{validate_series, Bar};
use crate::error::{finite, LiquidityError, Result};
use crate::volume::PER_MILLION;

/// How a day's volume is signed as buying or selling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignRule {
    /// Sign of `C_t - C_{t-1}`; an unchanged close keeps the previous sign (tick rule).
    #[default]
    CloseToClose,
    /// Sign of `C_t - O_t` (the bar's own direction); `0` when the bar closes at its open.
    CloseVsOpen,
}

/// An ordinary least-squares fit `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Regression {
    /// Estimated slope.
    pub slope: f64,
    /// Estimated intercept.
    pub intercept: f64,
    /// Coefficient of determination, 0 when `y` has no variance.
    pub r_squared: f64,
    /// Standard error of the slope, `sqrt(SSR / (n - 2) / Sxx)`.
    pub slope_std_error: f64,
    /// Number of points.
    pub observations: usize,
}

/// Kyle's lambda of a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KyleLambda {
    /// Fractional return per 1 M quote units of signed notional volume.
    pub lambda: f64,
    /// Regression intercept (fractional return).
    pub intercept: f64,
    /// `R^2` of the regression.
    pub r_squared: f64,
    /// Standard error of `lambda` (same units).
    pub std_error: f64,
    /// Return observations used (`bars - 1`).
    pub observations: usize,
    /// Sign rule used.
    pub sign_rule: SignRule,
}

/// Ordinary least squares of `y` on `x` (with intercept).
///
/// # Errors
/// [`LiquidityError::InvalidInput`] when the lengths differ, there are fewer than 3 points or
/// a point is not finite;
/// [`LiquidityError::Degenerate`] when `x` has no variance.
pub fn ols(x: &[f64], y: &[f64]) -> Result<Regression> {
    if x.len() != y.len() || x.len() < 3 {
        return Err(LiquidityError::InvalidInput {
            field: "points",
            value: x.len().min(y.len()) as f64,
            reason: "need equally many x and y, at least 3",
        });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(LiquidityError::InvalidInput {
            field: "points",
            value: f64::NAN,
            reason: "every x and y must be finite",
        });
    }
    let n = x.len() as f64;
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (xi, yi) in x.iter().zip(y) {
        let (dx, dy) = (xi - mean_x, yi - mean_y);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Relative threshold: a spread of x below rounding noise is no variance.
    if sxx <= f64::EPSILON * x.iter().map(|v| v * v).sum::<f64>() {
        return Err(LiquidityError::Degenerate("regressor has no variance"));
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let ssr = x
        .iter()
        .zip(y)
        .map(|(xi, yi)| (yi - intercept - slope * xi).powi(2))
        .sum::<f64>();
    let r_squared = if syy > 0.0 {
        (1.0 - ssr / syy).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let slope_std_error = (ssr / (n - 2.0) / sxx).sqrt();
    Ok(Regression {
        slope: finite("ols", slope)?,
        intercept: finite("ols", intercept)?,
        r_squared,
        slope_std_error: finite("ols", slope_std_error)?,
        observations: x.len(),
    })
}

/// The signs `b_t` of each bar after the first under `rule`.
fn signs(bars: &[Bar], rule: SignRule) -> Vec<f64> {
    let mut previous = 0.0;
    bars.windows(2)
        .map(|w| {
            let change = match rule {
                SignRule::CloseToClose => w[1].close - w[0].close,
                SignRule::CloseVsOpen => w[1].close - w[1].open,
            };
            let sign = if change > 0.0 {
                1.0
            } else if change < 0.0 {
                -1.0
            } else if rule == SignRule::CloseToClose {
                previous
            } else {
                0.0
            };
            previous = sign;
            sign
        })
        .collect()
}

/// Kyle's lambda of `bars` (all of them).
///
/// # Errors
/// [`LiquidityError::TooFewBars`] below 4 bars (3 returns); invalid or unordered bars;
/// [`LiquidityError::Degenerate`] when the signed volume has no variance (e.g. no volume).
pub fn kyle_lambda(bars: &[Bar], rule: SignRule) -> Result<KyleLambda> {
    validate_series("kyle_lambda", bars, 4)?;
    let x: Vec<f64> = signs(bars, rule)
        .into_iter()
        .zip(&bars[1..])
        .map(|(b, bar)| b * bar.notional_volume() / PER_MILLION)
        .collect();
    let y: Vec<f64> = bars
        .windows(2)
        .map(|w| w[1].close / w[0].close - 1.0)
        .collect();
    let fit = ols(&x, &y).map_err(|e| match e {
        LiquidityError::Degenerate(_) => {
            LiquidityError::Degenerate("signed notional volume has no variance")
        }
        other => other,
    })?;
    Ok(KyleLambda {
        lambda: fit.slope,
        intercept: fit.intercept,
        r_squared: fit.r_squared,
        std_error: fit.slope_std_error,
        observations: fit.observations,
        sign_rule: rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::test_support::{bar, flat};

    #[test]
    fn ols_four_points_by_hand() {
        // x = [1, -1, 2, -2], y = [0.01, -0.02, 0.03, -0.02]
        //   mean x = 0, mean y = 0
        //   Sxx = 1 + 1 + 4 + 4 = 10
        //   Sxy = 0.01 + 0.02 + 0.06 + 0.04 = 0.13  ->  slope = 0.013, intercept = 0
        //   fitted = [0.013, -0.013, 0.026, -0.026]
        //   residuals = [-0.003, -0.007, 0.004, 0.006]
        //   SSR = (9 + 49 + 16 + 36) e-6 = 110e-6;  SST = (1 + 4 + 9 + 4) e-4 = 18e-4
        //   R^2 = 1 - 110e-6 / 18e-4 = 0.9388889
        //   se = sqrt(110e-6 / (4 - 2) / 10) = sqrt(5.5e-6) = 0.0023452079
        let fit = ols(&[1.0, -1.0, 2.0, -2.0], &[0.01, -0.02, 0.03, -0.02]).unwrap();
        assert!((fit.slope - 0.013).abs() < 1e-12);
        assert!(fit.intercept.abs() < 1e-12);
        assert!((fit.r_squared - (1.0 - 110.0 / 1800.0)).abs() < 1e-12);
        assert!((fit.slope_std_error - 5.5e-6f64.sqrt()).abs() < 1e-12);
        assert_eq!(fit.observations, 4);
    }

    #[test]
    fn ols_with_intercept_by_hand() {
        // x = [1, 2, 3, 4], y = [2, 3, 5, 6]: Sxx = 5, Sxy = 7, slope = 1.4,
        // intercept = 4 - 1.4 x 2.5 = 0.5, residuals [0.1, -0.3, 0.3, -0.1], SSR = 0.2,
        // SST = 10, R^2 = 0.98, se = sqrt(0.2 / 2 / 5) = sqrt(0.02)
        let fit = ols(&[1.0, 2.0, 3.0, 4.0], &[2.0, 3.0, 5.0, 6.0]).unwrap();
        assert!((fit.slope - 1.4).abs() < 1e-12);
        assert!((fit.intercept - 0.5).abs() < 1e-12);
        assert!((fit.r_squared - 0.98).abs() < 1e-12);
        assert!((fit.slope_std_error - 0.02f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn kyle_lambda_from_bars_matches_the_hand_regression() {
        // Closes chosen so that r = [+1 %, -2 %, +3 %, -2 %]:
        //   100 -> 101 -> 98.98 -> 101.9494 -> 99.910412
        // Notional volumes on days 1..4 of 1 M, 1 M, 2 M, 2 M, signed by the close-to-close
        // direction (+, -, +, -): x = [1, -1, 2, -2] (millions). That is the regression above:
        // lambda = 0.013 per 1 M, R^2 = 0.9388889, se = 0.0023452079.
        let closes = [100.0, 101.0, 98.98, 101.9494, 99.910_412];
        let notionals = [1e6, 1e6, 1e6, 2e6, 2e6];
        let bars: Vec<Bar> = closes
            .iter()
            .zip(notionals)
            .zip(1..)
            .map(|((&c, n), day)| flat(day, c, n / c))
            .collect();
        let k = kyle_lambda(&bars, SignRule::CloseToClose).unwrap();
        assert!((k.lambda - 0.013).abs() < 1e-9, "{k:?}");
        assert!(k.intercept.abs() < 1e-9);
        assert!((k.r_squared - (1.0 - 110.0 / 1800.0)).abs() < 1e-9);
        assert!((k.std_error - 5.5e-6f64.sqrt()).abs() < 1e-9);
        assert_eq!(k.observations, 4);
    }

    #[test]
    fn sign_rules() {
        // Closes 100, 101, 101 (unchanged), 99; opens chosen against the close-to-close move.
        let bars = [
            bar(1, 100.0, 100.0, 100.0, 100.0, 1.0),
            bar(2, 102.0, 102.0, 101.0, 101.0, 1.0),
            bar(3, 100.0, 101.0, 100.0, 101.0, 1.0),
            bar(4, 99.0, 99.0, 99.0, 99.0, 1.0),
        ];
        // Tick rule: +, + (carried over the unchanged close), -.
        assert_eq!(signs(&bars, SignRule::CloseToClose), vec![1.0, 1.0, -1.0]);
        // Close vs open: 101 < 102 -> -, 101 > 100 -> +, 99 = 99 -> 0.
        assert_eq!(signs(&bars, SignRule::CloseVsOpen), vec![-1.0, 1.0, 0.0]);
        // A flat start has no sign to carry.
        let flat_start = [flat(1, 100.0, 1.0), flat(2, 100.0, 1.0)];
        assert_eq!(signs(&flat_start, SignRule::CloseToClose), vec![0.0]);
    }

    #[test]
    fn too_few_bars_and_degenerate_inputs() {
        let three = [
            flat(1, 100.0, 1.0),
            flat(2, 101.0, 1.0),
            flat(3, 102.0, 1.0),
        ];
        assert_eq!(
            kyle_lambda(&three, SignRule::CloseToClose),
            Err(LiquidityError::TooFewBars {
                what: "kyle_lambda",
                have: 3,
                need: 4
            })
        );
        let no_volume = [
            flat(1, 100.0, 0.0),
            flat(2, 101.0, 0.0),
            flat(3, 100.0, 0.0),
            flat(4, 102.0, 0.0),
        ];
        assert!(matches!(
            kyle_lambda(&no_volume, SignRule::CloseToClose),
            Err(LiquidityError::Degenerate(_))
        ));
        assert!(ols(&[1.0, 2.0], &[1.0, 2.0]).is_err());
        assert!(ols(&[1.0, 2.0, 3.0], &[1.0, 2.0]).is_err());
        assert!(ols(&[1.0, 2.0, f64::NAN], &[1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn constant_returns_give_zero_r_squared() {
        let fit = ols(&[1.0, 2.0, 3.0], &[0.5, 0.5, 0.5]).unwrap();
        assert_eq!(fit.slope, 0.0);
        assert_eq!(fit.r_squared, 0.0);
    }
}
