//! Correlation between return series: coefficients, matrices, rolling windows, high pairs.
//!
//! - **Pearson's r** (Pearson, "Mathematical Contributions to the Theory of Evolution III",
//!   *Phil. Trans. R. Soc. A* 187, 1896): `r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)²·Σ(y−ȳ)²)`, computed on
//!   centred values (two-pass) for accuracy, clamped to [−1, 1] against rounding.
//! - Spearman's ρ and Kendall's τ-b: see [`rank`].
//!
//! A series with zero variance has no correlation with anything: the coefficient is `None`
//! (JSON `null`), never NaN — including on the matrix diagonal for that series, since
//! `corr(X, X)` needs `var(X) > 0`. Every other diagonal entry is exactly 1.
//!
//! Inputs are returns aligned on common dates ([`crate::returns::align`]); at least two
//! observations (the API asks for 30).

pub mod rank;

use serde::Serialize;

pub use rank::{average_ranks, kendall_counts, kendall_tau_b, spearman, KendallCounts};

use crate::error::{Result, RiskError};
use crate::stats::{check_finite, check_pair, mean_unchecked, MIN_SAMPLE};

/// Which coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CorrelationMethod {
    /// Linear (Pearson's r).
    Pearson,
    /// Rank (Spearman's ρ).
    Spearman,
    /// Rank concordance (Kendall's τ-b).
    Kendall,
}

impl CorrelationMethod {
    /// Every method, in the order the API lists them.
    pub const ALL: [CorrelationMethod; 3] = [Self::Pearson, Self::Spearman, Self::Kendall];

    /// The lowercase name used in queries and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pearson => "pearson",
            Self::Spearman => "spearman",
            Self::Kendall => "kendall",
        }
    }
}

impl std::str::FromStr for CorrelationMethod {
    type Err = RiskError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(RiskError::InvalidParameter {
                name: "method",
                reason: "must be one of: pearson, spearman, kendall",
            })
    }
}

/// Centres `x` and scales it to unit norm; `None` when it has zero variance.
fn unit_centred(x: &[f64]) -> Option<Vec<f64>> {
    let m = mean_unchecked(x);
    let centred: Vec<f64> = x.iter().map(|v| v - m).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt();
    // A constant series centres to exact zeros; anything else has a positive norm.
    (norm > 0.0).then(|| centred.iter().map(|v| v / norm).collect())
}

fn dot_clamped(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x * y)
        .sum::<f64>()
        .clamp(-1.0, 1.0)
}

/// Pearson's r; `None` when either series is constant.
///
/// # Errors
/// Different lengths, fewer than two observations, a non-finite value.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    check_pair(x, y)?;
    Ok(match (unit_centred(x), unit_centred(y)) {
        (Some(a), Some(b)) => Some(dot_clamped(&a, &b)),
        _ => None,
    })
}

/// The coefficient chosen by `method`.
///
/// # Errors
/// As [`pearson`].
pub fn correlation(x: &[f64], y: &[f64], method: CorrelationMethod) -> Result<Option<f64>> {
    match method {
        CorrelationMethod::Pearson => pearson(x, y),
        CorrelationMethod::Spearman => spearman(x, y),
        CorrelationMethod::Kendall => kendall_tau_b(x, y),
    }
}

/// A symmetric correlation matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatrix {
    /// The coefficient used.
    pub method: CorrelationMethod,
    /// Observations per series.
    pub observations: usize,
    /// `matrix[i][j]` = correlation of series `i` and `j`; `None` where undefined.
    pub matrix: Vec<Vec<Option<f64>>>,
}

impl CorrelationMatrix {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.matrix.len()
    }

    /// Always false: a matrix has at least two series.
    pub fn is_empty(&self) -> bool {
        self.matrix.is_empty()
    }

    /// Mean of the defined off-diagonal coefficients (each pair once); `None` if none is.
    pub fn average_correlation(&self) -> Option<f64> {
        let values: Vec<f64> = self.upper_triangle().map(|(_, _, r)| r).collect();
        (!values.is_empty()).then(|| mean_unchecked(&values))
    }

    fn upper_triangle(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.matrix.iter().enumerate().flat_map(|(i, row)| {
            row.iter()
                .enumerate()
                .skip(i + 1)
                .filter_map(move |(j, r)| r.map(|r| (i, j, r)))
        })
    }
}

/// Checks `k >= 2` finite series of one length `>= 2`; returns that length.
fn check_series<S: AsRef<[f64]>>(series: &[S]) -> Result<usize> {
    if series.len() < 2 {
        return Err(RiskError::TooFewSeries {
            have: series.len(),
            need: 2,
        });
    }
    let n = series[0].as_ref().len();
    for s in series {
        let s = s.as_ref();
        if s.len() != n {
            return Err(RiskError::LengthMismatch {
                what: "series",
                expected: n,
                got: s.len(),
            });
        }
        check_finite(s, "series")?;
    }
    if n < MIN_SAMPLE {
        return Err(RiskError::TooFewObservations {
            have: n,
            need: MIN_SAMPLE,
        });
    }
    Ok(n)
}

