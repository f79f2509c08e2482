//! Volatility, risk-adjusted return ratios and drawdown of a simple-return series.
//!
//! **Annualisation.** Crypto markets trade every calendar day, so a year of daily returns has
//! 365 observations, not the 252 trading days of equity markets: [`CRYPTO_PERIODS_PER_YEAR`].
//! Every function takes `periods_per_year` so hourly or weekly series can be annualised too.
//! Volatility scales with `√P` and mean return with `P`, which assumes independent, identically
//! distributed returns (Lo, "The Statistics of Sharpe Ratios", *Financial Analysts Journal*
//! 58(4), 2002; with autocorrelation the `√P` rule is biased).
//!
//! Formulas (`r` simple returns per period, `P` periods per year, `n` observations):
//! - annualised volatility `σ_a = s(r)·√P`, `s` the sample standard deviation (divisor `n − 1`).
//! - **Sharpe** (Sharpe, "The Sharpe Ratio", *Journal of Portfolio Management* 21(1), 1994):
//!   `√P · mean(r − r_f) / s(r − r_f)`, with `r_f = R_f / P` the per-period risk-free rate from
//!   an annual `R_f`. Undefined (`None`) when `s = 0`.
//! - **Sortino** (Sortino & Price, "Performance Measurement in a Downside Risk Framework",
//!   *Journal of Investing* 3(3), 1994), target `T = 0`: downside deviation
//!   `DD = √((1/n)·Σ min(r − T, 0)²)` over *all* `n` observations, ratio `√P · mean(r − T) / DD`.
//!   Undefined when no return is below the target (`DD = 0`), rather than +∞.
//! - **Maximum drawdown** (Magdon-Ismail & Atiya, "Maximum Drawdown", *Risk* 17(10), 2004): on
//!   the value path `V`, `max_t (peak_t − V_t) / peak_t` with `peak_t = max_{s≤t} V_s`, reported
//!   as a positive fraction (0.25 = a 25 % fall from the high). From returns, the path is
//!   `V_0 = 1, V_t = V_{t-1}·(1 + r_t)`.
//! - **Annualised return** (compound annual growth rate): `(Π(1 + r))^(P/n) − 1`; −1 when the
//!   path is wiped out (`Π(1 + r) ≤ 0`).
//! - **Calmar** (Young, "Calmar Ratio: A Smoother Tool", *Futures* 20(1), 1991): annualised
//!   (compound) return / maximum drawdown over the same window. Undefined when there is no
//!   drawdown.
//! - **Return since inception**: `Π(1 + r) − 1`, equivalently `V_n / V_0 − 1`.

use serde::Serialize;

use crate::error::Result;
use crate::stats::{check_finite, check_len, check_positive, finite, mean_unchecked, MIN_SAMPLE};

/// Periods per year for daily crypto returns: markets never close, so every calendar day is an
/// observation (equities would use 252).
pub const CRYPTO_PERIODS_PER_YEAR: f64 = 365.0;

fn checked(returns: &[f64], need: usize, periods_per_year: f64) -> Result<()> {
    check_positive(periods_per_year, "periods_per_year")?;
    check_len(returns, need)?;
    check_finite(returns, "returns")
}

/// Annualised volatility `s(r)·√P`.
///
/// # Errors
/// Fewer than two returns, a non-finite return, `periods_per_year <= 0`.
pub fn annualised_volatility(returns: &[f64], periods_per_year: f64) -> Result<f64> {
    checked(returns, MIN_SAMPLE, periods_per_year)?;
    Ok(crate::stats::std_dev(returns)? * periods_per_year.sqrt())
}

/// Annualised Sharpe ratio against an annual risk-free rate (0 for crypto-native books).
///
/// # Errors
/// Fewer than two returns, a non-finite input, `periods_per_year <= 0`.
pub fn sharpe_ratio(
    returns: &[f64],
    risk_free_annual: f64,
    periods_per_year: f64,
) -> Result<Option<f64>> {
    checked(returns, MIN_SAMPLE, periods_per_year)?;
    check_finite(&[risk_free_annual], "risk_free_annual")?;
    let rf = risk_free_annual / periods_per_year;
    let excess: Vec<f64> = returns.iter().map(|r| r - rf).collect();
    let s = crate::stats::std_dev(&excess)?;
    if s == 0.0 {
        return Ok(None);
    }
    Ok(finite(
        periods_per_year.sqrt() * mean_unchecked(&excess) / s,
    ))
}

/// Downside deviation below target 0: `√((1/n)·Σ min(r, 0)²)`, per period.
///
/// # Errors
/// Empty input or a non-finite return.
pub fn downside_deviation(returns: &[f64]) -> Result<f64> {
    check_len(returns, 1)?;
    check_finite(returns, "returns")?;
    let sum: f64 = returns.iter().map(|r| r.min(0.0).powi(2)).sum();
    Ok((sum / returns.len() as f64).sqrt())
}

