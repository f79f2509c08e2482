//! The one error type of this crate.
//!
//! Every fallible function returns [`LiquidityError`]. The variants are caller mistakes or
//! data problems (the API maps them to 422), never internal failures: the crate does no I/O.

use chrono::NaiveDate;
use thiserror::Error;

/// Why a liquidity computation was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LiquidityError {
    /// Not enough candles for the estimator or window asked for.
    #[error("too few bars for {what}: have {have}, need {need}")]
    TooFewBars {
        /// What was being computed (e.g. `"kyle_lambda"`).
        what: &'static str,
        /// Bars given.
        have: usize,
        /// Bars required.
        need: usize,
    },
    /// A candle with impossible values (non-finite, non-positive price, `high < low`, close
    /// outside the range, negative volume).
    #[error("invalid bar on {date}: {reason}")]
    InvalidBar {
        /// Date of the offending bar.
        date: NaiveDate,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Candles not in strictly increasing date order.
    #[error("bars out of order: {date} does not come after {previous}")]
    Unordered {
        /// Date of the bar before.
        previous: NaiveDate,
        /// Date of the bar that does not follow it.
        date: NaiveDate,
    },
    /// An input number out of its domain (a negative or zero size, a rate above 1, NaN...).
    #[error("invalid {field}: {value} ({reason})")]
    InvalidInput {
        /// Name of the input.
        field: &'static str,
        /// Value given.
        value: f64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// No traded volume in the window, so impact and execution plans are undefined.
    #[error("no traded volume in the window (average daily volume is zero)")]
    ZeroAdv,
    /// A regression or estimator whose inputs carry no information (e.g. signed volume with no
    /// variance).
    #[error("degenerate estimate: {0}")]
    Degenerate(&'static str),
    /// A stress-scenario name that is not one of the presets.
    #[error(
        "unknown stress scenario {0:?}: expected market_crash, flash_crash or liquidity_crisis"
    )]
    UnknownScenario(String),
    /// An urgency that is not `low`, `normal` or `high`.
    #[error("unknown urgency {0:?}: expected low, normal or high")]
    UnknownUrgency(String),
    /// A result that overflowed to infinity or NaN (inputs of absurd magnitude).
    #[error("numeric overflow computing {0}")]
    NonFinite(&'static str),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LiquidityError>;

/// `value` if it is finite and `> 0`, otherwise [`LiquidityError::InvalidInput`].
pub(crate) fn positive(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(LiquidityError::InvalidInput {
            field,
            value,
            reason: "must be a positive finite number",
        })
    }
}

/// `value` if it is finite and `>= 0`, otherwise [`LiquidityError::InvalidInput`].
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(LiquidityError::InvalidInput {
            field,
            value,
            reason: "must be a finite number >= 0",
        })
    }
}

/// `value` if it lies in `(0, 1]`, otherwise [`LiquidityError::InvalidInput`].
pub(crate) fn fraction(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(LiquidityError::InvalidInput {
            field,
            value,
            reason: "must lie in (0, 1]",
        })
    }
}

/// `value` if it is finite, otherwise [`LiquidityError::NonFinite`].
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(LiquidityError::NonFinite(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_bars_says_have_and_need() {
        let e = LiquidityError::TooFewBars {
            what: "kyle_lambda",
            have: 2,
            need: 4,
        };
        assert_eq!(
            e.to_string(),
            "too few bars for kyle_lambda: have 2, need 4"
        );
    }

    #[test]
    fn validators_reject_zero_negative_and_nan() {
        assert!(positive("quantity", 0.0).is_err());
        assert!(positive("quantity", -1.0).is_err());
        assert!(positive("quantity", f64::NAN).is_err());
        assert!(positive("quantity", f64::INFINITY).is_err());
        assert_eq!(positive("quantity", 2.5), Ok(2.5));
        assert_eq!(non_negative("x", 0.0), Ok(0.0));
        assert!(non_negative("x", -0.1).is_err());
        assert!(fraction("rate", 1.5).is_err());
        assert!(fraction("rate", 0.0).is_err());
        assert_eq!(fraction("rate", 1.0), Ok(1.0));
        assert!(finite("x", f64::NAN).is_err());
    }
}
