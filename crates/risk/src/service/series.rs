//! Daily return series from the ports: closes of symbols, aligned returns, and the
//! portfolio's returns from its snapshots or its current holdings.

use std::collections::BTreeMap;

use alphapulse_domain::{ports::Actor, Symbol};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::Serialize;

use super::{book::Book, core::RiskPorts, ServiceError};
use crate::returns::{self, Aligned, ReturnKind};

/// Daily returns the API's statistics need at least (VaR, ratios, correlations).
pub const MIN_OBSERVATIONS: usize = 30;

/// Where a portfolio return series came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnsSource {
    /// The tenant's daily portfolio snapshots (they cover the whole lookback).
    Snapshots,
    /// The current holdings applied to their daily candles.
    Holdings,
    /// Nothing to compute: no exposure (an empty or cash-only book).
    None,
}

/// A portfolio's daily returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioSeries {
    /// Where they came from.
    pub source: ReturnsSource,
    /// Simple daily returns, oldest first.
    pub returns: Vec<f64>,
    /// The date of each return.
    pub dates: Vec<NaiveDate>,
}

impl PortfolioSeries {
    /// Number of returns.
    pub fn observations(&self) -> usize {
        self.returns.len()
    }

    fn none() -> Self {
        Self {
            source: ReturnsSource::None,
            returns: Vec::new(),
            dates: Vec::new(),
        }
    }
}

/// The last `limit` daily closes of each symbol (as `f64` statistics), by date; symbols
/// without data are absent.
pub(crate) fn closes(
    ports: &RiskPorts,
    actor: &Actor,
    symbols: &[Symbol],
    limit: u32,
) -> Result<BTreeMap<Symbol, BTreeMap<NaiveDate, f64>>, ServiceError> {
    let candles = ports.market.daily_candles_many(actor, symbols, limit)?;
    Ok(candles
        .into_iter()
        .map(|(symbol, candles)| {
            let by_day = candles
                .iter()
                .filter_map(|c| {
                    let close = c.close.to_f64().filter(|v| v.is_finite() && *v > 0.0)?;
                    Some((c.open_time.date_naive(), close))
                })
                .collect();
            (symbol, by_day)
        })
        .collect())
}

/// Returns of `symbols` on the dates where every one has a close, the last `lookback` of
/// them. Each symbol must exist (else [`ServiceError::UnknownSymbol`] when `unknown_is_404`,
/// or too few observations) and have at least `need` returns of its own, and the aligned
/// series must have `need` too.
pub(crate) fn aligned_returns(
    closes: &BTreeMap<Symbol, BTreeMap<NaiveDate, f64>>,
    symbols: &[Symbol],
    lookback: usize,
    need: usize,
    field: &'static str,
    unknown_is_404: bool,
) -> Result<Aligned<Symbol>, ServiceError> {
    let empty = BTreeMap::new();
    for symbol in symbols {
        let have = closes.get(symbol).unwrap_or(&empty);
        if have.is_empty() && unknown_is_404 {
            return Err(ServiceError::UnknownSymbol(symbol.to_string()));
        }
        let returns = have.len().saturating_sub(1).min(lookback);
        if returns < need {
            return Err(ServiceError::TooFewObservations {
                subject: symbol.to_string(),
                field,
                have: returns,
                need,
            });
        }
    }
    let aligned = returns::align(
        symbols
            .iter()
            .map(|s| (s.clone(), closes.get(s).unwrap_or(&empty))),
    )?;
    if aligned.observations() < 2 {
        return Err(ServiceError::TooFewObservations {
            subject: "dates where every symbol has a close".to_owned(),
            field,
            have: aligned.observations().saturating_sub(1),
            need,
        });
    }
    let mut r = aligned.returns(ReturnKind::Simple)?;
    if r.observations() < need {
        return Err(ServiceError::TooFewObservations {
            subject: "dates where every symbol has a close".to_owned(),
            field,
            have: r.observations(),
            need,
        });
    }
    let skip = r.observations().saturating_sub(lookback);
    r.dates.drain(..skip);
    for s in &mut r.series {
        s.drain(..skip);
    }
    Ok(r)
}