/// Annualised Sortino ratio, target return 0.
///
/// # Errors
/// Fewer than two returns, a non-finite return, `periods_per_year <= 0`.
pub fn sortino_ratio(returns: &[f64], periods_per_year: f64) -> Result<Option<f64>> {
    checked(returns, MIN_SAMPLE, periods_per_year)?;
    let dd = downside_deviation(returns)?;
    if dd == 0.0 {
        return Ok(None);
    }
    Ok(finite(
        periods_per_year.sqrt() * mean_unchecked(returns) / dd,
    ))
}

/// The worst peak-to-trough fall of a value path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drawdown {
    /// `(peak − trough) / peak`, a positive fraction; 0 when the path never falls.
    pub max_drawdown: f64,
    /// Index of the peak in the value path.
    pub peak: usize,
    /// Index of the trough in the value path.
    pub trough: usize,
}

/// Maximum drawdown of a value path (prices or portfolio values, all `> 0`).
///
/// # Errors
/// Empty path, a non-finite value, or a value `<= 0`.
pub fn max_drawdown_of_values(values: &[f64]) -> Result<Drawdown> {
    check_len(values, 1)?;
    check_finite(values, "values")?;
    if let Some(index) = values.iter().position(|v| *v <= 0.0) {
        return Err(crate::RiskError::NonPositive {
            what: "values",
            index,
        });
    }
    Ok(drawdown_of_path(values.iter().copied()))
}

/// Maximum drawdown of the path `V_0 = 1, V_t = V_{t-1}(1 + r_t)`; indices refer to that path
/// (index 0 is the start, index `t` is after return `t − 1`).
///
/// A return of −100 % or worse wipes the path out: the drawdown is then 1 (everything lost).
///
/// # Errors
/// Empty input or a non-finite return.
pub fn max_drawdown(returns: &[f64]) -> Result<Drawdown> {
    check_len(returns, 1)?;
    check_finite(returns, "returns")?;
    let path = std::iter::once(1.0).chain(returns.iter().scan(1.0, |v, r| {
        *v *= 1.0 + r;
        Some(*v)
    }));
    Ok(drawdown_of_path(path))
}

/// How far the end of the path `V_0 = 1, V_t = V_{t-1}(1 + r_t)` is below its running peak:
/// `(peak − V_n) / peak`, a positive fraction (0 at a new high, 1 when wiped out). This is
/// the drawdown a limit is checked against *now*, unlike [`max_drawdown`], the worst one seen.
///
/// # Errors
/// Empty input or a non-finite return.
pub fn current_drawdown(returns: &[f64]) -> Result<f64> {
    check_len(returns, 1)?;
    check_finite(returns, "returns")?;
    let (mut value, mut peak) = (1.0_f64, 1.0_f64);
    for r in returns {
        value *= 1.0 + r;
        if value <= 0.0 {
            return Ok(1.0);
        }
        peak = peak.max(value);
    }
    Ok(((peak - value) / peak).clamp(0.0, 1.0))
}

fn drawdown_of_path(path: impl Iterator<Item = f64>) -> Drawdown {
    let mut best = Drawdown {
        max_drawdown: 0.0,
        peak: 0,
        trough: 0,
    };
    let (mut peak_value, mut peak_index) = (f64::NEG_INFINITY, 0);
    for (i, v) in path.enumerate() {
        if v > peak_value {
            (peak_value, peak_index) = (v, i);
        }
        // A path that hits zero or below has lost everything: cap at 1.
        let dd = ((peak_value - v) / peak_value).min(1.0);
        if dd > best.max_drawdown {
            best = Drawdown {
                max_drawdown: dd,
                peak: peak_index,
                trough: i,
            };
        }
        if v <= 0.0 {
            break;
        }
    }
    best
}

/// Growth of one unit over the series, `Π(1 + r)`.
fn growth(returns: &[f64]) -> f64 {
    returns.iter().map(|r| 1.0 + r).product()
}

/// Return since inception `Π(1 + r) − 1` (at least −1).
///
/// # Errors
/// Empty input or a non-finite return.
pub fn return_since_inception(returns: &[f64]) -> Result<f64> {
    check_len(returns, 1)?;
    check_finite(returns, "returns")?;
    Ok((growth(returns) - 1.0).max(-1.0))
}

/// Compound annual growth rate `(Π(1 + r))^(P/n) − 1`; `None` when it overflows `f64` (a very
/// short, very profitable sample has no meaningful annual rate).
///
/// # Errors
/// Empty input, a non-finite return, `periods_per_year <= 0`.
pub fn annualised_return(returns: &[f64], periods_per_year: f64) -> Result<Option<f64>> {
    checked(returns, 1, periods_per_year)?;
    let g = growth(returns);
    if g <= 0.0 {
        return Ok(Some(-1.0));
    }
    Ok(finite(
        g.powf(periods_per_year / returns.len() as f64) - 1.0,
    ))
}

