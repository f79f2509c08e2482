//! The console's error, [`ConsoleError`]: what the API maps to statuses.

use alphapulse_domain::{RepoError, ValidationError};
use alphapulse_ensemble::EnsembleError;
use thiserror::Error;

/// Failures of the console services.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// Storage failed (or a stored entity is not found / conflicts).
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The prediction failed (validation, unknown ensemble, storage).
    #[error(transparent)]
    Ensemble(#[from] EnsembleError),
    /// Well-formed but invalid input (every field that is wrong).
    #[error("validation failed: {}", summary(.0))]
    Invalid(Vec<ValidationError>),
    /// The caller's role may not do this (e.g. staff changing settings).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown, or not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The state does not allow the change.
    #[error("{0}")]
    Conflict(String),
}

impl From<ValidationError> for ConsoleError {
    fn from(e: ValidationError) -> Self {
        ConsoleError::Invalid(vec![e])
    }
}

fn summary(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
