//! The problems of a refused file: [`LineError`] and [`CsvErrors`] (what the user reads), and
//! how they are collected while parsing.

use std::fmt;

use super::MAX_REPORTED_ERRORS;

/// One problem in the file. `line` is 1-based (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a file was refused: its problems, in line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvErrors {
    /// The first [`MAX_REPORTED_ERRORS`] problems.
    pub errors: Vec<LineError>,
    /// How many more were found.
    pub more: usize,
}

impl fmt::Display for CsvErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.errors.len() + self.more;
        write!(
            f,
            "{total} problem{} found, nothing imported:",
            if total == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        if self.more > 0 {
            write!(f, "\n  ... and {} more", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for CsvErrors {}

/// The problems found so far: the first [`MAX_REPORTED_ERRORS`], then only a count.
pub(super) struct Collector {
    pub(super) errors: Vec<LineError>,
    pub(super) more: usize,
}

impl Collector {
    /// Records a problem on `line`.
    pub(super) fn push(&mut self, line: u64, message: impl Into<String>) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(LineError {
                line,
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    /// Whether no problem was found.
    pub(super) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The problems as the error [`super::parse`] returns.
pub(super) fn finish(errors: Collector) -> CsvErrors {
    CsvErrors {
        errors: errors.errors,
        more: errors.more,
    }
}

/// A reader error as a problem message.
pub(super) fn csv_error_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} field(s), expected {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        csv::ErrorKind::Io(io) => format!("reading the file: {io}"),
        _ => e.to_string(),
    }
}
