//! Descriptive statistics and input checks shared by the other modules.
//!
//! Conventions:
//! - mean: arithmetic mean.
//! - variance, standard deviation and covariance are *sample* statistics with Bessel's
//!   correction (divide by `n - 1`), the unbiased estimator used by every textbook estimate of
//!   volatility from a return history (e.g. Hull, *Options, Futures and Other Derivatives*,
//!   "Estimating volatility from historical data"). They need at least two observations.
//! - Sums use the two-pass algorithm (subtract the mean first), which avoids the catastrophic
//!   cancellation of `E[x²] − E[x]²` on returns of order 1e-3 (Chan, Golub & LeVeque, "Algorithms
//!   for computing the sample variance", *The American Statistician* 37(3), 1983).

use crate::error::{Result, RiskError};

/// Observations a sample variance or correlation needs.
pub const MIN_SAMPLE: usize = 2;

/// Fails with [`RiskError::NonFinite`] at the first NaN or infinity, so no NaN can reach a
/// result through an input.
///
/// # Errors
/// [`RiskError::NonFinite`].
pub fn check_finite(values: &[f64], what: &'static str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(RiskError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Fails with [`RiskError::TooFewObservations`] when `values` has fewer than `need` items.
///
/// # Errors
/// [`RiskError::TooFewObservations`].
pub fn check_len(values: &[f64], need: usize) -> Result<()> {
    if values.len() < need {
        return Err(RiskError::TooFewObservations {
            have: values.len(),
            need,
        });
    }
    Ok(())
}

/// Checks a probability-like parameter lies strictly inside (0, 1).
///
/// # Errors
/// [`RiskError::InvalidParameter`] naming `name`.
pub fn check_open_unit(value: f64, name: &'static str) -> Result<()> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(RiskError::InvalidParameter {
            name,
            reason: "must lie strictly between 0 and 1",
        })
    }
}

/// Checks a parameter is finite and strictly positive.
///
/// # Errors
/// [`RiskError::InvalidParameter`] naming `name`.
pub fn check_positive(value: f64, name: &'static str) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(RiskError::InvalidParameter {
            name,
            reason: "must be finite and greater than 0",
        })
    }
}

/// Checks a parameter is finite and not negative.
///
/// # Errors
/// [`RiskError::InvalidParameter`] naming `name`.
pub fn check_non_negative(value: f64, name: &'static str) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(RiskError::InvalidParameter {
            name,
            reason: "must be finite and at least 0",
        })
    }
}

/// `Some(x)` when `x` is finite, `None` otherwise: the last guard before a value enters a result.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Arithmetic mean.
///
/// # Errors
/// Empty input or a non-finite value.
pub fn mean(values: &[f64]) -> Result<f64> {
    check_len(values, 1)?;
    check_finite(values, "series")?;
    Ok(mean_unchecked(values))
}

/// Sample variance (divisor `n - 1`).
///
/// # Errors
/// Fewer than two values or a non-finite value.
pub fn variance(values: &[f64]) -> Result<f64> {
    check_len(values, MIN_SAMPLE)?;
    check_finite(values, "series")?;
    let m = mean_unchecked(values);
    Ok(sum_sq_dev(values, m) / (values.len() - 1) as f64)
}

/// Sample standard deviation (divisor `n - 1`).
///
/// # Errors
/// Fewer than two values or a non-finite value.
pub fn std_dev(values: &[f64]) -> Result<f64> {
    variance(values).map(f64::sqrt)
}

/// Sample covariance (divisor `n - 1`) of two series of equal length.
///
/// # Errors
/// Different lengths, fewer than two values or a non-finite value.
pub fn covariance(x: &[f64], y: &[f64]) -> Result<f64> {
    check_pair(x, y)?;
    let (mx, my) = (mean_unchecked(x), mean_unchecked(y));
    let s: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    Ok(s / (x.len() - 1) as f64)
}

/// Checks two series for a pairwise statistic: same length, at least two values, all finite.
///
/// # Errors
/// [`RiskError::LengthMismatch`], [`RiskError::TooFewObservations`], [`RiskError::NonFinite`].
pub fn check_pair(x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(RiskError::LengthMismatch {
            what: "second series",
            expected: x.len(),
            got: y.len(),
        });
    }
    check_len(x, MIN_SAMPLE)?;
    check_finite(x, "first series")?;
    check_finite(y, "second series")
}

pub(crate) fn mean_unchecked(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

pub(crate) fn sum_sq_dev(values: &[f64], m: f64) -> f64 {
    values.iter().map(|v| (v - m) * (v - m)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_statistics_of_a_known_series() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32,
        // sample variance 32 / 7, population variance 4.
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&x).unwrap(), 5.0);
        assert!((variance(&x).unwrap() - 32.0 / 7.0).abs() < 1e-12);
        assert!((std_dev(&x).unwrap() - (32.0_f64 / 7.0).sqrt()).abs() < 1e-12);
        // cov(x, x) = var(x).
        assert!((covariance(&x, &x).unwrap() - 32.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn too_few_and_non_finite_are_typed_errors() {
        assert_eq!(
            variance(&[1.0]),
            Err(RiskError::TooFewObservations { have: 1, need: 2 })
        );
        assert_eq!(
            mean(&[]),
            Err(RiskError::TooFewObservations { have: 0, need: 1 })
        );
        assert_eq!(
            mean(&[1.0, f64::NAN]),
            Err(RiskError::NonFinite {
                what: "series",
                index: 1
            })
        );
        assert!(matches!(
            covariance(&[1.0, 2.0], &[1.0]),
            Err(RiskError::LengthMismatch { .. })
        ));
    }
}
