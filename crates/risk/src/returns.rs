//! Returns: from prices, across several symbols on common dates, and for a whole portfolio.
//!
//! Formulas (Campbell, Lo & MacKinlay, *The Econometrics of Financial Markets*, 1997, ch. 1):
//! - simple return `R_t = P_t / P_{t-1} − 1`;
//! - log (continuously compounded) return `r_t = ln(P_t / P_{t-1}) = ln(1 + R_t)`.
//!
//! Simple returns aggregate across assets (`R_p = Σ w_i R_i`), log returns aggregate across
//! time (`r_{t..t+k} = Σ r`). So the portfolio functions here use simple returns, and every risk
//! statistic of the crate takes simple returns unless it says otherwise.
//!
//! Portfolio returns come two ways, which answer different questions:
//! - [`weighted_returns`]: *today's* weights applied to each asset's history — "how would the
//!   book I hold now have behaved", the usual input of VaR (Jorion, *Value at Risk*, 3rd ed.,
//!   2007, ch. 10: returns reconstructed from current positions). It assumes the
//!   weights are rebalanced back to today's every day.
//! - [`value_returns`] / [`daily_values`]: the realised path of the account's value from its
//!   snapshots. It includes deposits and withdrawals as if they were gains and losses, since the
//!   snapshots do not record cash flows; it is a money-weighted path, not a time-weighted one.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Result, RiskError};
use crate::stats::check_finite;

/// Which kind of return to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    /// `P_t / P_{t-1} − 1`.
    Simple,
    /// `ln(P_t / P_{t-1})`.
    Log,
}

/// Returns of one price series; `prices.len() - 1` values.
///
/// # Errors
/// Fewer than two prices, a non-finite price, or a price `<= 0` (no return can be formed).
pub fn returns(prices: &[f64], kind: ReturnKind) -> Result<Vec<f64>> {
    if prices.len() < 2 {
        return Err(RiskError::TooFewObservations {
            have: prices.len(),
            need: 2,
        });
    }
    check_finite(prices, "prices")?;
    if let Some(index) = prices.iter().position(|p| *p <= 0.0) {
        return Err(RiskError::NonPositive {
            what: "prices",
            index,
        });
    }
    Ok(prices
        .windows(2)
        .map(|w| match kind {
            ReturnKind::Simple => w[1] / w[0] - 1.0,
            ReturnKind::Log => (w[1] / w[0]).ln(),
        })
        .collect())
}

/// Simple returns `P_t / P_{t-1} − 1`. See [`returns`].
///
/// # Errors
/// As [`returns`].
pub fn simple_returns(prices: &[f64]) -> Result<Vec<f64>> {
    returns(prices, ReturnKind::Simple)
}

/// Log returns `ln(P_t / P_{t-1})`. See [`returns`].
///
/// # Errors
/// As [`returns`].
pub fn log_returns(prices: &[f64]) -> Result<Vec<f64>> {
    returns(prices, ReturnKind::Log)
}

/// Closes of several symbols on the dates where *every* symbol has one.
///
/// Why only common dates: a correlation or covariance pairs observations of the same day;
/// filling gaps (forward-fill) would invent zero returns and bias correlations toward zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aligned<K> {
    /// The keys (symbols), in input order.
    pub keys: Vec<K>,
    /// The common dates, ascending.
    pub dates: Vec<NaiveDate>,
    /// One column per key, `dates.len()` values each.
    pub series: Vec<Vec<f64>>,
}

impl<K: Clone> Aligned<K> {
    /// Number of common dates.
    pub fn observations(&self) -> usize {
        self.dates.len()
    }

    /// Returns of every column; date `i` of the result is the return from `dates[i]` to
    /// `dates[i + 1]`, so it carries `dates[i + 1]`.
    ///
    /// # Errors
    /// Fewer than two common dates, or a price `<= 0`.
    pub fn returns(&self, kind: ReturnKind) -> Result<Aligned<K>> {
        let series = self
            .series
            .iter()
            .map(|s| returns(s, kind))
            .collect::<Result<Vec<_>>>()?;
        Ok(Aligned {
            keys: self.keys.clone(),
            dates: self.dates.iter().skip(1).copied().collect(),
            series,
        })
    }
}

