//! Field checks that collect every invalid field, so one 422 answer lists them all.

use alphapulse_domain::ValidationError;

use crate::AdminError;

/// Collected field errors.
#[derive(Debug, Default)]
pub struct Checks(Vec<ValidationError>);

impl Checks {
    /// Records the error of `result`, if any, and passes the value on.
    pub fn check<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Records an error of `field`.
    pub fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    /// Fails `field` when `bad` holds.
    pub fn require(&mut self, ok: bool, field: &'static str, message: &str) {
        if !ok {
            self.fail(field, message);
        }
    }

    /// `Err` with every recorded error, if any.
    ///
    /// # Errors
    /// [`AdminError::Invalid`] when something was recorded.
    pub fn finish(self) -> Result<(), AdminError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AdminError::Invalid(self.0))
        }
    }
}
