//! The service's error, [`EnsembleError`], and [`FieldIssue`], one invalid input field.

use alphapulse_domain::RepoError;
use serde::Serialize;
use thiserror::Error;

/// One invalid input field (the API answers 422 with these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    /// The field, as sent (`signals[2].confidence`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Failures of the service.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnsembleError {
    /// Storage failed, or the ensemble does not exist in the tenant (`NotFound`).
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Well-formed but invalid input.
    #[error("validation failed: {}", summary(.0))]
    Invalid(Vec<FieldIssue>),
    /// The ensemble's state does not allow the change.
    #[error("{0}")]
    Conflict(String),
}

fn summary(issues: &[FieldIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("{}: {}", i.field, i.message))
        .collect::<Vec<_>>()
        .join("; ")
}
