//! Daily volatility, the `sigma` of the square-root impact law.
//!
//! ```text
//! sigma_daily = sqrt( (1/(n-1)) * sum_t (r_t - mean r)^2 )
//! ```
//!
//! the sample standard deviation of the `n` simple close-to-close returns of the window, a
//! fraction per day (crypto trades every day, so `sigma_annual = sigma_daily * sqrt(365)`).

use serde::Serialize;

use crate::bar::{simple_returns, validate_series, Bar};
use crate::error::{finite, Result};

/// Volatility of a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Volatility {
    /// Sample standard deviation of daily returns (fraction per day).
    pub daily: f64,
    /// Returns used (`bars - 1`).
    pub observations: usize,
}

/// Daily volatility of `bars` (all of them).
///
/// # Errors
/// [`crate::LiquidityError::TooFewBars`] below 3 bars (2 returns); invalid or unordered bars.
pub fn daily_volatility(bars: &[Bar]) -> Result<Volatility> {
    validate_series("volatility", bars, 3)?;
    let returns = simple_returns(bars);
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Ok(Volatility {
        daily: finite("volatility", var.sqrt())?,
        observations: returns.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::test_support::flat;
    use crate::LiquidityError;

    #[test]
    fn volatility_by_hand() {
        // Closes 100, 110, 99: r = [+0.10, -0.10], mean 0,
        // var = (0.01 + 0.01) / (2 - 1) = 0.02, sigma = 0.1414214
        let bars = [flat(1, 100.0, 1.0), flat(2, 110.0, 1.0), flat(3, 99.0, 1.0)];
        let v = daily_volatility(&bars).unwrap();
        assert!((v.daily - 0.02f64.sqrt()).abs() < 1e-12);
        assert_eq!(v.observations, 2);
    }

    #[test]
    fn constant_prices_have_zero_volatility_and_two_bars_are_too_few() {
        let bars = [
            flat(1, 100.0, 1.0),
            flat(2, 100.0, 1.0),
            flat(3, 100.0, 1.0),
        ];
        assert_eq!(daily_volatility(&bars).unwrap().daily, 0.0);
        assert_eq!(
            daily_volatility(&bars[..2]),
            Err(LiquidityError::TooFewBars {
                what: "volatility",
                have: 2,
                need: 3
            })
        );
    }
}