/// Aligns several close series on the dates where all of them have a close.
///
/// # Errors
/// No series at all, or a non-finite close (reported with the series' position).
///
/// # Examples
/// ```
/// use std::collections::BTreeMap;
/// use chrono::NaiveDate;
/// use alphapulse_risk::returns::align;
///
/// let d = |day| NaiveDate::from_ymd_opt(2024, 1, day).unwrap();
/// let btc = BTreeMap::from([(d(1), 100.0), (d(2), 110.0), (d(3), 99.0)]);
/// let eth = BTreeMap::from([(d(2), 10.0), (d(3), 11.0), (d(4), 12.0)]);
/// let aligned = align([("BTC", &btc), ("ETH", &eth)]).unwrap();
/// assert_eq!(aligned.dates, vec![d(2), d(3)]);
/// assert_eq!(aligned.series, vec![vec![110.0, 99.0], vec![10.0, 11.0]]);
/// ```
pub fn align<'a, K, I>(series: I) -> Result<Aligned<K>>
where
    I: IntoIterator<Item = (K, &'a BTreeMap<NaiveDate, f64>)>,
{
    let (keys, maps): (Vec<K>, Vec<&BTreeMap<NaiveDate, f64>>) = series.into_iter().unzip();
    let Some((first, rest)) = maps.split_first() else {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    };
    for (index, map) in maps.iter().enumerate() {
        if map.values().any(|v| !v.is_finite()) {
            return Err(RiskError::NonFinite {
                what: "close series",
                index,
            });
        }
    }
    let dates: Vec<NaiveDate> = first
        .keys()
        .filter(|d| rest.iter().all(|m| m.contains_key(d)))
        .copied()
        .collect();
    let series = maps
        .iter()
        .map(|m| dates.iter().map(|d| m[d]).collect())
        .collect();
    Ok(Aligned {
        keys,
        dates,
        series,
    })
}

/// A portfolio's return series and how many observations it has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioReturns {
    /// Simple returns, oldest first.
    pub returns: Vec<f64>,
    /// `returns.len()`, reported because the API answers it next to every statistic.
    pub observations: usize,
}

impl PortfolioReturns {
    fn new(returns: Vec<f64>) -> Self {
        let observations = returns.len();
        Self {
            returns,
            observations,
        }
    }
}

/// Position weights `w_i = value_i / nav`.
///
/// Pass the net asset value (cash included) to get weights of the account, or the sum of the
/// position values to get weights that sum to 1. Short positions are negative values. The
/// division happens in `Decimal`, so the weights are exact to `f64` precision.
///
/// # Errors
/// `nav <= 0`, or a ratio outside `f64` range.
pub fn position_weights(values: &[Decimal], nav: Decimal) -> Result<Vec<f64>> {
    if nav <= Decimal::ZERO {
        return Err(RiskError::InvalidParameter {
            name: "nav",
            reason: "must be greater than 0",
        });
    }
    values
        .iter()
        .enumerate()
        .map(|(index, v)| {
            v.checked_div(nav)
                .and_then(|w| w.to_f64())
                .ok_or(RiskError::NonFinite {
                    what: "position weight",
                    index,
                })
        })
        .collect()
}

/// Portfolio returns `R_p,t = Σ_i w_i R_i,t`: current weights applied to aligned historical
/// simple returns (one series per asset, same length).
///
/// # Errors
/// No assets, weights and series of different counts, series of different lengths, an empty
/// history, or a non-finite value.
pub fn weighted_returns<S: AsRef<[f64]>>(
    weights: &[f64],
    asset_returns: &[S],
) -> Result<PortfolioReturns> {
    if asset_returns.is_empty() {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    }
    if weights.len() != asset_returns.len() {
        return Err(RiskError::LengthMismatch {
            what: "weights",
            expected: asset_returns.len(),
            got: weights.len(),
        });
    }
    check_finite(weights, "weights")?;
    let n = asset_returns[0].as_ref().len();
    for series in asset_returns {
        let series = series.as_ref();
        if series.len() != n {
            return Err(RiskError::LengthMismatch {
                what: "asset return series",
                expected: n,
                got: series.len(),
            });
        }
        check_finite(series, "asset returns")?;
    }
    if n == 0 {
        return Err(RiskError::TooFewObservations { have: 0, need: 1 });
    }
    let returns = (0..n)
        .map(|t| {
            weights
                .iter()
                .zip(asset_returns)
                .map(|(w, s)| w * s.as_ref()[t])
                .sum()
        })
        .collect();
    Ok(PortfolioReturns::new(returns))
}

