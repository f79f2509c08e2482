//! Errors shared by the ports: what a caller can act on, never how the storage failed.
//!
//! Layering: each adapter crate has its own error enum (`alphapulse_persistence::Error`, ...)
//! and converts into [`RepoError`] at the port boundary; the HTTP layer maps `RepoError` to
//! status codes in one place.

use thiserror::Error;

/// A value failed validation; `field` names the input field for 422 answers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The offending input field (`snake_case`, as in the JSON contract).
    pub field: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

impl ValidationError {
    /// Builds a validation error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The failure of a port call. `Clone` so one shared computation's failure can be handed to
/// every caller that waited for it.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The entity does not exist, or belongs to another tenant (never distinguish the two).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or state conflict (duplicate slug, email taken, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A plan limit (such as `max_users`) would be exceeded.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// The input broke a rule the storage enforces.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The backing store is unreachable or overloaded; retrying later may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected storage failure.
    #[error("internal storage error: {0}")]
    Internal(String),
}
