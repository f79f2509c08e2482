//! Where a portfolio's risk comes from: volatility, risk contributions, diversification.
//!
//! `w` are portfolio weights, `Σ` the covariance matrix of the assets' returns (per period; every
//! ratio here is scale-free, and `σ_p` is in the covariance's period — multiply by `√P` to
//! annualise).
//!
//! - Portfolio volatility `σ_p = √(wᵀΣw)` (Markowitz, "Portfolio Selection", *Journal of
//!   Finance* 7(1), 1952).
//! - **Risk contributions** (Euler allocation; Litterman, "Hot Spots and Hedges", *Journal of
//!   Portfolio Management* 23, 1996; Maillard, Roncalli & Teiletche, "The Properties of Equally
//!   Weighted Risk Contribution Portfolios", *JPM* 36(4), 2010):
//!   `RC_i = w_i·(Σw)_i / σ_p`. Since `σ_p` is homogeneous of degree one in `w`, Euler's theorem
//!   gives `Σ_i RC_i = σ_p`. Risk shares `s_i = RC_i / σ_p` sum to 1 (a hedge has `s_i < 0`).
//! - **Diversification ratio** (Choueifaty & Coignard, "Toward Maximum Diversification",
//!   *JPM* 35(1), 2008): `DR = Σ_i |w_i|·σ_i / σ_p`, ≥ 1 for long-only books, 1 when everything
//!   is perfectly correlated. Absolute weights so that a short counts as exposure, not as a
//!   negative volatility.
//! - **Effective number of assets**: `N_eff = 1 / Σ_i s_i²`, the inverse Herfindahl index of the
//!   risk shares (Meucci, "Managing Diversification", *Risk* 22(5), 2009, uses the same entropy
//!   idea on principal components; we use assets because that is what the tenant can trade).
//!   `N_eff = n` when every asset carries the same risk, 1 when one asset carries it all.
//! - **Concentration score**: the Herfindahl index of the risk shares, `H = Σ_i s_i²`
//!   (Herfindahl 1950; Hirschman 1945), clamped to [0, 1]. It is `1/n` for an even spread and 1
//!   for a single source of risk; it only exceeds 1 (and is clamped) when hedges make some
//!   shares negative. Unlike a score normalised by `n`, it compares books of different sizes:
//!   two equal bets score 0.5, twenty score 0.05.
//! - Covariance from aligned returns: the sample covariance (divisor `n − 1`) of each pair.
//!
//! When `σ_p = 0` (all weights zero, or only riskless assets) every ratio is undefined: `None`.

use serde::Serialize;

use crate::error::{Result, RiskError};
use crate::stats::{check_finite, mean_unchecked, MIN_SAMPLE};

/// Sample covariance matrix (divisor `n − 1`) of aligned series (one per asset, equal lengths).
///
/// # Errors
/// No series, series of different lengths, fewer than two observations, a non-finite value.
pub fn covariance_matrix<S: AsRef<[f64]>>(series: &[S]) -> Result<Vec<Vec<f64>>> {
    let first = series
        .first()
        .ok_or(RiskError::TooFewSeries { have: 0, need: 1 })?;
    let n = first.as_ref().len();
    for s in series {
        let s = s.as_ref();
        if s.len() != n {
            return Err(RiskError::LengthMismatch {
                what: "return series",
                expected: n,
                got: s.len(),
            });
        }
        check_finite(s, "return series")?;
    }
    if n < MIN_SAMPLE {
        return Err(RiskError::TooFewObservations {
            have: n,
            need: MIN_SAMPLE,
        });
    }
    let centred: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let s = s.as_ref();
            let m = mean_unchecked(s);
            s.iter().map(|v| v - m).collect()
        })
        .collect();
    let k = centred.len();
    let mut cov = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in i..k {
            let c = dot(&centred[i], &centred[j]) / (n - 1) as f64;
            cov[i][j] = c;
            cov[j][i] = c;
        }
    }
    Ok(cov)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Checks `cov` is a finite, symmetric `n × n` matrix with a non-negative diagonal.
