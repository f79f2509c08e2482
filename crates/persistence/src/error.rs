//! The persistence crate's error type, and its mapping onto the domain's [`RepoError`].
//!
//! Diesel and r2d2 errors never leave this crate: repositories return [`Error`] internally and
//! [`RepoError`] at the port boundary.

use alphapulse_domain::{RepoError, ValidationError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use thiserror::Error;

/// What can go wrong in the persistence layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// No row matched (or the row belongs to another tenant: row-level security hides it).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique constraint was violated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A plan limit would be exceeded.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// Input rejected by validation before or by a check constraint.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No pooled connection could be had in time, or the server is unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value did not parse into its domain type (a bug or a manual edit).
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        /// The table the row came from.
        table: &'static str,
        /// What did not parse.
        message: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    /// Running migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<DieselError> for Error {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Error::NotFound("row"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict(info.constraint_name().unwrap_or("unique").to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info) => {
                Error::Invalid(ValidationError::new(
                    "body",
                    format!("violates {}", info.constraint_name().unwrap_or("a check")),
                ))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::Unavailable(info.message().to_owned())
            }
            other => Error::Database(other),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(err: r2d2::Error) -> Self {
        Error::Unavailable(err.to_string())
    }
}

impl From<Error> for RepoError {
    fn from(err: Error) -> Self {
        match err {
            Error::NotFound(what) => RepoError::NotFound(what),
            Error::Conflict(what) => RepoError::Conflict(what),
            Error::LimitReached(what) => RepoError::LimitReached(what),
            Error::Invalid(v) => RepoError::Invalid(v),
            Error::Unavailable(why) => RepoError::Unavailable(why),
            other => RepoError::Internal(other.to_string()),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
