//! Reproducible synthetic markets with known regimes.
//!
//! Why: the regime model must be testable against ground truth, and demo tenants need realistic
//! price history without an exchange. [`regime_switching_walk`] draws a sticky Markov chain over
//! the five regimes and, per day, a Gaussian log return with that regime's drift and volatility
//! ([`dynamics`]). Everything comes from one ChaCha8 stream seeded by the caller, so a seed
//! always yields the same candles on every platform.

use alphapulse_domain::{Candle, Regime, Symbol};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{prelude::FromPrimitive, Decimal};
use serde::{Deserialize, Serialize};

/// Prices are kept inside this range so they always convert to `Decimal`.
const PRICE_RANGE: (f64, f64) = (1e-6, 1e12);

/// How a regime moves prices in the synthetic market (crypto-like magnitudes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeDynamics {
    /// Mean daily log return.
    pub drift: f64,
    /// Standard deviation of the daily log return.
    pub volatility: f64,
    /// Daily pull of the log price back towards its level when the regime began (0 = random
    /// walk). Only sideways markets are range-bound.
    pub mean_reversion: f64,
    /// Expected run length in days (the chain stays with probability `1 - 1/duration`).
    pub expected_duration_days: f64,
}

/// The synthetic drift, volatility and persistence of `regime`.
pub fn dynamics(regime: Regime) -> RegimeDynamics {
    let (drift, volatility, mean_reversion, expected_duration_days) = match regime {
        Regime::Bull => (0.004, 0.020, 0.0, 120.0),
        Regime::Bear => (-0.004, 0.035, 0.0, 90.0),
        Regime::Sideways => (0.0, 0.012, 0.05, 60.0),
        Regime::Crisis => (-0.015, 0.070, 0.0, 20.0),
        Regime::Recovery => (0.006, 0.045, 0.0, 45.0),
    };
    RegimeDynamics {
        drift,
        volatility,
        mean_reversion,
        expected_duration_days,
    }
}

/// Where the chain goes when it leaves `regime` (weights sum to 1): bull tops into a range or a
/// bear, bears deepen into crises or recover, crises end in recoveries or grind on as bears.
fn exits(regime: Regime) -> &'static [(Regime, f64)] {
    match regime {
        Regime::Bull => &[(Regime::Sideways, 0.6), (Regime::Bear, 0.4)],
        Regime::Bear => &[
            (Regime::Crisis, 0.35),
            (Regime::Sideways, 0.35),
            (Regime::Recovery, 0.30),
        ],
        Regime::Sideways => &[(Regime::Bull, 0.5), (Regime::Bear, 0.5)],
        Regime::Crisis => &[(Regime::Recovery, 0.7), (Regime::Bear, 0.3)],
        Regime::Recovery => &[(Regime::Bull, 0.7), (Regime::Sideways, 0.3)],
    }
}

