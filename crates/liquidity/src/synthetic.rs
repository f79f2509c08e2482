//! Reproducible synthetic daily bars with a known spread, for tests, benches and demo data.
//!
//! The mid-price follows a driftless geometric random walk sampled [`STEPS_PER_DAY`] times a
//! day, with per-step volatility `daily_vol / sqrt(STEPS_PER_DAY)`; each sample trades at the
//! ask `mid (1 + spread/2)` or the bid `mid (1 - spread/2)` with equal chance (the setting of
//! Corwin & Schultz and Abdi & Ranaldo). A day's open, high, low and close are its first,
//! highest, lowest and last trades; the market trades around the clock, so a day starts where
//! the previous one ended. Volume is log-normal with mean `mean_volume` (log-sd 0.5).
//! Deterministic for a seed (xorshift64* and Box-Muller; no dependency).

use chrono::{Days, NaiveDate};

use crate::bar::Bar;

/// Trades sampled per day.
pub const STEPS_PER_DAY: usize = 96;

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Any non-zero state works; mix the seed so that 0 and nearby seeds differ.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `(0, 1]`.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// `days` daily bars from `start`: a random walk from `price` with daily volatility
/// `daily_vol`, no planted spread (trades at the mid), mean volume `mean_volume`.
#[must_use]
pub fn random_walk(
    seed: u64,
    start: NaiveDate,
    days: usize,
    price: f64,
    daily_vol: f64,
    mean_volume: f64,
) -> Vec<Bar> {
    with_spread(seed, start, days, price, daily_vol, 0.0, mean_volume)
}

/// As [`random_walk`], with trades at a bid-ask `spread` (a fraction) around the mid.
#[must_use]
pub fn with_spread(
    seed: u64,
    start: NaiveDate,
    days: usize,
    price: f64,
    daily_vol: f64,
    spread: f64,
    mean_volume: f64,
) -> Vec<Bar> {
    let mut rng = Rng::new(seed);
    let step_vol = daily_vol / (STEPS_PER_DAY as f64).sqrt();
    let mut mid = price;
    let mut bars = Vec::with_capacity(days);
    for day in 0..days {
        let (mut open, mut high, mut low, mut close) = (0.0, f64::MIN, f64::MAX, 0.0);
        for step in 0..STEPS_PER_DAY {
            mid *= (step_vol * rng.normal() - 0.5 * step_vol * step_vol).exp();
            let side = if rng.uniform() < 0.5 { 1.0 } else { -1.0 };
            let trade = mid * (1.0 + side * spread / 2.0);
            if step == 0 {
                open = trade;
            }
            high = high.max(trade);
            low = low.min(trade);
            close = trade;
        }
        let volume = mean_volume * (0.5 * rng.normal() - 0.125).exp();
        bars.push(Bar {
            date: start + Days::new(day as u64),
            open,
            high,
            low,
            close,
            volume,
        });
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar::validate_series;
    use crate::spread::{abdi_ranaldo, corwin_schultz};

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
    }

    #[test]
    fn bars_are_valid_and_reproducible() {
        let a = with_spread(1, start(), 50, 100.0, 0.03, 0.002, 10.0);
        assert_eq!(validate_series("synthetic", &a, 50), Ok(()));
        assert_eq!(a, with_spread(1, start(), 50, 100.0, 0.03, 0.002, 10.0));
        assert_ne!(a, with_spread(2, start(), 50, 100.0, 0.03, 0.002, 10.0));
        let mean_volume = a.iter().map(|b| b.volume).sum::<f64>() / 50.0;
        assert!((mean_volume / 10.0 - 1.0).abs() < 0.25, "{mean_volume}");
    }

    #[test]
    fn estimators_recover_a_planted_spread_when_volatility_is_low() {
        // A 1 % spread with 0.3 % daily volatility over two years: both estimators land
        // near 1 % (loose bands: discrete trades make the range miss the quotes sometimes).
        let bars = with_spread(11, start(), 730, 100.0, 0.003, 0.01, 10.0);
        let cs = corwin_schultz(&bars, true).unwrap().spread;
        let chl = abdi_ranaldo(&bars).unwrap().spread;
        assert!((0.006..0.014).contains(&cs), "corwin-schultz {cs}");
        assert!((0.006..0.014).contains(&chl), "abdi-ranaldo {chl}");
        // Without a spread they read (close to) zero.
        let clean = random_walk(11, start(), 730, 100.0, 0.003, 10.0);
        assert!(corwin_schultz(&clean, true).unwrap().spread < 0.003);
        assert!(abdi_ranaldo(&clean).unwrap().spread < 0.003);
    }
}
