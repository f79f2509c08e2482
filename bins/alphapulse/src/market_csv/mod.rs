//! Daily OHLCV candles from CSV (`alphapulse market import --csv FILE`).
//!
//! The header names the columns `symbol,open_time,open,high,low,close,volume` (in any order,
//! each exactly once, nothing else). `open_time` is a day (`2024-01-31`) or an RFC 3339 time
//! that falls on a UTC midnight (`2024-01-31T00:00:00Z`): the store keeps daily bars. Prices and
//! volumes are parsed exactly as decimals (no floating point), with at most
//! [`MAX_SCALE`] decimal places and below 10^[`MAX_INTEGER_DIGITS`] (the columns are
//! `NUMERIC(36, 18)`).
//!
//! The whole file is parsed and checked before anything is written: every problem is reported
//! with its line number (up to [`MAX_REPORTED_ERRORS`] of them), and a file with any problem
//! yields no candles at all.
//!
//! Modules: `header` (the column layout), `row` (one row's values and checks), `errors` (the
//! problems, as reported), `report` (the line an import prints). This module holds [`parse`],
//! which reads the file through them.

mod errors;
mod header;
mod report;
mod row;

use std::{collections::HashMap, io::Read};

use alphapulse_domain::{Candle, Symbol};
use chrono::{DateTime, Utc};

pub use errors::{CsvErrors, LineError};
pub use report::import_summary;

use self::{
    errors::{csv_error_message, finish, Collector},
    header::Layout,
    row::parse_row,
};

/// The columns of the file, in the documented order.
pub const COLUMNS: [&str; 7] = [
    "symbol",
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
];
/// Most decimal places a value may have.
pub const MAX_SCALE: u32 = 18;
/// Values must be below 10^this.
pub const MAX_INTEGER_DIGITS: u32 = 18;
/// At most this many problems are listed; the count of the rest is given.
pub const MAX_REPORTED_ERRORS: usize = 20;
/// A progress line is logged every this many rows.
pub const PROGRESS_EVERY: usize = 100_000;

/// Parses a whole file. `Ok` holds every candle in file order; `Err` lists the problems (and
/// no candle is returned).
///
/// # Errors
/// [`CsvErrors`] for any unreadable, malformed or inconsistent content.
pub fn parse<R: Read>(input: R) -> Result<Vec<Candle>, CsvErrors> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut errors = Collector {
        errors: Vec::new(),
        more: 0,
    };
    let header = match reader.headers() {
        Ok(header) if header.iter().any(|h| !h.trim().is_empty()) => header.clone(),
        Ok(_) => {
            errors.push(
                1,
                format!("empty file: expected the header {}", COLUMNS.join(",")),
            );
            return Err(finish(errors));
        }
        Err(e) => {
            errors.push(1, csv_error_message(&e));
            return Err(finish(errors));
        }
    };
    let Some(layout) = Layout::from_header(&header, &mut errors) else {
        return Err(finish(errors));
    };

    let mut candles = Vec::new();
    // (symbol, open_time) -> line, to refuse a day given twice (the upsert could not apply it).
    let mut seen: HashMap<(Symbol, DateTime<Utc>), u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                errors.push(line, csv_error_message(&e));
                // A broken quote or invalid UTF-8 may hide the rest of the file; keep going
                // only for errors the reader recovers from.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows += 1;
        if rows.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(rows, "parsing the CSV file");
        }
        if let Some(candle) = parse_row(&layout, &record, line, &mut errors) {
            let key = (candle.symbol.clone(), candle.open_time);
            if let Some(first) = seen.get(&key) {
                errors.push(
                    line,
                    format!(
                        "{} {} was already given on line {first}",
                        candle.symbol,
                        candle.open_time.date_naive()
                    ),
                );
                continue;
            }
            seen.insert(key, line);
            candles.push(candle);
        }
    }
    if !errors.is_empty() {
        return Err(finish(errors));
    }
    Ok(candles)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