/// The correlation matrix of `k >= 2` aligned series.
///
/// Pearson and Spearman standardise each series (or its ranks) once and take dot products,
/// O(k²·n); Kendall runs Knight's algorithm per pair, O(k²·n log n).
///
/// # Errors
/// Fewer than two series, series of different lengths, fewer than two observations, a
/// non-finite value.
pub fn correlation_matrix<S: AsRef<[f64]>>(
    series: &[S],
    method: CorrelationMethod,
) -> Result<CorrelationMatrix> {
    let n = check_series(series)?;
    let k = series.len();
    let mut matrix = vec![vec![None; k]; k];
    match method {
        CorrelationMethod::Pearson | CorrelationMethod::Spearman => {
            let units: Vec<Option<Vec<f64>>> = series
                .iter()
                .map(|s| match method {
                    CorrelationMethod::Spearman => unit_centred(&average_ranks(s.as_ref())),
                    _ => unit_centred(s.as_ref()),
                })
                .collect();
            for i in 0..k {
                for j in i..k {
                    let r = match (&units[i], &units[j]) {
                        (Some(_), Some(_)) if i == j => Some(1.0),
                        (Some(a), Some(b)) => Some(dot_clamped(a, b)),
                        _ => None,
                    };
                    matrix[i][j] = r;
                    matrix[j][i] = r;
                }
            }
        }
        CorrelationMethod::Kendall => {
            for i in 0..k {
                for j in i..k {
                    let (a, b) = (series[i].as_ref(), series[j].as_ref());
                    let r = if i == j {
                        unit_centred(a).map(|_| 1.0)
                    } else {
                        kendall_tau_b(a, b)?
                    };
                    matrix[i][j] = r;
                    matrix[j][i] = r;
                }
            }
        }
    }
    Ok(CorrelationMatrix {
        method,
        observations: n,
        matrix,
    })
}

/// Correlation over each window of `window` consecutive observations; element `i` covers
/// observations `i ..= i + window − 1` (so it belongs to the date of observation
/// `i + window − 1`). `x.len() − window + 1` values.
///
/// # Errors
/// `window < 2`, series shorter than `window` ([`RiskError::TooFewObservations`] with
/// `need = window`), different lengths, a non-finite value.
pub fn rolling_correlation(
    x: &[f64],
    y: &[f64],
    window: usize,
    method: CorrelationMethod,
) -> Result<Vec<Option<f64>>> {
    if window < MIN_SAMPLE {
        return Err(RiskError::InvalidParameter {
            name: "window",
            reason: "must be at least 2",
        });
    }
    if x.len() < window {
        return Err(RiskError::TooFewObservations {
            have: x.len(),
            need: window,
        });
    }
    check_pair(x, y)?;
    (0..=x.len() - window)
        .map(|i| correlation(&x[i..i + window], &y[i..i + window], method))
        .collect()
}

/// Summary of a rolling correlation series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RollingSummary {
    /// The last window's value.
    pub current: Option<f64>,
    /// Mean of the defined values.
    pub average: f64,
    /// Smallest defined value.
    pub min: f64,
    /// Largest defined value.
    pub max: f64,
}

/// Current, average, min and max of a rolling series; `None` if no window is defined.
pub fn summarize(rolling: &[Option<f64>]) -> Option<RollingSummary> {
    let defined: Vec<f64> = rolling.iter().flatten().copied().collect();
    if defined.is_empty() {
        return None;
    }
    Some(RollingSummary {
        current: rolling.last().copied().flatten(),
        average: mean_unchecked(&defined),
        min: defined.iter().copied().fold(f64::INFINITY, f64::min),
        max: defined.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Two series whose correlation is high in absolute value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CorrelatedPair {
    /// Index of the first series.
    pub first: usize,
    /// Index of the second series (`> first`).
    pub second: usize,
    /// Their correlation.
    pub correlation: f64,
}

/// Pairs with `|ρ| > threshold`, strongest first (the API's concentration uses 0.7).
///
/// # Errors
/// `threshold` outside [0, 1].
pub fn high_correlation_pairs(
    matrix: &CorrelationMatrix,
    threshold: f64,
) -> Result<Vec<CorrelatedPair>> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(RiskError::InvalidParameter {
            name: "threshold",
            reason: "must be in [0, 1]",
        });
    }
    let mut pairs: Vec<CorrelatedPair> = matrix
        .upper_triangle()
        .filter(|(_, _, r)| r.abs() > threshold)
        .map(|(first, second, correlation)| CorrelatedPair {
            first,
            second,
            correlation,
        })
        .collect();
    pairs.sort_by(|a, b| b.correlation.abs().total_cmp(&a.correlation.abs()));
    Ok(pairs)
}

#[cfg(test)]
mod tests;