/// The portfolio's daily returns over at most `lookback` days (see the module docs of
/// [`super`] for the two sources).
pub(crate) fn portfolio_series(
    ports: &RiskPorts,
    actor: &Actor,
    book: &Book,
    lookback: usize,
    now: DateTime<Utc>,
) -> Result<PortfolioSeries, ServiceError> {
    let nav = book.total_value();
    let exposures = book.net_by_symbol();
    if exposures.is_empty() || nav <= Decimal::ZERO {
        return Ok(PortfolioSeries::none());
    }
    let days = i64::try_from(lookback).unwrap_or(i64::MAX / 2);
    let snapshots = ports
        .snapshots
        .daily(actor, now - Duration::days(days + 1))?;
    if snapshots.len() > lookback {
        let tail = &snapshots[snapshots.len() - (lookback + 1)..];
        let values: Vec<Decimal> = tail.iter().map(|s| s.total_value).collect();
        if let Ok(r) = returns::value_returns(&values) {
            return Ok(PortfolioSeries {
                source: ReturnsSource::Snapshots,
                returns: r.returns,
                dates: tail
                    .iter()
                    .skip(1)
                    .map(|s| s.taken_at.date_naive())
                    .collect(),
            });
        }
    }
    let symbols: Vec<Symbol> = exposures.keys().cloned().collect();
    let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
    let closes = closes(ports, actor, &symbols, limit)?;
    // Every holding needs history; 2 returns is the least a series can be, the callers
    // decide how many they need.
    let aligned = aligned_returns(&closes, &symbols, lookback, 2, "lookback_days", false)?;
    let values: Vec<Decimal> = symbols.iter().map(|s| exposures[s]).collect();
    let weights = returns::position_weights(&values, nav)?;
    let r = returns::weighted_returns(&weights, &aligned.series)?;
    Ok(PortfolioSeries {
        source: ReturnsSource::Holdings,
        returns: r.returns,
        dates: aligned.dates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, day).unwrap()
    }

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    #[test]
    fn aligned_returns_name_the_short_symbol_and_keep_the_last_lookback() {
        let long: BTreeMap<NaiveDate, f64> =
            (1..=31).map(|i| (d(i), 100.0 + f64::from(i))).collect();
        let short: BTreeMap<NaiveDate, f64> =
            (1..=10).map(|i| (d(i), 10.0 + f64::from(i))).collect();
        let closes = BTreeMap::from([(sym("AAUSDT"), long.clone()), (sym("BBUSDT"), short)]);
        let err = aligned_returns(
            &closes,
            &[sym("AAUSDT"), sym("BBUSDT")],
            252,
            30,
            "lookback_days",
            true,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ServiceError::TooFewObservations { subject, have: 9, need: 30, .. } if subject == "BBUSDT"),
            "{err:?}"
        );
        let err = aligned_returns(&closes, &[sym("CCUSDT"), sym("AAUSDT")], 252, 30, "x", true)
            .unwrap_err();
        assert!(matches!(&err, ServiceError::UnknownSymbol(s) if s == "CCUSDT"));
        let closes = BTreeMap::from([(sym("AAUSDT"), long.clone()), (sym("DDUSDT"), long)]);
        let r =
            aligned_returns(&closes, &[sym("AAUSDT"), sym("DDUSDT")], 20, 2, "x", true).unwrap();
        assert_eq!(r.observations(), 20);
        assert_eq!(r.dates.last(), Some(&d(31)));
        // 130 -> 131 is the last return.
        assert!((r.series[0][19] - (131.0 / 130.0 - 1.0)).abs() < 1e-12);
    }
}
