use alphapulse_domain::{ExchangeError, RepoError, ValidationError};
use thiserror::Error;

use crate::RiskError;

/// Why a risk use case failed.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The tenant's exchange account could not be read.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    /// A symbol has no market data at all (404 naming it).
    #[error("Symbol {0}")]
    UnknownSymbol(String),
    /// Too few daily returns for the calculation (422 saying how many there are).
    #[error("{subject}: {have} daily returns, at least {need} needed")]
    TooFewObservations {
        /// What is short of data (a symbol, or "portfolio").
        subject: String,
        /// The query field the caller can change.
        field: &'static str,
        /// Returns available.
        have: usize,
        /// Returns needed.
        need: usize,
    },
    /// Invalid input (422).
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    /// Not one of the five regimes (404 listing them).
    #[error("Regime {0:?} (known: bull, bear, sideways, crisis, recovery)")]
    UnknownRegime(String),
    /// The tenant has no risk budget yet (404).
    #[error("Risk budget (POST /api/v1/risk-budget/rebalance creates the first one)")]
    NoBudget,
    /// An `Idempotency-Key` is still in use by its first request (409).
    #[error("A request with this Idempotency-Key is still in progress")]
    KeyInProgress,
    /// An `Idempotency-Key` was used with another request (409).
    #[error("Idempotency-Key was already used with a different request")]
    KeyMismatch,
    /// The maths refused its input: a bug in how this service prepared it (500).
    #[error("risk calculation failed: {0}")]
    Maths(#[from] RiskError),
}

impl ServiceError {
    /// A 422 for one field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![ValidationError::new(field, message)])
    }
}

impl From<ValidationError> for ServiceError {
    fn from(err: ValidationError) -> Self {
        Self::Invalid(vec![err])
    }
}

impl From<Vec<ValidationError>> for ServiceError {
    fn from(errors: Vec<ValidationError>) -> Self {
        Self::Invalid(errors)
    }
}
