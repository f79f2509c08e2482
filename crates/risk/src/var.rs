//! Value at Risk and Conditional VaR (expected shortfall), three ways.
//!
//! Sign convention: both are **positive loss fractions** of portfolio value over one period
//! (one day for daily returns): VaR 0.03 means "on the worst `1 − c` of days we lose at least
//! 3 %". A negative number would mean even the tail quantile is a gain (a short, one-way sample).
//!
//! - **Historical** (Jorion, *Value at Risk*, 3rd ed., 2007, ch. 10): the empirical quantile of
//!   the returns. Quantile rule used here: sort the `n` returns ascending
//!   `r₍₁₎ ≤ … ≤ r₍ₙ₎`, take `k = ⌈(1 − c)·n⌉` (at least 1), then
//!   `VaR = −r₍ₖ₎` and `CVaR = −(1/k)·Σ_{i≤k} r₍ᵢ₎`, the mean of the tail at and below the VaR
//!   return. This is the "lower empirical quantile" (Hyndman & Fan 1996, definition 1, the
//!   inverse of the empirical CDF), so VaR is always an observed loss and CVaR ≥ VaR; it is the
//!   estimator of Acerbi & Tasche, "Expected shortfall: a natural coherent alternative to Value
//!   at Risk", *Economic Notes* 31(2), 2002, with the `k`-th order statistic as cut-off.
//!   `(1 − c)·n` is rounded down by 1e-9 before the ceiling so that `0.05 × 20` (which is
//!   `1.0000000000000009` in `f64`) gives `k = 1`, not 2.
//! - **Parametric Gaussian** (Jorion ch. 5; McNeil, Frey & Embrechts, *Quantitative Risk
//!   Management*, 2005, Example 2.18): with `z = Φ⁻¹(c)` ([`crate::normal::quantile`]),
//!   `VaR = −(μ − z·σ)` and `CVaR = −(μ − σ·φ(z)/(1 − c))`.
//! - **Monte Carlo** (Glasserman, *Monte Carlo Methods in Financial Engineering*, 2003, ch. 9):
//!   `N` one-period returns drawn from `N(μ, σ²)` by the Box–Muller transform (Box & Muller,
//!   "A note on the generation of random normal deviates", *Ann. Math. Stat.* 29, 1958) from a
//!   ChaCha8 stream seeded by the caller, then the historical rule above on the draws. Same seed
//!   and count, same answer, on every platform.
//!
//! `μ` and `σ` estimated from returns are the sample mean and sample standard deviation
//! ([`crate::stats`]).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Result, RiskError};
use crate::normal;
use crate::stats::{check_finite, check_len, check_non_negative, check_open_unit};

/// Observations the parametric and combined estimates need (a sample standard deviation).
pub const MIN_OBSERVATIONS: usize = 2;

/// Default Monte Carlo draw count (as the original service used).
pub const DEFAULT_SIMULATIONS: usize = 10_000;

/// VaR and CVaR at one confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VarEstimate {
    /// Confidence `c`, e.g. 0.95.
    pub confidence: f64,
    /// Value at Risk, a positive loss fraction.
    pub var: f64,
    /// Conditional VaR (expected shortfall), a positive loss fraction, `>= var`.
    pub cvar: f64,
}

/// How to run a Monte Carlo estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonteCarloConfig {
    /// Number of simulated one-period returns (at least 1).
    pub simulations: usize,
    /// Seed of the ChaCha8 stream.
    pub seed: u64,
}

impl Default for MonteCarloConfig {
    fn default() -> Self {
        Self {
            simulations: DEFAULT_SIMULATIONS,
            seed: 42,
        }
    }
}

/// A Monte Carlo estimate and how it was produced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MonteCarloVar {
    /// The estimate.
    pub estimate: VarEstimate,
    /// Draws used.
    pub simulations: usize,
    /// Seed used.
    pub seed: u64,
}

/// Index (0-based) of the VaR order statistic: `⌈(1 − c)·n⌉ − 1`, clamped to `0..n`.
fn tail_count(n: usize, confidence: f64) -> usize {
    let k = ((1.0 - confidence) * n as f64 - 1e-9).ceil();
    (k.max(1.0) as usize).min(n)
}

