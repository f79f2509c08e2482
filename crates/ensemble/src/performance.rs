//! Performance of signals against realised returns.
//!
//! The realised return of a signal given at time `t` on a symbol is the return from the
//! close of `t`'s day (the newest daily close on or before that day) to the next available
//! day's close. A signal without a later close is *pending* and not counted.
//!
//! Per agent (and for the ensemble's own predictions):
//! - a *hit* is `sign(signal) == sign(realised return)`; `hit_rate = hits / evaluated`;
//! - `accuracy = hits / directional`, over the evaluated signals that took a side
//!   (`signal ≠ 0`);
//! - the *directional return* of a signal is `sign(signal) × realised return` (what following
//!   its direction earned); `avg_return` is their mean, `total_return` their sum,
//!   `volatility` their sample standard deviation and `risk_adjusted` = mean / standard
//!   deviation.

use alphapulse_domain::Candle;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::sign;

/// The daily closes of one symbol, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Closes(Vec<(NaiveDate, f64)>);

impl Closes {
    /// Closes from `(day, close)` pairs in any order (later duplicates of a day win).
    pub fn new(mut days: Vec<(NaiveDate, f64)>) -> Self {
        days.retain(|(_, c)| c.is_finite() && *c > 0.0);
        days.sort_by_key(|(d, _)| *d);
        let mut out: Vec<(NaiveDate, f64)> = Vec::with_capacity(days.len());
        for (day, close) in days {
            match out.last_mut() {
                Some(last) if last.0 == day => last.1 = close,
                _ => out.push((day, close)),
            }
        }
        Self(out)
    }

    /// Closes of daily candles.
    pub fn from_candles(candles: &[Candle]) -> Self {
        Self::new(
            candles
                .iter()
                .filter_map(|c| Some((c.open_time.date_naive(), c.close.to_f64()?)))
                .collect(),
        )
    }

    /// The return from the close of `at`'s day (or the newest close before it) to the next
    /// available day's close; `None` while there is no later close (pending) or no close on
    /// or before that day.
    pub fn realised_return(&self, at: DateTime<Utc>) -> Option<f64> {
        let day = at.date_naive();
        let after = self.0.partition_point(|(d, _)| *d <= day);
        let base = self.0.get(after.checked_sub(1)?)?.1;
        let next = self.0.get(after)?.1;
        let r = next / base - 1.0;
        r.is_finite().then_some(r)
    }
}

/// One signal and what became of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The signal, `-1..=1`.
    pub signal: f64,
    /// Its confidence, `0..=1`.
    pub confidence: f64,
    /// The realised return (`None`: pending).
    pub realised: Option<f64>,
}

impl Outcome {
    /// `sign(signal) × realised`, once known.
    pub fn directional_return(&self) -> Option<f64> {
        self.realised.map(|r| sign(self.signal) * r)
    }

    /// Whether the direction matched, once known.
    pub fn is_hit(&self) -> Option<bool> {
        self.realised.map(|r| sign(self.signal) == sign(r))
    }
}

/// Performance statistics of a set of signals (JSON numbers; `null` where undefined).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// Signals considered.
    pub signals: u32,
    /// Signals with a realised return.
    pub evaluated: u32,
    /// Signals still waiting for a later close.
    pub pending: u32,
    /// Evaluated signals whose direction matched the realised return.
    pub hits: u32,
    /// `hits / evaluated`.
    pub hit_rate: Option<f64>,
    /// Hits among the evaluated signals that took a side (`signal ≠ 0`).
    pub accuracy: Option<f64>,
    /// Mean directional return.
    pub avg_return: Option<f64>,
    /// Sum of the directional returns.
    pub total_return: f64,
    /// Sample standard deviation of the directional returns (2 or more).
    pub volatility: Option<f64>,
    /// `avg_return / volatility` (when the deviation is positive).
    pub risk_adjusted: Option<f64>,
    /// Mean confidence of all signals considered.
    pub avg_confidence: Option<f64>,
}

