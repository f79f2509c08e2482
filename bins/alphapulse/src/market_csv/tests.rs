//! Tests of the CSV parser (layouts, every kind of problem with its line, the report cut-off),
//! of the header error and of the import summary line.

use std::path::Path;

use alphapulse_domain::Candle;
use rust_decimal::Decimal;

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
fn a_wrong_header_states_the_expected_one_once() {
    let expected = "symbol,open_time,open,high,low,close,volume";
    assert_eq!(COLUMNS.join(","), expected);

    // One unknown column: named, with the expected header.
    let e = err("symbol,day,open,high,low,close,volume\n");
    assert_eq!(
        e.errors[0].message,
        format!("unknown column \"day\" (expected {expected})")
    );
    assert_eq!(e.errors[1].message, "missing column(s): open_time");
    assert_eq!(e.errors.len(), 2, "{e}");

    // Seven unknown columns: each named, on line 1; the expected header given once.
    let e = err("date,o,h,l,c,v,ticker\n");
    let shown = e.to_string();
    assert_eq!(shown.matches(expected).count(), 1, "{shown}");
    for name in ["date", "o", "h", "l", "c", "v", "ticker"] {
        assert!(
            shown.contains(&format!("unknown column \"{name}\"")),
            "{shown}"
        );
    }
    assert_eq!(e.errors.len(), 8, "{e}");
    assert!(e.errors.iter().all(|e| e.line == 1), "{e}");
    assert_eq!(
        e.errors[0].message,
        format!("unknown column \"date\" (expected {expected})")
    );
    assert_eq!(e.errors[1].message, "unknown column \"o\"");
    assert_eq!(
        e.errors[7].message,
        "missing column(s): symbol, open_time, open, high, low, close, volume"
    );
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
    let text =
        format!("{HEADER}\"BTC\nUSDT\",2024-01-01,1,2,1,1.5,10\nETHUSDT,2024-01-01,1,2,1,1.5,x\n");
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

#[test]
fn the_import_summary_counts_rows_in_the_right_number() {
    let path = Path::new("candles.csv");
    assert_eq!(
        import_summary(1, 1, path),
        "Imported 1 row (1 symbol) from candles.csv."
    );
    assert_eq!(
        import_summary(2, 1, path),
        "Imported 2 rows (1 symbol) from candles.csv."
    );
    assert_eq!(
        import_summary(120, 3, path),
        "Imported 120 rows (3 symbols) from candles.csv."
    );
    assert_eq!(
        import_summary(0, 0, path),
        "Imported 0 rows (0 symbols) from candles.csv."
    );
}