/// VaR and CVaR of a sample by the lower-quantile rule; reorders `sample` (O(n) selection).
fn empirical(sample: &mut [f64], confidence: f64) -> VarEstimate {
    let k = tail_count(sample.len(), confidence);
    let (tail, kth, _) = sample.select_nth_unstable_by(k - 1, f64::total_cmp);
    let kth = *kth;
    let tail_sum: f64 = tail.iter().sum::<f64>() + kth;
    VarEstimate {
        confidence,
        var: -kth,
        cvar: -tail_sum / k as f64,
    }
}

/// Historical VaR and CVaR of a return sample.
///
/// # Errors
/// Empty sample, a non-finite return, or `confidence` outside (0, 1).
///
/// # Examples
/// ```
/// // 20 returns; at 90 %, k = ⌈0.1 · 20⌉ = 2: VaR is minus the 2nd worst, CVaR the mean of two.
/// let r: Vec<f64> = (1..=20).map(|i| f64::from(i) / 100.0 - 0.1).collect();
/// let e = alphapulse_risk::var::historical(&r, 0.90).unwrap();
/// assert!((e.var - 0.08).abs() < 1e-12 && (e.cvar - 0.085).abs() < 1e-12);
/// ```
pub fn historical(returns: &[f64], confidence: f64) -> Result<VarEstimate> {
    check_open_unit(confidence, "confidence")?;
    check_len(returns, 1)?;
    check_finite(returns, "returns")?;
    Ok(empirical(&mut returns.to_vec(), confidence))
}

/// Parametric Gaussian VaR and CVaR for a given per-period mean and standard deviation.
///
/// # Errors
/// Non-finite `mean`, negative or non-finite `std_dev`, `confidence` outside (0, 1).
pub fn parametric(mean: f64, std_dev: f64, confidence: f64) -> Result<VarEstimate> {
    check_open_unit(confidence, "confidence")?;
    if !mean.is_finite() {
        return Err(RiskError::InvalidParameter {
            name: "mean",
            reason: "must be finite",
        });
    }
    check_non_negative(std_dev, "std_dev")?;
    let z = normal::quantile(confidence)?;
    Ok(VarEstimate {
        confidence,
        var: -(mean - z * std_dev),
        cvar: -(mean - std_dev * normal::pdf(z) / (1.0 - confidence)),
    })
}

/// Parametric Gaussian VaR and CVaR with `μ`, `σ` estimated from `returns`.
///
/// # Errors
/// Fewer than [`MIN_OBSERVATIONS`] returns, a non-finite return, bad `confidence`.
pub fn parametric_from_returns(returns: &[f64], confidence: f64) -> Result<VarEstimate> {
    let (mean, std_dev) = mean_std(returns)?;
    parametric(mean, std_dev, confidence)
}

/// Monte Carlo VaR and CVaR of Gaussian one-period returns `N(mean, std_dev²)`.
///
/// # Errors
/// `simulations == 0`, bad `mean`, `std_dev` or `confidence`.
pub fn monte_carlo(
    mean: f64,
    std_dev: f64,
    confidence: f64,
    config: MonteCarloConfig,
) -> Result<MonteCarloVar> {
    // Validates the parameters with the same rules as the closed form.
    parametric(mean, std_dev, confidence)?;
    if config.simulations == 0 {
        return Err(RiskError::InvalidParameter {
            name: "simulations",
            reason: "must be at least 1",
        });
    }
    let mut draws = gaussian_draws(mean, std_dev, config.simulations, config.seed);
    Ok(MonteCarloVar {
        estimate: empirical(&mut draws, confidence),
        simulations: config.simulations,
        seed: config.seed,
    })
}

/// `n` draws from `N(mean, std_dev²)`: Box–Muller, both outputs of each pair used.
fn gaussian_draws(mean: f64, std_dev: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        // u1 in (0, 1] so ln(u1) is finite; u2 in [0, 1).
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen::<f64>();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        out.push(mean + std_dev * radius * angle.cos());
        out.push(mean + std_dev * radius * angle.sin());
    }
    out.truncate(n);
    out
}