///
/// # Errors
/// [`RiskError::LengthMismatch`], [`RiskError::NonFinite`], [`RiskError::InvalidParameter`].
pub fn check_covariance(cov: &[Vec<f64>], n: usize) -> Result<()> {
    if cov.len() != n {
        return Err(RiskError::LengthMismatch {
            what: "covariance rows",
            expected: n,
            got: cov.len(),
        });
    }
    for (i, row) in cov.iter().enumerate() {
        if row.len() != n {
            return Err(RiskError::LengthMismatch {
                what: "covariance row",
                expected: n,
                got: row.len(),
            });
        }
        if check_finite(row, "covariance").is_err() {
            return Err(RiskError::NonFinite {
                what: "covariance row",
                index: i,
            });
        }
        if row[i] < 0.0 {
            return Err(RiskError::InvalidParameter {
                name: "covariance",
                reason: "a variance on the diagonal is negative",
            });
        }
        for j in 0..i {
            let scale = row[j].abs().max(cov[j][i].abs()).max(f64::MIN_POSITIVE);
            if (row[j] - cov[j][i]).abs() > 1e-9 * scale {
                return Err(RiskError::InvalidParameter {
                    name: "covariance",
                    reason: "must be symmetric",
                });
            }
        }
    }
    Ok(())
}

fn check_inputs(weights: &[f64], cov: &[Vec<f64>]) -> Result<()> {
    if weights.is_empty() {
        return Err(RiskError::TooFewSeries { have: 0, need: 1 });
    }
    check_finite(weights, "weights")?;
    check_covariance(cov, weights.len())
}

/// `Σw`.
fn cov_times(cov: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    cov.iter().map(|row| dot(row, w)).collect()
}

/// `√(wᵀΣw)`, with rounding noise below zero clamped to 0.
fn volatility_unchecked(weights: &[f64], sigma_w: &[f64]) -> f64 {
    dot(weights, sigma_w).max(0.0).sqrt()
}

/// Portfolio volatility `√(wᵀΣw)`.
///
/// # Errors
/// Empty or non-finite weights, or a covariance matrix that is not a valid `n × n` matrix.
pub fn portfolio_volatility(weights: &[f64], cov: &[Vec<f64>]) -> Result<f64> {
    check_inputs(weights, cov)?;
    Ok(volatility_unchecked(weights, &cov_times(cov, weights)))
}

/// Risk contributions and shares of a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskContributions {
    /// `σ_p`.
    pub portfolio_volatility: f64,
    /// `RC_i = w_i (Σw)_i / σ_p`; they sum to `σ_p`.
    pub contributions: Vec<f64>,
    /// `RC_i / σ_p`; they sum to 1.
    pub shares: Vec<f64>,
}

/// Euler risk contributions; `None` when `σ_p = 0`.
///
/// # Errors
/// As [`portfolio_volatility`].
pub fn risk_contributions(weights: &[f64], cov: &[Vec<f64>]) -> Result<Option<RiskContributions>> {
    check_inputs(weights, cov)?;
    let sigma_w = cov_times(cov, weights);
    let vol = volatility_unchecked(weights, &sigma_w);
    if vol == 0.0 {
        return Ok(None);
    }
    let contributions: Vec<f64> = weights
        .iter()
        .zip(&sigma_w)
        .map(|(w, sw)| w * sw / vol)
        .collect();
    let shares = contributions.iter().map(|c| c / vol).collect();
    Ok(Some(RiskContributions {
        portfolio_volatility: vol,
        contributions,
        shares,
    }))
}

