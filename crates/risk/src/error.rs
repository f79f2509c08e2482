//! The one error type of the crate.
//!
//! Every function that can be handed unusable input returns [`RiskError`]; a value that is
//! *mathematically undefined* for valid input (a correlation with a constant series, a Sharpe
//! ratio with zero volatility) is an `Option::None` in the result instead, so callers can tell
//! "you asked wrongly" (422 at the API) from "there is no number" (JSON `null`).

use thiserror::Error;

/// Why a risk calculation could not run.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum RiskError {
    /// A series is shorter than the calculation needs.
    #[error("too few observations: have {have}, need at least {need}")]
    TooFewObservations {
        /// Observations given.
        have: usize,
        /// Observations the calculation needs.
        need: usize,
    },
    /// Fewer series than the calculation needs (a correlation matrix needs two).
    #[error("too few series: have {have}, need at least {need}")]
    TooFewSeries {
        /// Series given.
        have: usize,
        /// Series the calculation needs.
        need: usize,
    },
    /// Two inputs that must have the same length do not.
    #[error("length mismatch in {what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// A value in an input series is NaN or infinite.
    #[error("non-finite value in {what} at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position of the first bad value.
        index: usize,
    },
    /// A price or portfolio value is zero or negative, so no return can be formed from it.
    #[error("non-positive value in {what} at index {index}")]
    NonPositive {
        /// Which input.
        what: &'static str,
        /// Position of the first bad value.
        index: usize,
    },
    /// A scalar parameter is outside its valid range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The valid range or rule it breaks.
        reason: &'static str,
    },
    /// An iterative solver did not reach its tolerance (e.g. equal-risk weights for a
    /// covariance matrix that is singular in a long-only direction).
    #[error("{what} did not converge within {iterations} iterations")]
    NoConvergence {
        /// The calculation.
        what: &'static str,
        /// Iterations run.
        iterations: usize,
    },
    /// The chosen method needs an input that was not given (e.g. a covariance matrix).
    #[error("missing input: {what}")]
    MissingInput {
        /// The input that is needed.
        what: &'static str,
    },
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, RiskError>;