/// Mean and sample standard deviation (`None` below 2 values).
pub fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (Some(mean), None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some(var.sqrt()))
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// The statistics of `outcomes`.
pub fn evaluate(outcomes: &[Outcome]) -> Metrics {
    let mut returns = Vec::new();
    let (mut hits, mut directional, mut directional_hits) = (0u32, 0u32, 0u32);
    for o in outcomes {
        let (Some(ret), Some(hit)) = (o.directional_return(), o.is_hit()) else {
            continue;
        };
        returns.push(ret);
        hits += u32::from(hit);
        if sign(o.signal) != 0.0 {
            directional += 1;
            directional_hits += u32::from(hit);
        }
    }
    let signals = u32::try_from(outcomes.len()).unwrap_or(u32::MAX);
    let evaluated = u32::try_from(returns.len()).unwrap_or(u32::MAX);
    let (mean, std) = mean_std(&returns);
    let risk_adjusted = match (mean, std) {
        (Some(m), Some(s)) if s > 0.0 => Some(m / s),
        _ => None,
    };
    let avg_confidence = (!outcomes.is_empty())
        .then(|| outcomes.iter().map(|o| o.confidence).sum::<f64>() / outcomes.len() as f64);
    Metrics {
        signals,
        evaluated,
        pending: signals - evaluated,
        hits,
        hit_rate: ratio(hits, evaluated),
        accuracy: ratio(directional_hits, directional),
        avg_return: finite(mean),
        total_return: returns.iter().sum::<f64>(),
        volatility: finite(std),
        risk_adjusted: finite(risk_adjusted),
        avg_confidence: finite(avg_confidence),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, d).unwrap()
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, d, h, 0, 0).unwrap()
    }

    #[test]
    fn realised_return_runs_from_the_days_close_to_the_next_available_close() {
        // Closes: Jan 1 100, Jan 2 110, Jan 4 99 (no candle on Jan 3).
        let closes = Closes::new(vec![(day(4), 99.0), (day(1), 100.0), (day(2), 110.0)]);
        // Signal on Jan 1 (any hour): 110 / 100 − 1 = +10 %.
        assert!((closes.realised_return(at(1, 15)).unwrap() - 0.10).abs() < 1e-12);
        // Signal on Jan 2: 99 / 110 − 1 = −10 %.
        assert!((closes.realised_return(at(2, 0)).unwrap() + 0.10).abs() < 1e-12);
        // Jan 3 has no close: from Jan 2's close (the newest before) to Jan 4's.
        assert!((closes.realised_return(at(3, 9)).unwrap() + 0.10).abs() < 1e-12);
        // Jan 4 is the newest close: pending. Before any data: not evaluable.
        assert_eq!(closes.realised_return(at(4, 12)), None);
        assert_eq!(
            closes.realised_return(Utc.with_ymd_and_hms(2024, 12, 31, 0, 0, 0).unwrap()),
            None
        );
    }

    #[test]
    fn metrics_of_a_small_hand_made_history() {
        // Closes 100 → 110 → 99 → 99 → 108.9 (returns +10 %, −10 %, 0 %, +10 %).
        let closes = Closes::new(vec![
            (day(1), 100.0),
            (day(2), 110.0),
            (day(3), 99.0),
            (day(4), 99.0),
            (day(5), 108.9),
        ]);
        let signal = |d: u32, s: f64| Outcome {
            signal: s,
            confidence: 0.5,
            realised: closes.realised_return(at(d, 12)),
        };
        let outcomes = [
            signal(1, 0.8),  // long, +10 %: hit, directional +0.10
            signal(2, 0.5),  // long, −10 %: miss, directional −0.10
            signal(3, -0.3), // short, 0 %: miss (sign −1 ≠ 0), directional 0
            signal(4, 0.0),  // flat, +10 %: miss, not directional, directional 0
            signal(5, 1.0),  // no later close: pending
        ];
        let m = evaluate(&outcomes);
        assert_eq!((m.signals, m.evaluated, m.pending, m.hits), (5, 4, 1, 1));
        // hit rate 1/4; accuracy over the 3 directional signals: 1/3.
        assert_eq!(m.hit_rate, Some(0.25));
        assert!((m.accuracy.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // Directional returns 0.10, −0.10, 0, 0: mean 0, total 0.
        assert!(m.avg_return.unwrap().abs() < 1e-12);
        assert!(m.total_return.abs() < 1e-12);
        // Sample variance: (0.01 + 0.01 + 0 + 0) / 3 → std = sqrt(0.02 / 3) ≈ 0.08165.
        assert!((m.volatility.unwrap() - (0.02f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(m.risk_adjusted.unwrap().abs() < 1e-9);
        assert_eq!(m.avg_confidence, Some(0.5));
    }

    #[test]
    fn short_signals_earn_falling_prices() {
        // Short (−0.6) into a −10 % day: hit, directional return +0.10; twice → std 0.
        let o = Outcome {
            signal: -0.6,
            confidence: 1.0,
            realised: Some(-0.10),
        };
        let m = evaluate(&[o, o]);
        assert_eq!(m.hit_rate, Some(1.0));
        assert!((m.avg_return.unwrap() - 0.10).abs() < 1e-12);
        assert_eq!(m.volatility, Some(0.0));
        assert_eq!(m.risk_adjusted, None, "no ratio for a zero deviation");
    }

    #[test]
    fn nothing_evaluated_gives_nulls() {
        let m = evaluate(&[]);
        assert_eq!((m.hit_rate, m.accuracy, m.avg_return), (None, None, None));
        assert_eq!(m.total_return, 0.0);
    }
}
