//! The one error of the operations services; the API maps each variant to a status.

use alphapulse_domain::{ExchangeError, RepoError, ValidationError};
use thiserror::Error;

/// What an operations use case can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpsError {
    /// Storage failed (or: not found, conflict, ... as the repository says).
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Input that breaks a rule (422).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Nothing to answer about (unknown symbol, no data, no credentials): 404.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The exchange layer failed (503).
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    /// A dependency is not available (no credentials key configured, ...): 503.
    #[error("{0}")]
    Unavailable(String),
    /// A computation failed on stored data (a bug: 500).
    #[error("computation failed: {0}")]
    Internal(String),
}

/// Shorthand for service results.
pub type OpsResult<T> = Result<T, OpsError>;
