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

use std::{collections::HashMap, fmt, io::Read};

use alphapulse_domain::{Candle, Symbol};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

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

struct Collector {
    errors: Vec<LineError>,
    more: usize,
}

impl Collector {
    fn push(&mut self, line: u64, message: impl Into<String>) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(LineError {
                line,
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Where each column is in a record.
struct Layout {
    index: [usize; 7],
}

impl Layout {
    fn from_header(header: &csv::StringRecord, errors: &mut Collector) -> Option<Self> {
        let mut found: [Option<usize>; 7] = [None; 7];
        for (position, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            let lower = name.to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == lower) {
                Some(column) if found[column].is_some() => {
                    errors.push(1, format!("column {name:?} appears more than once"));
                }
                Some(column) => found[column] = Some(position),
                None => errors.push(
                    1,
                    format!("unknown column {name:?} (expected {})", COLUMNS.join(",")),
                ),
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(found)
            .filter(|(_, f)| f.is_none())
            .map(|(c, _)| *c)
            .collect();
        if !missing.is_empty() {
            errors.push(1, format!("missing column(s): {}", missing.join(", ")));
        }
        if !errors.is_empty() {
            return None;
        }
        let mut index = [0; 7];
        for (slot, f) in index.iter_mut().zip(found) {
            *slot = f?;
        }
        Some(Self { index })
    }

    fn field<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.index[column]).unwrap_or("").trim()
    }
}

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

fn finish(errors: Collector) -> CsvErrors {
    CsvErrors {
        errors: errors.errors,
        more: errors.more,
    }
}

fn csv_error_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} field(s), expected {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        csv::ErrorKind::Io(io) => format!("reading the file: {io}"),
        _ => e.to_string(),
    }
}

fn parse_row(
    layout: &Layout,
    record: &csv::StringRecord,
    line: u64,
    errors: &mut Collector,
) -> Option<Candle> {
    let before = errors.errors.len() + errors.more;
    let symbol = match Symbol::parse(layout.field(record, 0)) {
        Ok(symbol) => Some(symbol),
        Err(e) => {
            errors.push(
                line,
                format!("symbol {:?}: {}", layout.field(record, 0), e.message),
            );
            None
        }
    };
    let open_time = match parse_open_time(layout.field(record, 1)) {
        Ok(t) => Some(t),
        Err(message) => {
            errors.push(line, format!("open_time: {message}"));
            None
        }
    };
    let mut values = [Decimal::ZERO; 5];
    let mut numbers_ok = true;
    for (slot, column) in values.iter_mut().zip(2..7) {
        match parse_decimal(layout.field(record, column)) {
            Ok(v) => *slot = v,
            Err(message) => {
                errors.push(line, format!("{}: {message}", COLUMNS[column]));
                numbers_ok = false;
            }
        }
    }
    let [open, high, low, close, volume] = values;
    if numbers_ok {
        for (name, v) in [
            ("open", open),
            ("high", high),
            ("low", low),
            ("close", close),
        ] {
            if v <= Decimal::ZERO {
                errors.push(line, format!("{name} must be greater than 0, got {v}"));
            }
        }
        if volume < Decimal::ZERO {
            errors.push(line, format!("volume must not be negative, got {volume}"));
        }
        if high < low {
            errors.push(line, format!("high {high} is below low {low}"));
        } else {
            if high < open.max(close) {
                errors.push(
                    line,
                    format!("high {high} is below the open or close ({open}, {close})"),
                );
            }
            if low > open.min(close) {
                errors.push(
                    line,
                    format!("low {low} is above the open or close ({open}, {close})"),
                );
            }
        }
    }
    if errors.errors.len() + errors.more != before {
        return None;
    }
    Some(Candle {
        symbol: symbol?,
        open_time: open_time?,
        open,
        high,
        low,
        close,
        volume,
    })
}

/// `YYYY-MM-DD`, or RFC 3339 on a UTC midnight.
fn parse_open_time(text: &str) -> Result<DateTime<Utc>, String> {
    if text.is_empty() {
        return Err("missing".to_owned());
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(NaiveTime::MIN).and_utc());
    }
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|_| format!("{text:?} is neither YYYY-MM-DD nor an RFC 3339 time"))?
        .with_timezone(&Utc);
    if time.time() != NaiveTime::MIN {
        return Err(format!(
            "{text:?} is not a UTC midnight ({time}); daily candles open at 00:00:00Z"
        ));
    }
    Ok(time)
}

