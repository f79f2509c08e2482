//! Portfolio index construction and feature errors on real candle input.

use alphapulse_domain::{Candle, Symbol};
use alphapulse_regime::{
    features::{portfolio_index, DRAWDOWN, LOG_RETURN},
    synthetic, FeatureConfig, FeatureError, FeatureMatrix,
};
use chrono::{TimeZone, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};

fn walk(seed: u64, days: usize) -> Vec<Candle> {
    let start = Utc.with_ymd_and_hms(2023, 3, 1, 0, 0, 0).unwrap();
    synthetic::regime_switching_walk(seed, &Symbol::parse("SOLUSDT").unwrap(), days, 20.0, start).0
}

fn close(c: &Candle) -> f64 {
    c.close.to_f64().unwrap()
}

#[test]
fn single_member_index_is_the_rescaled_price() {
    let candles = walk(1, 120);
    let (dates, levels) = portfolio_index(&[(3.0, candles.clone())]).unwrap();
    assert_eq!(dates.len(), 120);
    for (c, l) in candles.iter().zip(&levels) {
        assert!((l - close(c) / close(&candles[0])).abs() < 1e-9);
    }
    let direct = FeatureMatrix::from_candles(&candles, &FeatureConfig::default()).unwrap();
    let via_index =
        FeatureMatrix::from_universe(&[(1.0, candles)], &FeatureConfig::default()).unwrap();
    assert_eq!(direct.dates, via_index.dates);
    for (a, b) in direct.rows.iter().zip(&via_index.rows) {
        assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9));
    }
    assert!(direct
        .column(DRAWDOWN)
        .iter()
        .all(|d| (-1.0..=0.0).contains(d)));
}

#[test]
fn weighted_index_rebalances_daily_on_common_days() {
    let a = walk(1, 60);
    let mut b = walk(2, 60);
    b.remove(30); // day 30 is missing for b: skipped for the index
    let (dates, levels) = portfolio_index(&[(1.0, a.clone()), (3.0, b.clone())]).unwrap();
    assert_eq!(dates.len(), 59);
    assert!(!dates.contains(&a[30].open_time));
    // Day 31 follows day 29 directly.
    let growth = 0.25 * close(&a[31]) / close(&a[29]) + 0.75 * close(&b[30]) / close(&b[29]);
    assert!((levels[30] / levels[29] - growth).abs() < 1e-12);
}

#[test]
fn bad_candles_are_typed_errors() {
    let mut candles = walk(4, 80);
    assert!(matches!(
        portfolio_index(&[(-1.0, candles.clone())]),
        Err(FeatureError::InvalidWeight { member: 0, .. })
    ));
    assert!(matches!(
        portfolio_index(&[(0.0, candles.clone())]),
        Err(FeatureError::InvalidWeight { .. })
    ));
    candles.swap(10, 11);
    assert!(matches!(
        portfolio_index(&[(1.0, walk(5, 80)), (1.0, candles.clone())]),
        Err(FeatureError::NotSorted { member: 1, .. })
    ));
    candles.swap(10, 11);
    candles[5].close = Decimal::ZERO;
    assert!(matches!(
        FeatureMatrix::from_candles(&candles, &FeatureConfig::default()),
        Err(FeatureError::InvalidPrice { member: 0, .. })
    ));
    let bad = FeatureConfig {
        trend_short: 50,
        ..FeatureConfig::default()
    };
    assert!(matches!(
        FeatureMatrix::from_candles(&walk(4, 80), &bad),
        Err(FeatureError::InvalidConfig(_))
    ));
    let m = FeatureMatrix::from_candles(&walk(4, 80), &FeatureConfig::default()).unwrap();
    assert_eq!(m.len(), 80 - FeatureConfig::default().warmup());
    assert!(m.column(LOG_RETURN).iter().all(|r| r.is_finite()));
}
