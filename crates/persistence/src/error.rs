//! The persistence crate's error type, and its mapping onto the domain's [`RepoError`].
//!
//! Diesel and r2d2 errors never leave this crate: repositories return [`Error`](enum@Error) internally and
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
            // Constraint, table and column names are the schema's business: they are logged by
            // the caller at most, never part of an answer. Repositories that know which field
            // a client sent map these to a message naming it (e.g. "slug ... is taken").
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "unique violation");
                Error::Conflict("conflict with an existing record".to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "foreign key violation");
                Error::NotFound("referenced record")
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "check violation");
                Error::Invalid(ValidationError::new(
                    "body",
                    "a value is outside the range the stored data allows",
                ))
            }
            DieselError::DatabaseError(DatabaseErrorKind::NotNullViolation, info) => {
                tracing::debug!(column = ?info.column_name(), "not-null violation");
                Error::Invalid(ValidationError::new("body", "a required value is missing"))
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Error::Unavailable(info.message().to_owned()),
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

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorInformation;

    use super::*;

    /// A database error as PostgreSQL reports it, naming schema internals.
    #[derive(Debug)]
    struct Reported;

    impl DatabaseErrorInformation for Reported {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint \"regime_history_tenant_id_day_key\""
        }
        fn details(&self) -> Option<&str> {
            Some("Key (tenant_id, day)=(...) already exists.")
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            Some("regime_history")
        }
        fn column_name(&self) -> Option<&str> {
            Some("day")
        }
        fn constraint_name(&self) -> Option<&str> {
            Some("regime_history_tenant_id_day_key")
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn mapped_database_errors_never_name_schema_internals() {
        for kind in [
            DatabaseErrorKind::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation,
            DatabaseErrorKind::CheckViolation,
            DatabaseErrorKind::NotNullViolation,
        ] {
            let mapped = RepoError::from(Error::from(DieselError::DatabaseError(
                kind,
                Box::new(Reported),
            )));
            assert!(
                !matches!(mapped, RepoError::Internal(_)),
                "{kind:?} is a client error, not a bug: {mapped:?}"
            );
            let text = mapped.to_string();
            for internal in ["regime_history", "tenant_id", "day_key", "day"] {
                assert!(
                    !text.contains(internal),
                    "{kind:?} leaks {internal:?}: {text}"
                );
            }
        }
    }
}