/// Sample mean and standard deviation, checked for VaR use.
fn mean_std(returns: &[f64]) -> Result<(f64, f64)> {
    let mean = crate::stats::mean(returns)?;
    let std_dev = crate::stats::std_dev(returns)?;
    Ok((mean, std_dev))
}

/// One figure by each method, as the risk metrics answer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ByMethod {
    /// Historical.
    pub historical: f64,
    /// Parametric Gaussian.
    pub parametric: f64,
    /// Monte Carlo.
    pub monte_carlo: f64,
}

/// VaR and CVaR of one return series by all three methods.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VarReport {
    /// Confidence `c`.
    pub confidence: f64,
    /// Returns the estimates rest on.
    pub observations: usize,
    /// VaR by method.
    pub var: ByMethod,
    /// CVaR by method.
    pub cvar: ByMethod,
    /// Monte Carlo draws.
    pub simulations: usize,
    /// Monte Carlo seed.
    pub seed: u64,
}

/// Historical, parametric and Monte Carlo VaR/CVaR of `returns`; the Monte Carlo draws use the
/// sample mean and standard deviation of `returns`.
///
/// # Errors
/// Fewer than [`MIN_OBSERVATIONS`] returns, a non-finite return, bad `confidence` or
/// `config.simulations == 0`.
pub fn report(returns: &[f64], confidence: f64, config: MonteCarloConfig) -> Result<VarReport> {
    let (mean, std_dev) = mean_std(returns)?;
    let h = historical(returns, confidence)?;
    let p = parametric(mean, std_dev, confidence)?;
    let mc = monte_carlo(mean, std_dev, confidence, config)?;
    Ok(VarReport {
        confidence,
        observations: returns.len(),
        var: ByMethod {
            historical: h.var,
            parametric: p.var,
            monte_carlo: mc.estimate.var,
        },
        cvar: ByMethod {
            historical: h.cvar,
            parametric: p.cvar,
            monte_carlo: mc.estimate.cvar,
        },
        simulations: mc.simulations,
        seed: mc.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Twenty daily returns (percent / 100); sorted ascending they are
    /// -4.5, -3.2, -2.8, -2.1, -1.5, -1.2, -0.8, -0.4, -0.1, 0.0,
    ///  0.3,  0.6,  0.9,  1.1,  1.4,  1.7,  2.0,  2.4,  2.9, 3.5.
    const SAMPLE: [f64; 20] = [
        0.011, -0.021, 0.003, -0.045, 0.017, 0.000, -0.008, 0.024, -0.032, 0.006, 0.014, -0.001,
        -0.015, 0.029, -0.028, 0.009, 0.035, -0.012, 0.020, -0.004,
    ];

    #[test]
    fn historical_var_of_twenty_values() {
        // c = 0.95: k = ceil(0.05 · 20) = 1 -> VaR = -r(1) = 0.045, CVaR = mean{-0.045} = 0.045.
        let e = historical(&SAMPLE, 0.95).unwrap();
        assert!((e.var - 0.045).abs() < 1e-12);
        assert!((e.cvar - 0.045).abs() < 1e-12);
        // c = 0.90: k = 2 -> VaR = -r(2) = 0.032, CVaR = (0.045 + 0.032) / 2 = 0.0385.
        let e = historical(&SAMPLE, 0.90).unwrap();
        assert!((e.var - 0.032).abs() < 1e-12);
        assert!((e.cvar - 0.0385).abs() < 1e-12);
        // c = 0.80: k = 4 -> VaR = 0.021, CVaR = (0.045 + 0.032 + 0.028 + 0.021) / 4 = 0.0315.
        let e = historical(&SAMPLE, 0.80).unwrap();
        assert!((e.var - 0.021).abs() < 1e-12);
        assert!((e.cvar - 0.0315).abs() < 1e-12);
    }

    #[test]
    fn historical_rank_survives_float_rounding() {
        // (1 - 0.95) * 20 is 1.0000000000000009 in f64; without the guard k would be 2.
        assert_eq!(tail_count(20, 0.95), 1);
        assert_eq!(tail_count(100, 0.99), 1);
        assert_eq!(tail_count(252, 0.95), 13); // 12.6 -> 13
        assert_eq!(tail_count(3, 0.95), 1); // 0.15 -> at least one
    }

    #[test]
    fn parametric_var_with_known_mu_sigma() {
        // μ = 0.001, σ = 0.02, c = 0.95, z = 1.6448536270, φ(z) = 0.1031356404.
        // VaR  = -(0.001 - 1.6448536270 · 0.02)           = 0.031897072540
        // CVaR = -(0.001 - 0.02 · 0.1031356404 / 0.05)    = 0.040254256
        let e = parametric(0.001, 0.02, 0.95).unwrap();
        assert!((e.var - 0.031_897_072_54).abs() < 1e-10);
        assert!((e.cvar - 0.040_254_256).abs() < 1e-8);
        // c = 0.99, μ = 0: VaR = 2.3263478740 · σ.
        let e = parametric(0.0, 0.01, 0.99).unwrap();
        assert!((e.var - 0.023_263_478_74).abs() < 1e-10);
        // σ = 0: no risk beyond the mean.
        let e = parametric(0.002, 0.0, 0.95).unwrap();
        assert_eq!((e.var, e.cvar), (-0.002, -0.002));
        assert!(parametric(0.0, -0.01, 0.95).is_err());
        assert!(parametric(f64::NAN, 0.01, 0.95).is_err());
        assert!(parametric(0.0, 0.01, 1.0).is_err());
    }

    #[test]
    fn monte_carlo_converges_to_parametric_for_100k_paths() {
        // Standard error of the 5 % quantile of N(μ, σ²) with n = 100 000:
        // sqrt(p(1-p)/n) / f(q) = sqrt(0.0475 / 1e5) / (φ(1.645) / σ) ≈ 1.3e-4, so 1e-3 is
        // about seven standard errors; the seed makes the run deterministic anyway.
        let config = MonteCarloConfig {
            simulations: 100_000,
            seed: 7,
        };
        let mc = monte_carlo(0.001, 0.02, 0.95, config).unwrap();
        let p = parametric(0.001, 0.02, 0.95).unwrap();
        assert_eq!(mc.simulations, 100_000);
        assert!((mc.estimate.var - p.var).abs() < 1e-3, "{mc:?} vs {p:?}");
        assert!(
            (mc.estimate.cvar - p.cvar).abs() < 1.5e-3,
            "{mc:?} vs {p:?}"
        );
        // Same seed, same answer.
        assert_eq!(monte_carlo(0.001, 0.02, 0.95, config).unwrap(), mc);
    }

    #[test]
    fn report_has_every_method_and_the_counts() {
        let config = MonteCarloConfig {
            simulations: 5_000,
            seed: 1,
        };
        let r = report(&SAMPLE, 0.95, config).unwrap();
        assert_eq!(r.observations, 20);
        assert_eq!(r.simulations, 5_000);
        assert!((r.var.historical - 0.045).abs() < 1e-12);
        assert!(r.cvar.parametric >= r.var.parametric);
        assert!(r.cvar.monte_carlo >= r.var.monte_carlo);
    }

    #[test]
    fn too_few_observations_say_how_many() {
        assert_eq!(
            historical(&[], 0.95),
            Err(RiskError::TooFewObservations { have: 0, need: 1 })
        );
        assert_eq!(
            report(&[0.01], 0.95, MonteCarloConfig::default()),
            Err(RiskError::TooFewObservations { have: 1, need: 2 })
        );
        let zero = MonteCarloConfig {
            simulations: 0,
            seed: 0,
        };
        assert!(monte_carlo(0.0, 0.01, 0.95, zero).is_err());
    }

    proptest! {
        #[test]
        fn cvar_is_at_least_var(
            r in prop::collection::vec(-0.5_f64..0.5, 1..200),
            c in 0.5_f64..0.999,
        ) {
            let e = historical(&r, c).unwrap();
            prop_assert!(e.cvar >= e.var - 1e-12);
            prop_assert!(e.var.is_finite() && e.cvar.is_finite());
            // VaR is an observed return.
            prop_assert!(r.iter().any(|x| (-x - e.var).abs() < 1e-15));
        }
    }
}
