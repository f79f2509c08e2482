//! One data row: its fields parsed (exact decimals, daily open times) and checked against
//! each other (positive prices, `low <= open, close <= high`, volume not negative).

use alphapulse_domain::{Candle, Symbol};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

use super::{errors::Collector, header::Layout, COLUMNS, MAX_INTEGER_DIGITS, MAX_SCALE};

/// One record as a candle, or `None` after recording its problems on `line`.
pub(super) fn parse_row(
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
