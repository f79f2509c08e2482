//! The errors of the administration services.

use alphapulse_domain::{RepoError, ValidationError};

/// What an administration call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// One or more input fields are invalid (all of them are listed).
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
    /// The caller may not do this (beyond the route's permission: grant rules, other tenants).
    #[error("{0}")]
    Forbidden(String),
    /// The target does not exist or is not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change conflicts with the current state (own role, the platform tenant).
    #[error("{0}")]
    Conflict(String),
    /// Storage failed (not found, conflict and limits arrive here too).
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<ValidationError> for AdminError {
    fn from(err: ValidationError) -> Self {
        AdminError::Invalid(vec![err])
    }
}