/// `days` daily candles of `symbol` starting at `start_date` (one per day) and the regime that
/// generated each of them.
///
/// The first regime is drawn uniformly from bull, bear and sideways. Each day's close is the
/// previous close times `exp(drift + volatility × z - mean_reversion × (ln open - ln anchor))`,
/// the anchor being the close on which the current regime began; the open is the previous close (24/7
/// market), high and low extend beyond open/close by half-normal moves of half the day's
/// volatility, and volume is log-normal around 1000 units, larger in turbulent regimes. Prices
/// are rounded to 8 decimals and held inside `[1e-6, 1e12]`; a non-finite or non-positive
/// `start_price` becomes 100.
pub fn regime_switching_walk(
    seed: u64,
    symbol: &Symbol,
    days: usize,
    start_price: f64,
    start_date: DateTime<Utc>,
) -> (Vec<Candle>, Vec<Regime>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut regime = [Regime::Bull, Regime::Bear, Regime::Sideways][rng.gen_range(0..3)];
    let mut close = if start_price.is_finite() && start_price > 0.0 {
        start_price.clamp(PRICE_RANGE.0, PRICE_RANGE.1)
    } else {
        100.0
    };
    let mut candles = Vec::with_capacity(days);
    let mut regimes = Vec::with_capacity(days);
    let mut anchor = close.ln();
    for day in 0..days {
        if day > 0 {
            let previous = regime;
            regime = next_regime(regime, &mut rng);
            if regime != previous {
                anchor = close.ln();
            }
        }
        let d = dynamics(regime);
        let open = close;
        let pull = -d.mean_reversion * (open.ln() - anchor);
        close = (open * (d.drift + pull + d.volatility * normal(&mut rng)).exp())
            .clamp(PRICE_RANGE.0, PRICE_RANGE.1);
        let high = (open.max(close) * (0.5 * d.volatility * normal(&mut rng).abs()).exp())
            .min(PRICE_RANGE.1);
        let low = (open.min(close) * (-0.5 * d.volatility * normal(&mut rng).abs()).exp())
            .max(PRICE_RANGE.0);
        let volume = 1000.0 * (d.volatility / 0.02) * (0.3 * normal(&mut rng)).exp();
        candles.push(Candle {
            symbol: symbol.clone(),
            open_time: start_date + Duration::days(day as i64),
            open: decimal(open),
            high: decimal(high),
            low: decimal(low),
            close: decimal(close),
            volume: decimal(volume),
        });
        regimes.push(regime);
    }
    (candles, regimes)
}

fn next_regime(regime: Regime, rng: &mut ChaCha8Rng) -> Regime {
    let stay = 1.0 - 1.0 / dynamics(regime).expected_duration_days;
    let u: f64 = rng.gen();
    if u < stay {
        return regime;
    }
    let mut v = (u - stay) / (1.0 - stay);
    let options = exits(regime);
    for (next, weight) in options {
        v -= weight;
        if v < 0.0 {
            return *next;
        }
    }
    // Rounding left `v` a hair above zero: take the last exit.
    options.last().map_or(regime, |(next, _)| *next)
}

/// A standard normal draw (Box-Muller; `1 - u` keeps the logarithm finite).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Finite values inside `PRICE_RANGE` (or positive volumes) always convert; zero is a fallback
/// that cannot be reached.
fn decimal(x: f64) -> Decimal {
    Decimal::from_f64(x).map_or(Decimal::ZERO, |d| d.round_dp(8))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::regime_map::regime_index;
    use alphapulse_domain::TextEnum;
    use chrono::TimeZone;

    #[test]
    fn exits_are_distributions_without_self_loops() {
        for r in Regime::ALL {
            let total: f64 = exits(*r).iter().map(|(_, w)| w).sum();
            assert!((total - 1.0).abs() < 1e-12);
            assert!(exits(*r)
                .iter()
                .all(|(n, _)| regime_index(*n) != regime_index(*r)));
        }
    }

    #[test]
    fn walk_is_reproducible_and_well_formed() {
        let sym = Symbol::parse("BTCUSDT").unwrap();
        let start = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
        let (a, ra) = regime_switching_walk(7, &sym, 400, 30_000.0, start);
        let (b, rb) = regime_switching_walk(7, &sym, 400, 30_000.0, start);
        assert_eq!((a.clone(), ra.clone()), (b, rb));
        assert_eq!(a.len(), 400);
        assert_eq!(a[399].open_time, start + Duration::days(399));
        for (i, c) in a.iter().enumerate() {
            assert!(
                c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close),
                "bar {i}"
            );
            assert!(c.low > Decimal::ZERO && c.volume > Decimal::ZERO, "bar {i}");
            if i > 0 {
                assert_eq!(c.open, a[i - 1].close);
            }
        }
        let switches = ra.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(
            switches >= 2,
            "a 400-day walk should switch regimes, got {switches}"
        );
        let (c, _) = regime_switching_walk(8, &sym, 400, 30_000.0, start);
        assert_ne!(a, c, "different seeds give different paths");
    }
}