/// An exact decimal (`123.45`, `-1`, `1e-3` are accepted forms; no thousands separators).
fn parse_decimal(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("missing".to_owned());
    }
    let value = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    }
    .map_err(|_| format!("{text:?} is not a number"))?;
    if value.scale() > MAX_SCALE && value.normalize().scale() > MAX_SCALE {
        return Err(format!("{text:?} has more than {MAX_SCALE} decimal places"));
    }
    if value.abs() >= Decimal::from(10u64.pow(MAX_INTEGER_DIGITS)) {
        return Err(format!(
            "{text:?} is too large (at most {MAX_INTEGER_DIGITS} digits before the point)"
        ));
    }
    Ok(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<Candle> {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: &str) -> CsvErrors {
        match parse(text.as_bytes()) {
            Ok(c) => panic!("parsed {} candles from a bad file", c.len()),
            Err(e) => e,
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    const HEADER: &str = "symbol,open_time,open,high,low,close,volume\n";

    #[test]
    fn good_file_with_both_date_forms() {
        let text = format!(
            "{HEADER}BTCUSDT,2024-01-01,42283.58,44184.10,42180.77,44179.55,27174.29903\n\
             btcusdt,2024-01-02T00:00:00Z,44179.55,45879.63,44148.34,44946.91,65146.40661\n\
             \n\
             ETHUSDT, 2024-01-02T01:00:00+01:00 ,0.000000000000000001,2,0.000000000000000001,1.5,0\n"
        );
        let candles = ok(&text);
        assert_eq!(candles.len(), 3);
        let c = &candles[0];
        assert_eq!(c.symbol.as_str(), "BTCUSDT");
        assert_eq!(c.open_time.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(
            (c.open, c.high, c.low, c.close, c.volume),
            (
                dec("42283.58"),
                dec("44184.10"),
                dec("42180.77"),
                dec("44179.55"),
                dec("27174.29903")
            )
        );
        // Exact decimals: no binary floating point on the way.
        assert_eq!(c.volume.to_string(), "27174.29903");
        assert_eq!(candles[1].symbol.as_str(), "BTCUSDT");
        assert_eq!(
            candles[1].open_time.to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        // +01:00 at 01:00 is a UTC midnight.
        assert_eq!(
            candles[2].open_time.to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        assert_eq!(candles[2].open.to_string(), "0.000000000000000001");
        assert_eq!(candles[2].volume, Decimal::ZERO);
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let text = "volume,close,low,high,open,open_time,SYMBOL\n10,2,1,3,1.5,2024-03-01,SOLUSDT\n";
        let c = &ok(text)[0];
        assert_eq!(c.symbol.as_str(), "SOLUSDT");
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (dec("1.5"), dec("3"), dec("1"), dec("2"))
        );
        assert_eq!(c.volume, dec("10"));
    }

    #[test]
    fn header_problems_are_on_line_1() {
        let e = err("symbol,open_time,open,high,low,close,volume,extra\n");
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].line, 1);
        assert!(
            e.errors[0].message.contains("unknown column \"extra\""),
            "{e}"
        );

        let e = err("symbol,open_time,open,high,low,close\nBTCUSDT,2024-01-01,1,1,1,1\n");
        assert_eq!(e.errors[0].line, 1);
        assert!(
            e.errors[0].message.contains("missing column(s): volume"),
            "{e}"
        );

        let e = err("symbol,symbol,open_time,open,high,low,close,volume\n");
        assert!(e.errors[0].message.contains("more than once"), "{e}");

        let e = err("");
        assert_eq!(e.errors[0].line, 1);
        assert!(e.errors[0].message.contains("empty file"), "{e}");
    }

    #[test]
    fn header_only_is_no_candles() {
        assert!(ok(HEADER).is_empty());
    }

    fn single_error(row: &str) -> LineError {
        let text = format!("{HEADER}BTCUSDT,2024-01-01,1,2,0.5,1.5,10\n{row}\n");
        let e = err(&text);
        assert_eq!(e.errors.len(), 1, "{e}");
        assert!(e.to_string().contains("nothing imported"));
        e.errors[0].clone()
    }

    #[test]
    fn each_kind_of_row_error_names_its_line() {
        let cases = [
            (
                "BTCUSDT,2024-01-02,1,2,abc,1.5,10",
                "low: \"abc\" is not a number",
            ),
            (
                "BTCUSDT,2024-01-02,1,2,1,1.5,1,000",
                "8 field(s), expected 7",
            ),
            ("BTCUSDT,2024-01-02,1,2,1,1.5", "6 field(s), expected 7"),
            ("BTCUSDT,2024-01-02,1,1,2,1.5,10", "high 1 is below low 2"),
            (
                "BTCUSDT,2024-01-02,1,1.2,0.9,1.5,10",
                "below the open or close",
            ),
            (
                "BTCUSDT,2024-01-02,1,2,1.2,1.5,10",
                "above the open or close",
            ),
            (
                "BTCUSDT,2024-01-02,1,2,0,1.5,10",
                "low must be greater than 0",
            ),
            (
                "BTCUSDT,2024-01-02,1,2,1,1.5,-1",
                "volume must not be negative",
            ),
            ("BTC-USDT,2024-01-02,1,2,1,1.5,10", "symbol \"BTC-USDT\""),
            (
                "BTCUSDT,02/01/2024,1,2,1,1.5,10",
                "neither YYYY-MM-DD nor an RFC 3339",
            ),
            (
                "BTCUSDT,2024-01-02T12:00:00Z,1,2,1,1.5,10",
                "not a UTC midnight",
            ),
            ("BTCUSDT,2024-02-30,1,2,1,1.5,10", "open_time"),
            ("BTCUSDT,,1,2,1,1.5,10", "open_time: missing"),
            ("BTCUSDT,2024-01-02,1,2,1,,10", "close: missing"),
            (
                "BTCUSDT,2024-01-02,1,2,1,1.5,0.0000000000000000001",
                "more than 18 decimal places",
            ),
            (
                "BTCUSDT,2024-01-02,1,1000000000000000000,1,1.5,10",
                "too large",
            ),
            ("BTCUSDT,2024-01-01,1,2,1,1.5,10", "already given on line 2"),
        ];
        for (row, expected) in cases {
            let e = single_error(row);
            assert_eq!(e.line, 3, "{row}: {e}");
            assert!(e.message.contains(expected), "{row}: {e}");
        }
    }

    #[test]
    fn every_problem_is_listed_with_its_line() {
        let text = format!(
            "{HEADER}BTCUSDT,2024-01-01,1,2,1,1.5,10\n\
             BTCUSDT,2024-01-02,x,2,1,1.5,10\n\
             ETHUSDT,2024-01-02,1,2,1,1.5,10\n\
             ETHUSDT,2024-01-03,1,0.5,1,1.5,10\n"
        );
        let e = err(&text);
        let lines: Vec<u64> = e.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 5], "{e}");
        let shown = e.to_string();
        assert!(
            shown.contains("line 3: open") && shown.contains("line 5: high"),
            "{shown}"
        );
    }

    #[test]
    fn quoted_fields_with_newlines_count_lines() {
        let text = format!(
            "{HEADER}\"BTC\nUSDT\",2024-01-01,1,2,1,1.5,10\nETHUSDT,2024-01-01,1,2,1,1.5,x\n"
        );
        let e = err(&text);
        let lines: Vec<u64> = e.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4], "{e}");
    }

    #[test]
    fn long_error_lists_are_cut() {
        let mut text = HEADER.to_owned();
        for day in 1..=28 {
            text.push_str(&format!("BTCUSDT,2024-02-{day:02},1,2,1,1.5,bad\n"));
        }
        let e = err(&text);
        assert_eq!(e.errors.len(), MAX_REPORTED_ERRORS);
        assert_eq!(e.more, 28 - MAX_REPORTED_ERRORS);
        assert!(e.to_string().contains("and 8 more"), "{e}");
    }
}
