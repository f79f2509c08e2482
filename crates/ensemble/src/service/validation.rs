//! Validation helpers shared by the use cases: collecting every invalid field before
//! answering, agent names, lookbacks.

use super::{
    error::{EnsembleError, FieldIssue},
    limits::MAX_AGENT_LEN,
};

/// The invalid fields found so far.
#[derive(Debug, Default)]
pub(super) struct Issues(pub(super) Vec<FieldIssue>);

impl Issues {
    /// Records that `field` is invalid.
    pub(super) fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldIssue {
            field: field.into(),
            message: message.into(),
        });
    }

    /// [`EnsembleError::Invalid`] with every issue, if there is any.
    pub(super) fn finish(self) -> Result<(), EnsembleError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(EnsembleError::Invalid(self.0))
        }
    }
}

/// [`EnsembleError::Invalid`] for one field.
pub(super) fn invalid(field: &str, message: impl Into<String>) -> EnsembleError {
    EnsembleError::Invalid(vec![FieldIssue {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// What is wrong with an agent id or type, if anything.
pub(super) fn agent_name_issue(value: &str) -> Option<String> {
    let len = value.chars().count();
    if len == 0 || len > MAX_AGENT_LEN {
        return Some(format!("must be 1 to {MAX_AGENT_LEN} characters"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    (!value.chars().all(allowed))
        .then(|| "may contain only letters, digits, '_', '-', '.' and ':'".to_owned())
}

/// A `lookback`: `default` when absent, else `1..=max`.
pub(super) fn parse_lookback(
    value: Option<i64>,
    (default, max): (u32, u32),
) -> Result<u32, EnsembleError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=i64::from(max)).contains(&v) => Ok(v as u32),
        Some(_) => Err(invalid("lookback", format!("must be between 1 and {max}"))),
    }
}