/// Calmar ratio: annualised return / maximum drawdown.
///
/// # Errors
/// Empty input, a non-finite return, `periods_per_year <= 0`.
pub fn calmar_ratio(returns: &[f64], periods_per_year: f64) -> Result<Option<f64>> {
    let dd = max_drawdown(returns)?.max_drawdown;
    let annual = annualised_return(returns, periods_per_year)?;
    Ok(match annual {
        Some(a) if dd > 0.0 => finite(a / dd),
        _ => None,
    })
}

/// The performance block of the portfolio and risk answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Performance {
    /// Returns the figures rest on.
    pub observations: usize,
    /// Annualised volatility.
    pub volatility: f64,
    /// Annualised Sharpe ratio (risk-free 0).
    pub sharpe_ratio: Option<f64>,
    /// Annualised Sortino ratio (target 0).
    pub sortino_ratio: Option<f64>,
    /// Calmar ratio.
    pub calmar_ratio: Option<f64>,
    /// Maximum drawdown, positive fraction.
    pub max_drawdown: f64,
    /// Compound annual growth rate.
    pub annualised_return: Option<f64>,
    /// `Π(1 + r) − 1`.
    pub return_since_inception: f64,
}

/// Every ratio of this module at once, with a zero risk-free rate.
///
/// # Errors
/// Fewer than two returns, a non-finite return, `periods_per_year <= 0`.
///
/// # Examples
/// ```
/// use alphapulse_risk::ratios::{performance, CRYPTO_PERIODS_PER_YEAR};
/// let p = performance(&[0.01, -0.02, 0.03], CRYPTO_PERIODS_PER_YEAR).unwrap();
/// assert_eq!(p.observations, 3);
/// assert!((p.max_drawdown - 0.02).abs() < 1e-12);
/// ```
pub fn performance(returns: &[f64], periods_per_year: f64) -> Result<Performance> {
    checked(returns, MIN_SAMPLE, periods_per_year)?;
    Ok(Performance {
        observations: returns.len(),
        volatility: annualised_volatility(returns, periods_per_year)?,
        sharpe_ratio: sharpe_ratio(returns, 0.0, periods_per_year)?,
        sortino_ratio: sortino_ratio(returns, periods_per_year)?,
        calmar_ratio: calmar_ratio(returns, periods_per_year)?,
        max_drawdown: max_drawdown(returns)?.max_drawdown,
        annualised_return: annualised_return(returns, periods_per_year)?,
        return_since_inception: return_since_inception(returns)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RiskError;
    use proptest::prelude::*;

    const R: [f64; 5] = [0.01, -0.02, 0.03, 0.00, 0.02];

    #[test]
    fn volatility_and_sharpe_of_a_known_series() {
        // mean = 0.04 / 5 = 0.008; deviations 0.002, -0.028, 0.022, -0.008, 0.012;
        // squares sum = (4 + 784 + 484 + 64 + 144)e-6 = 1480e-6; sample var = 370e-6;
        // s = 0.0192353841; per-period Sharpe = 0.008 / 0.0192353841 = 0.4159006;
        // annualised ×√365 (19.1049732) = 7.945762; volatility 0.0192353841 · 19.1049732 = 0.3674915.
        let s = 370e-6_f64.sqrt();
        let vol = annualised_volatility(&R, CRYPTO_PERIODS_PER_YEAR).unwrap();
        assert!((vol - s * 365_f64.sqrt()).abs() < 1e-12);
        assert!((vol - 0.367_491_5).abs() < 1e-6);
        let sharpe = sharpe_ratio(&R, 0.0, CRYPTO_PERIODS_PER_YEAR)
            .unwrap()
            .unwrap();
        assert!((sharpe - 0.008 / s * 365_f64.sqrt()).abs() < 1e-12);
        assert!((sharpe - 7.945_762).abs() < 1e-5);
        // Risk-free 3.65 % a year = 0.0001 a day: (0.008 - 0.0001) / s · √365.
        let sharpe_rf = sharpe_ratio(&R, 0.0365, CRYPTO_PERIODS_PER_YEAR)
            .unwrap()
            .unwrap();
        assert!((sharpe_rf - 0.0079 / s * 365_f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn sortino_of_a_known_series() {
        // Downside: only -0.02 is below 0: DD = √(0.0004 / 5) = 0.0089442719;
        // Sortino = 0.008 / 0.0089442719 · √365 = 0.894427191 · 19.1049732 = 17.0880...
        let dd = downside_deviation(&R).unwrap();
        assert!((dd - (0.0004_f64 / 5.0).sqrt()).abs() < 1e-15);
        let sortino = sortino_ratio(&R, CRYPTO_PERIODS_PER_YEAR).unwrap().unwrap();
        assert!((sortino - 0.008 / dd * 365_f64.sqrt()).abs() < 1e-9);
        // No losing day: undefined, not infinite.
        assert_eq!(sortino_ratio(&[0.01, 0.02], 365.0).unwrap(), None);
    }

    #[test]
    fn current_drawdown_by_hand() {
        // Path 1 -> 1.1 -> 0.88 -> 0.968: peak 1.1, now 0.968, (1.1 - 0.968) / 1.1 = 0.12.
        let dd = current_drawdown(&[0.10, -0.20, 0.10]).unwrap();
        assert!((dd - 0.12).abs() < 1e-12, "{dd}");
        // A new high at the end: no drawdown now, whatever happened before.
        assert_eq!(current_drawdown(&[-0.5, 0.5, 0.5]).unwrap(), 0.0);
        assert_eq!(current_drawdown(&[0.1, -1.0]).unwrap(), 1.0);
        assert!(current_drawdown(&[]).is_err());
    }

    #[test]
    fn max_drawdown_of_a_known_path() {
        // 100, 120, 90, 110, 80, 130: peak 120 (index 1), trough 80 (index 4):
        // (120 - 80) / 120 = 1/3. The fall 120 -> 90 (25 %) is smaller.
        let dd = max_drawdown_of_values(&[100.0, 120.0, 90.0, 110.0, 80.0, 130.0]).unwrap();
        assert!((dd.max_drawdown - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((dd.peak, dd.trough), (1, 4));
        // The same path as returns: +20 %, -25 %, +22.2 %, -27.27 %, +62.5 %.
        let r = crate::returns::simple_returns(&[100.0, 120.0, 90.0, 110.0, 80.0, 130.0]).unwrap();
        let dd_r = max_drawdown(&r).unwrap();
        assert!((dd_r.max_drawdown - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((dd_r.peak, dd_r.trough), (1, 4));
        // Only rising: no drawdown.
        assert_eq!(max_drawdown(&[0.01, 0.02]).unwrap().max_drawdown, 0.0);
        // Wiped out: 1.
        assert_eq!(max_drawdown(&[0.1, -1.0, 0.5]).unwrap().max_drawdown, 1.0);
        assert!(max_drawdown_of_values(&[1.0, 0.0]).is_err());
    }

    #[test]
    fn calmar_and_annualised_return() {
        // Two days: +10 %, -10 %: growth 0.99, drawdown 10 %, P = 2 (toy annualisation):
        // annual = 0.99^(2/2) - 1 = -0.01; Calmar = -0.01 / 0.1 = -0.1.
        let r = [0.10, -0.10];
        assert!((return_since_inception(&r).unwrap() + 0.01).abs() < 1e-12);
        let a = annualised_return(&r, 2.0).unwrap().unwrap();
        assert!((a + 0.01).abs() < 1e-12);
        let c = calmar_ratio(&r, 2.0).unwrap().unwrap();
        assert!((c + 0.1).abs() < 1e-12);
        // 365 days of +0.1 % compound to 1.001^365 - 1 = 44.03 % a year.
        let daily = vec![0.001; 365];
        let a = annualised_return(&daily, 365.0).unwrap().unwrap();
        assert!((a - (1.001_f64.powi(365) - 1.0)).abs() < 1e-12);
        // No drawdown: Calmar undefined.
        assert_eq!(calmar_ratio(&daily, 365.0).unwrap(), None);
        // Overflow -> None, not inf.
        assert_eq!(annualised_return(&[1e6], 365.0).unwrap(), None);
    }

    #[test]
    fn zero_volatility_gives_none_and_short_input_errors() {
        assert_eq!(sharpe_ratio(&[0.01, 0.01, 0.01], 0.0, 365.0).unwrap(), None);
        assert_eq!(
            performance(&[0.01], 365.0),
            Err(RiskError::TooFewObservations { have: 1, need: 2 })
        );
        assert!(annualised_volatility(&R, 0.0).is_err());
        assert!(max_drawdown(&[]).is_err());
    }

    proptest! {
        #[test]
        fn performance_is_finite_and_drawdown_in_unit_interval(
            r in prop::collection::vec(-0.99_f64..1.0, 2..400)
        ) {
            let p = performance(&r, CRYPTO_PERIODS_PER_YEAR).unwrap();
            prop_assert!(p.volatility.is_finite() && p.volatility >= 0.0);
            prop_assert!((0.0..=1.0).contains(&p.max_drawdown));
            for v in [p.sharpe_ratio, p.sortino_ratio, p.calmar_ratio, p.annualised_return]
                .into_iter()
                .flatten()
            {
                prop_assert!(v.is_finite());
            }
            prop_assert!(p.return_since_inception >= -1.0);
        }
    }
}