/// Simple returns of a path of portfolio values (snapshots, oldest first).
///
/// # Errors
/// Fewer than two values, or a value `<= 0`.
pub fn value_returns(values: &[Decimal]) -> Result<PortfolioReturns> {
    let prices = values
        .iter()
        .enumerate()
        .map(|(index, v)| {
            if *v <= Decimal::ZERO {
                return Err(RiskError::NonPositive {
                    what: "portfolio values",
                    index,
                });
            }
            v.to_f64().ok_or(RiskError::NonFinite {
                what: "portfolio values",
                index,
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    simple_returns(&prices).map(PortfolioReturns::new)
}

/// One value per UTC day from intraday snapshots: the last snapshot of each day (the day's
/// "close"), oldest first. Feed the values to [`value_returns`] for daily returns.
///
/// Snapshots are written hourly by the snapshot job; daily returns keep the annualisation of
/// [`crate::ratios`] honest (365 periods a year).
pub fn daily_values(snapshots: &[(DateTime<Utc>, Decimal)]) -> Vec<(NaiveDate, Decimal)> {
    let mut last: BTreeMap<NaiveDate, (DateTime<Utc>, Decimal)> = BTreeMap::new();
    for (at, value) in snapshots {
        let day = at.date_naive();
        match last.get(&day) {
            Some((seen, _)) if seen > at => {}
            _ => {
                last.insert(day, (*at, *value));
            }
        }
    }
    last.into_iter().map(|(d, (_, v))| (d, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, day).unwrap()
    }

    #[test]
    fn simple_and_log_returns_by_hand() {
        // 100 -> 110: +10 %; 110 -> 99: -10 %; ln(1.1) = 0.0953102, ln(0.9) = -0.1053605.
        let r = simple_returns(&[100.0, 110.0, 99.0]).unwrap();
        assert!((r[0] - 0.10).abs() < 1e-12 && (r[1] + 0.10).abs() < 1e-12);
        let l = log_returns(&[100.0, 110.0, 99.0]).unwrap();
        assert!((l[0] - 0.095_310_18).abs() < 1e-8 && (l[1] + 0.105_360_52).abs() < 1e-8);
    }

    #[test]
    fn returns_reject_bad_prices() {
        assert_eq!(
            simple_returns(&[100.0]),
            Err(RiskError::TooFewObservations { have: 1, need: 2 })
        );
        assert_eq!(
            simple_returns(&[100.0, 0.0]),
            Err(RiskError::NonPositive {
                what: "prices",
                index: 1
            })
        );
        assert!(log_returns(&[1.0, f64::INFINITY]).is_err());
    }

    #[test]
    fn align_keeps_only_common_dates_and_counts_them() {
        let a = BTreeMap::from([(d(1), 1.0), (d(2), 2.0), (d(4), 4.0), (d(5), 5.0)]);
        let b = BTreeMap::from([(d(2), 20.0), (d(3), 30.0), (d(4), 40.0), (d(5), 50.0)]);
        let c = BTreeMap::from([(d(2), 200.0), (d(4), 400.0), (d(5), 500.0)]);
        let aligned = align([("a", &a), ("b", &b), ("c", &c)]).unwrap();
        assert_eq!(aligned.keys, vec!["a", "b", "c"]);
        assert_eq!(aligned.dates, vec![d(2), d(4), d(5)]);
        assert_eq!(aligned.observations(), 3);
        assert_eq!(aligned.series[2], vec![200.0, 400.0, 500.0]);
        let r = aligned.returns(ReturnKind::Simple).unwrap();
        assert_eq!(r.dates, vec![d(4), d(5)]);
        assert!((r.series[0][0] - 1.0).abs() < 1e-12); // 2 -> 4
        assert!((r.series[1][1] - 0.25).abs() < 1e-12); // 40 -> 50
    }

    #[test]
    fn align_errors() {
        let empty: [(&str, &BTreeMap<NaiveDate, f64>); 0] = [];
        assert_eq!(
            align(empty),
            Err(RiskError::TooFewSeries { have: 0, need: 1 })
        );
        let bad = BTreeMap::from([(d(1), f64::NAN)]);
        let good = BTreeMap::from([(d(1), 1.0)]);
        assert!(matches!(
            align([("x", &good), ("y", &bad)]),
            Err(RiskError::NonFinite { index: 1, .. })
        ));
        // Disjoint dates: no observations, and returns say how many are needed.
        let other = BTreeMap::from([(d(2), 1.0)]);
        let aligned = align([("x", &good), ("z", &other)]).unwrap();
        assert_eq!(aligned.observations(), 0);
        assert_eq!(
            aligned.returns(ReturnKind::Simple),
            Err(RiskError::TooFewObservations { have: 0, need: 2 })
        );
    }

    #[test]
    fn weighted_returns_by_hand() {
        // 60 % in A (+10 %, -5 %), 40 % in B (-2 %, +5 %):
        // day 1: 0.6·0.10 + 0.4·(-0.02) = 0.052; day 2: 0.6·(-0.05) + 0.4·0.05 = -0.01.
        let p = weighted_returns(&[0.6, 0.4], &[vec![0.10, -0.05], vec![-0.02, 0.05]]).unwrap();
        assert_eq!(p.observations, 2);
        assert!((p.returns[0] - 0.052).abs() < 1e-12);
        assert!((p.returns[1] + 0.01).abs() < 1e-12);
        assert!(weighted_returns(&[1.0], &[vec![0.1], vec![0.2]]).is_err());
        assert!(weighted_returns(&[0.5, 0.5], &[vec![0.1], vec![0.2, 0.3]]).is_err());
        let none: [Vec<f64>; 0] = [];
        assert!(weighted_returns(&[], &none).is_err());
    }

    #[test]
    fn position_weights_of_nav_and_of_total() {
        let w = position_weights(&[dec!(600), dec!(300), dec!(-100)], dec!(1000)).unwrap();
        assert_eq!(w, vec![0.6, 0.3, -0.1]);
        assert!(position_weights(&[dec!(1)], Decimal::ZERO).is_err());
    }

    #[test]
    fn value_returns_and_daily_values() {
        let at = |day, hour| Utc.with_ymd_and_hms(2024, 3, day, hour, 0, 0).unwrap();
        // Two snapshots on the 1st (last one wins, whatever the input order), one on the 2nd.
        let snaps = [
            (at(1, 23), dec!(1000)),
            (at(1, 1), dec!(900)),
            (at(2, 12), dec!(1100)),
        ];
        let days = daily_values(&snaps);
        assert_eq!(days, vec![(d(1), dec!(1000)), (d(2), dec!(1100))]);
        let values: Vec<Decimal> = days.into_iter().map(|(_, v)| v).collect();
        let r = value_returns(&values).unwrap();
        assert_eq!(r.observations, 1);
        assert!((r.returns[0] - 0.1).abs() < 1e-12);
        assert!(matches!(
            value_returns(&[dec!(1), dec!(0)]),
            Err(RiskError::NonPositive { index: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn weights_of_the_total_sum_to_one(
            cents in prop::collection::vec(1_i64..10_000_000, 1..30)
        ) {
            let values: Vec<Decimal> = cents.iter().map(|c| Decimal::new(*c, 2)).collect();
            let total: Decimal = values.iter().sum();
            let w = position_weights(&values, total).unwrap();
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(w.iter().all(|x| *x > 0.0 && *x <= 1.0));
        }

        #[test]
        fn log_return_is_ln_of_one_plus_simple(
            prices in prop::collection::vec(0.01_f64..1e6, 2..50)
        ) {
            let s = simple_returns(&prices).unwrap();
            let l = log_returns(&prices).unwrap();
            for (a, b) in s.iter().zip(&l) {
                prop_assert!((a.ln_1p() - b).abs() < 1e-9);
            }
        }
    }
}