/// Diversification ratio `Σ|w_i|σ_i / σ_p`; `None` when `σ_p = 0`.
///
/// # Errors
/// As [`portfolio_volatility`].
pub fn diversification_ratio(weights: &[f64], cov: &[Vec<f64>]) -> Result<Option<f64>> {
    let vol = portfolio_volatility(weights, cov)?;
    if vol == 0.0 {
        return Ok(None);
    }
    let weighted: f64 = weights
        .iter()
        .enumerate()
        .map(|(i, w)| w.abs() * cov[i][i].sqrt())
        .sum();
    Ok(crate::stats::finite(weighted / vol))
}

/// The concentration block of the correlation answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concentration {
    /// `σ_p`, per period of the covariance.
    pub portfolio_volatility: f64,
    /// Risk contributions (sum to `σ_p`).
    pub risk_contributions: Option<Vec<f64>>,
    /// Risk shares (sum to 1).
    pub risk_shares: Option<Vec<f64>>,
    /// `Σ|w_i|σ_i / σ_p`.
    pub diversification_ratio: Option<f64>,
    /// `1 / Σ s_i²`.
    pub effective_assets: Option<f64>,
    /// `Σ s_i²` clamped to [0, 1].
    pub concentration_score: Option<f64>,
}

/// Every concentration figure at once.
///
/// # Errors
/// As [`portfolio_volatility`].
///
/// # Examples
/// ```
/// // Two uncorrelated assets with equal variance, half each: even risk.
/// let cov = vec![vec![0.04, 0.0], vec![0.0, 0.04]];
/// let c = alphapulse_risk::concentration::concentration(&[0.5, 0.5], &cov).unwrap();
/// assert!((c.effective_assets.unwrap() - 2.0).abs() < 1e-12);
/// assert!((c.concentration_score.unwrap() - 0.5).abs() < 1e-12);
/// assert!((c.diversification_ratio.unwrap() - 2_f64.sqrt()).abs() < 1e-12);
/// ```
pub fn concentration(weights: &[f64], cov: &[Vec<f64>]) -> Result<Concentration> {
    let Some(rc) = risk_contributions(weights, cov)? else {
        return Ok(Concentration {
            portfolio_volatility: 0.0,
            risk_contributions: None,
            risk_shares: None,
            diversification_ratio: None,
            effective_assets: None,
            concentration_score: None,
        });
    };
    let hhi: f64 = rc.shares.iter().map(|s| s * s).sum();
    Ok(Concentration {
        portfolio_volatility: rc.portfolio_volatility,
        diversification_ratio: diversification_ratio(weights, cov)?,
        effective_assets: crate::stats::finite(1.0 / hhi),
        concentration_score: crate::stats::finite(hhi.clamp(0.0, 1.0)),
        risk_contributions: Some(rc.contributions),
        risk_shares: Some(rc.shares),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_asset_contributions_by_hand() {
        // σ1 = 0.2, σ2 = 0.1, ρ = 0.5: Σ = [[0.04, 0.01], [0.01, 0.01]], w = (0.5, 0.5).
        // Σw = (0.025, 0.01); wᵀΣw = 0.0125 + 0.005 = 0.0175; σ_p = 0.1322876.
        // RC = (0.5·0.025, 0.5·0.01) / σ_p = (0.0944911, 0.0377964), sum σ_p.
        // Shares 0.0125/0.0175 = 5/7 and 2/7; HHI = 29/49; N_eff = 49/29 = 1.6896552.
        // DR = (0.5·0.2 + 0.5·0.1) / 0.1322876 = 1.1338934.
        let cov = vec![vec![0.04, 0.01], vec![0.01, 0.01]];
        let w = [0.5, 0.5];
        let c = concentration(&w, &cov).unwrap();
        assert!((c.portfolio_volatility - 0.0175_f64.sqrt()).abs() < 1e-15);
        let shares = c.risk_shares.unwrap();
        assert!((shares[0] - 5.0 / 7.0).abs() < 1e-12);
        assert!((shares[1] - 2.0 / 7.0).abs() < 1e-12);
        assert!((c.effective_assets.unwrap() - 49.0 / 29.0).abs() < 1e-12);
        assert!((c.concentration_score.unwrap() - 29.0 / 49.0).abs() < 1e-12);
        assert!((c.diversification_ratio.unwrap() - 0.15 / 0.0175_f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn covariance_from_returns() {
        // x = (1, 2, 3), y = (2, 4, 7): means 2 and 13/3; cov = ((-1)(-7/3) + 0 + (1)(8/3)) / 2
        // = (7/3 + 8/3) / 2 = 2.5; var x = 1; var y = (49/9 + 1/9 + 64/9) / 2 = 114/18.
        let cov = covariance_matrix(&[vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 7.0]]).unwrap();
        assert!((cov[0][0] - 1.0).abs() < 1e-12);
        assert!((cov[0][1] - 2.5).abs() < 1e-12 && cov[0][1] == cov[1][0]);
        assert!((cov[1][1] - 114.0 / 18.0).abs() < 1e-12);
        assert_eq!(
            covariance_matrix(&[vec![1.0]]),
            Err(RiskError::TooFewObservations { have: 1, need: 2 })
        );
        let none: [Vec<f64>; 0] = [];
        assert!(covariance_matrix(&none).is_err());
    }

    #[test]
    fn degenerate_inputs() {
        let cov = vec![vec![0.04, 0.0], vec![0.0, 0.01]];
        let c = concentration(&[0.0, 0.0], &cov).unwrap();
        assert_eq!(c.portfolio_volatility, 0.0);
        assert_eq!(c.effective_assets, None);
        assert!(portfolio_volatility(&[1.0], &cov).is_err());
        assert!(portfolio_volatility(&[1.0, 0.0], &[vec![0.04, 0.02], vec![0.0, 0.01]]).is_err());
        assert!(portfolio_volatility(&[1.0, 0.0], &[vec![-0.04, 0.0], vec![0.0, 0.01]]).is_err());
    }

    /// A random positive semi-definite covariance `A·Aᵀ` with weights summing to 1.
    fn book() -> impl Strategy<Value = (Vec<f64>, Vec<Vec<f64>>)> {
        (1_usize..8).prop_flat_map(|n| {
            (
                prop::collection::vec(0.01_f64..1.0, n),
                prop::collection::vec(prop::collection::vec(-0.3_f64..0.3, n), n),
            )
                .prop_map(|(raw, a)| {
                    let total: f64 = raw.iter().sum();
                    let w: Vec<f64> = raw.iter().map(|x| x / total).collect();
                    let n = a.len();
                    let mut cov = vec![vec![0.0; n]; n];
                    for i in 0..n {
                        for j in 0..n {
                            cov[i][j] = dot(&a[i], &a[j]) + if i == j { 1e-4 } else { 0.0 };
                        }
                    }
                    (w, cov)
                })
        })
    }

    proptest! {
        #[test]
        fn contributions_sum_to_volatility_and_weights_to_one((w, cov) in book()) {
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let rc = risk_contributions(&w, &cov).unwrap().unwrap();
            let sum: f64 = rc.contributions.iter().sum();
            prop_assert!((sum - rc.portfolio_volatility).abs() < 1e-12 * rc.portfolio_volatility.max(1.0));
            prop_assert!((rc.shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let c = concentration(&w, &cov).unwrap();
            let n = w.len() as f64;
            let eff = c.effective_assets.unwrap();
            prop_assert!(c.concentration_score.unwrap() <= 1.0 && c.concentration_score.unwrap() > 0.0);
            // Long-only: every share is in [0, 1] unless a negative covariance makes a hedge,
            // and N_eff never exceeds n (Cauchy–Schwarz on shares summing to 1).
            prop_assert!(eff <= n + 1e-9);
            prop_assert!(c.diversification_ratio.unwrap() >= 1.0 - 1e-9);
        }
    }
}
