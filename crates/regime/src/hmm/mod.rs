//! A Gaussian hidden Markov model with diagonal covariances, fitted by Baum-Welch.
//!
//! Why an HMM: regimes are unobserved and *persistent*; an HMM models exactly that (a sticky
//! Markov chain of hidden states, each emitting features from its own distribution), and gives
//! both per-day posteriors (how sure are we today) and the single most likely path (Viterbi, for
//! the labelled history). Why diagonal Gaussians: the feature vector is tiny (a handful of
//! columns), a few years of daily data cannot support full covariances per state, and it keeps
//! the crate free of linear algebra.
//!
//! Numerics: forward-backward uses per-step scaling (Rabiner) with emissions shifted by their
//! per-day maximum, so nothing underflows; Viterbi works in log space. Variances are floored at
//! `variance_floor ×` the feature's overall variance so that no state can collapse onto a few
//! points, and fitted transition / initial probabilities are floored at [`PROB_FLOOR`] so that
//! every path keeps a (tiny) positive probability. Fitting is deterministic for a given seed:
//! restarts draw from one ChaCha8 stream, initialised by k-means++ picks refined by a few Lloyd
//! steps, and the restart with the highest final log-likelihood wins (ties: the earlier one).
//! Fitted states are reported in ascending order of their mean of feature 0.
//!
//! Evaluation (forward-backward, Viterbi) lives here; fitting (initialisation, EM) in the private `fit` submodule.

mod fit;
#[cfg(test)]
mod tests;

pub use fit::GaussianHmm;

use serde::{Deserialize, Serialize};

/// Smallest initial / transition probability a fit produces.
pub const PROB_FLOOR: f64 = 1e-12;
const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// Settings of [`GaussianHmm::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// Number of hidden states `K` (>= 1).
    pub n_states: usize,
    /// Most EM iterations per restart.
    pub max_iter: usize,
    /// Stop a restart when the log-likelihood improves by less than this (absolute).
    pub tol: f64,
    /// Independent random initialisations (>= 1); the best final log-likelihood wins.
    pub restarts: usize,
    /// Seed of the ChaCha8 stream all restarts draw from.
    pub seed: u64,
    /// Variance floor as a fraction of each feature's overall variance (> 0).
    pub variance_floor: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            n_states: 2,
            max_iter: 300,
            tol: 1e-4,
            restarts: 8,
            seed: 42,
            variance_floor: 1e-3,
        }
    }
}

/// Why fitting or evaluating failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HmmError {
    /// No observations, or observations with no features.
    #[error("no observations")]
    NoObservations,
    /// Fewer observations than the fit needs.
    #[error("need at least {needed} observations, got {got}")]
    TooFewObservations {
        /// Minimum.
        needed: usize,
        /// Given.
        got: usize,
    },
    /// A row has the wrong number of features.
    #[error("observation {row} has {got} features, expected {expected}")]
    DimensionMismatch {
        /// Row index.
        row: usize,
        /// Features per row expected.
        expected: usize,
        /// Features in that row.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("observation {row}, feature {col} is not finite")]
    NonFinite {
        /// Row index.
        row: usize,
        /// Feature index.
        col: usize,
    },
    /// A nonsensical [`FitConfig`].
    #[error("invalid fit config: {0}")]
    InvalidConfig(String),
    /// Parameters given to [`FittedHmm::new`] are inconsistent.
    #[error("invalid HMM parameters: {0}")]
    InvalidParameters(String),
    /// The observations have zero probability under the model (numerically).
    #[error("observations have zero probability under the model")]
    ZeroProbability,
}

/// How the winning restart converged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FitReport {
    /// Log-likelihood of the winning restart after each EM step; entry 0 is the initialisation.
    /// Never decreases (EM), up to rounding and the probability floor.
    pub log_likelihood_history: Vec<f64>,
    /// EM iterations the winning restart ran.
    pub iterations: usize,
    /// Whether it stopped on `tol` rather than `max_iter`.
    pub converged: bool,
    /// Final log-likelihood of every restart, `None` where a restart failed numerically.
    pub restart_log_likelihoods: Vec<Option<f64>>,
}

/// A fitted (or hand-built) HMM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedHmm {
    initial: Vec<f64>,
    transition: Vec<Vec<f64>>,
    means: Vec<Vec<f64>>,
    variances: Vec<Vec<f64>>,
    report: FitReport,
}

impl FittedHmm {
    /// A model from explicit parameters: `initial` (K, sums to 1), `transition` (K×K, rows sum
    /// to 1), `means` and `variances` (K×D, variances > 0).
    ///
    /// # Errors
    /// [`HmmError::InvalidParameters`] on inconsistent shapes or values.
    pub fn new(
        initial: Vec<f64>,
        transition: Vec<Vec<f64>>,
        means: Vec<Vec<f64>>,
        variances: Vec<Vec<f64>>,
    ) -> Result<Self, HmmError> {
        let bad = |m: &str| Err(HmmError::InvalidParameters(m.into()));
        let k = initial.len();
        let d = means.first().map_or(0, Vec::len);
        if k == 0 || d == 0 {
            return bad("need at least one state and one feature");
        }
        if transition.len() != k || means.len() != k || variances.len() != k {
            return bad("initial, transition, means and variances must have K entries");
        }
        let is_distribution = |p: &[f64]| {
            p.iter().all(|x| x.is_finite() && *x >= 0.0)
                && (p.iter().sum::<f64>() - 1.0).abs() < 1e-6
        };
        if !is_distribution(&initial)
            || !transition
                .iter()
                .all(|r| r.len() == k && is_distribution(r))
        {
            return bad(
                "initial and transition rows must be probability distributions over K states",
            );
        }
        if !means
            .iter()
            .all(|m| m.len() == d && m.iter().all(|x| x.is_finite()))
        {
            return bad("means must be finite, K×D");
        }
        if !variances
            .iter()
            .all(|v| v.len() == d && v.iter().all(|x| x.is_finite() && *x > 0.0))
        {
            return bad("variances must be positive and finite, K×D");
        }
        Ok(Self {
            initial,
            transition,
            means,
            variances,
            report: FitReport::default(),
        })
    }

    /// Number of hidden states `K`.
    pub fn n_states(&self) -> usize {
        self.initial.len()
    }
    /// Number of features `D`.
    pub fn n_features(&self) -> usize {
        self.means.first().map_or(0, Vec::len)
    }
    /// State means, K×D.
    pub fn means(&self) -> &[Vec<f64>] {
        &self.means
    }
    /// State variances (diagonal), K×D.
    pub fn variances(&self) -> &[Vec<f64>] {
        &self.variances
    }
    /// Transition matrix, `transition()[i][j] = P(s_{t+1} = j | s_t = i)`.
    pub fn transition(&self) -> &[Vec<f64>] {
        &self.transition
    }
    /// Initial state distribution.
    pub fn initial(&self) -> &[f64] {
        &self.initial
    }
    /// Convergence of the fit (empty for hand-built models).
    pub fn report(&self) -> &FitReport {
        &self.report
    }

    /// `ln P(obs)` under the model (forward algorithm).
    ///
    /// # Errors
    /// Empty / ragged / non-finite observations, or zero probability.
    pub fn log_likelihood<R: AsRef<[f64]>>(&self, obs: &[R]) -> Result<f64, HmmError> {
        let data = Obs::new(obs, Some(self.n_features()))?;
        Ok(self.forward(&self.log_emissions(&data))?.loglik)
    }

    /// Smoothed state posteriors `P(s_t = k | obs)`, one row per observation, rows sum to 1.
    ///
    /// # Errors
    /// As [`FittedHmm::log_likelihood`].
    pub fn posteriors<R: AsRef<[f64]>>(&self, obs: &[R]) -> Result<Vec<Vec<f64>>, HmmError> {
        let data = Obs::new(obs, Some(self.n_features()))?;
        let k = self.n_states();
        let stats = self.e_step(&self.log_emissions(&data), false)?;
        Ok(stats.gamma.chunks(k).map(<[f64]>::to_vec).collect())
    }

    /// The most likely state path (Viterbi); ties go to the lower state index.
    ///
    /// # Errors
    /// Empty / ragged / non-finite observations.
    pub fn viterbi<R: AsRef<[f64]>>(&self, obs: &[R]) -> Result<Vec<usize>, HmmError> {
        Ok(self.viterbi_with_score(obs)?.0)
    }

    /// The Viterbi path and its log joint probability `ln P(obs, path)`.
    ///
    /// # Errors
    /// As [`FittedHmm::viterbi`].
    pub fn viterbi_with_score<R: AsRef<[f64]>>(
        &self,
        obs: &[R],
    ) -> Result<(Vec<usize>, f64), HmmError> {
        let data = Obs::new(obs, Some(self.n_features()))?;
        let (k, t_len) = (self.n_states(), data.t);
        let logb = self.log_emissions(&data);
        let log_a: Vec<Vec<f64>> = self
            .transition
            .iter()
            .map(|r| r.iter().map(|p| p.ln()).collect())
            .collect();
        let mut delta: Vec<f64> = (0..k).map(|j| self.initial[j].ln() + logb[j]).collect();
        let mut psi = vec![0usize; t_len * k];
        let mut next = vec![0.0; k];
        for t in 1..t_len {
            for j in 0..k {
                let (mut arg, mut best) = (0, f64::NEG_INFINITY);
                for i in 0..k {
                    let v = delta[i] + log_a[i][j];
                    if v > best {
                        (arg, best) = (i, v);
                    }
                }
                psi[t * k + j] = arg;
                next[j] = best + logb[t * k + j];
            }
            std::mem::swap(&mut delta, &mut next);
        }
        let (mut state, mut score) = (0, f64::NEG_INFINITY);
        for (j, v) in delta.iter().enumerate() {
            if *v > score {
                (state, score) = (j, *v);
            }
        }
        let mut path = vec![0; t_len];
        for t in (0..t_len).rev() {
            path[t] = state;
            state = psi[t * k + state];
        }
        Ok((path, score))
    }

    /// `ln P(obs, path)`: the log joint probability of observations and a given state path.
    ///
    /// # Errors
    /// Bad observations, or a path of the wrong length / with out-of-range states.
    pub fn path_log_probability<R: AsRef<[f64]>>(
        &self,
        obs: &[R],
        path: &[usize],
    ) -> Result<f64, HmmError> {
        let data = Obs::new(obs, Some(self.n_features()))?;
        let k = self.n_states();
        if path.len() != data.t || path.iter().any(|s| *s >= k) {
            return Err(HmmError::InvalidParameters(
                "path must have one valid state per observation".into(),
            ));
        }
        let logb = self.log_emissions(&data);
        let mut lp = self.initial[path[0]].ln() + logb[path[0]];
        for t in 1..data.t {
            lp += self.transition[path[t - 1]][path[t]].ln() + logb[t * k + path[t]];
        }
        Ok(lp)
    }

    /// `ln N(x_t; mean_k, diag(var_k))`, T×K row-major.
    fn log_emissions(&self, data: &Obs) -> Vec<f64> {
        let k = self.n_states();
        let norm: Vec<f64> = self
            .variances
            .iter()
            .map(|v| -0.5 * v.iter().map(|s| LN_2PI + s.ln()).sum::<f64>())
            .collect();
        let mut out = Vec::with_capacity(data.t * k);
        for x in data.rows() {
            for ((mean, var), norm) in self.means.iter().zip(&self.variances).zip(&norm) {
                let quad: f64 = x
                    .iter()
                    .zip(mean)
                    .zip(var)
                    .map(|((x, m), v)| (x - m).powi(2) / v)
                    .sum();
                out.push(norm - 0.5 * quad);
            }
        }
        out
    }

    /// Scaled forward pass.
    fn forward(&self, logb: &[f64]) -> Result<Forward, HmmError> {
        let k = self.n_states();
        let t_len = logb.len() / k;
        let mut b = vec![0.0; t_len * k];
        let mut alpha = vec![0.0; t_len * k];
        let mut scale = vec![0.0; t_len];
        let mut loglik = 0.0;
        for t in 0..t_len {
            let row = &logb[t * k..(t + 1) * k];
            let shift = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            for j in 0..k {
                b[t * k + j] = (row[j] - shift).exp();
                let prior = if t == 0 {
                    self.initial[j]
                } else {
                    (0..k)
                        .map(|i| alpha[(t - 1) * k + i] * self.transition[i][j])
                        .sum()
                };
                alpha[t * k + j] = prior * b[t * k + j];
            }
            let c: f64 = alpha[t * k..(t + 1) * k].iter().sum();
            if !(c > 0.0 && c.is_finite() && shift.is_finite()) {
                return Err(HmmError::ZeroProbability);
            }
            alpha[t * k..(t + 1) * k].iter_mut().for_each(|a| *a /= c);
            scale[t] = c;
            loglik += c.ln() + shift;
        }
        Ok(Forward {
            alpha,
            b,
            scale,
            loglik,
        })
    }

    /// Forward-backward: posteriors and (optionally) expected transition counts.
    fn e_step(&self, logb: &[f64], with_xi: bool) -> Result<EStep, HmmError> {
        let k = self.n_states();
        let Forward {
            alpha,
            b,
            scale,
            loglik,
        } = self.forward(logb)?;
        let t_len = scale.len();
        let mut beta = vec![1.0; t_len * k];
        let mut xi = vec![vec![0.0; k]; k];
        for t in (0..t_len.saturating_sub(1)).rev() {
            for i in 0..k {
                let mut acc = 0.0;
                for j in 0..k {
                    let w = self.transition[i][j] * b[(t + 1) * k + j] * beta[(t + 1) * k + j]
                        / scale[t + 1];
                    acc += w;
                    if with_xi {
                        xi[i][j] += alpha[t * k + i] * w;
                    }
                }
                beta[t * k + i] = acc;
            }
        }
        let mut gamma = alpha;
        for (g_row, b_row) in gamma.chunks_mut(k).zip(beta.chunks(k)) {
            g_row.iter_mut().zip(b_row).for_each(|(g, b)| *g *= b);
            let sum: f64 = g_row.iter().sum();
            if !(sum > 0.0 && sum.is_finite()) {
                return Err(HmmError::ZeroProbability);
            }
            g_row.iter_mut().for_each(|g| *g /= sum);
        }
        Ok(EStep { gamma, xi, loglik })
    }
}

struct Forward {
    alpha: Vec<f64>,
    b: Vec<f64>,
    scale: Vec<f64>,
    loglik: f64,
}

struct EStep {
    gamma: Vec<f64>,
    xi: Vec<Vec<f64>>,
    loglik: f64,
}

/// Observations flattened row-major and checked.
struct Obs {
    t: usize,
    d: usize,
    data: Vec<f64>,
}

impl Obs {
    fn new<R: AsRef<[f64]>>(obs: &[R], expected: Option<usize>) -> Result<Self, HmmError> {
        let d = match expected {
            Some(d) => d,
            None => obs.first().map_or(0, |r| r.as_ref().len()),
        };
        if obs.is_empty() || d == 0 {
            return Err(HmmError::NoObservations);
        }
        let mut data = Vec::with_capacity(obs.len() * d);
        for (row, r) in obs.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != d {
                return Err(HmmError::DimensionMismatch {
                    row,
                    expected: d,
                    got: r.len(),
                });
            }
            if let Some(col) = r.iter().position(|x| !x.is_finite()) {
                return Err(HmmError::NonFinite { row, col });
            }
            data.extend_from_slice(r);
        }
        Ok(Self {
            t: obs.len(),
            d,
            data,
        })
    }

    fn rows(&self) -> std::slice::Chunks<'_, f64> {
        self.data.chunks(self.d)
    }

    /// Per-feature (population) variance.
    fn variances(&self) -> Vec<f64> {
        let n = self.t as f64;
        let mut mean = vec![0.0; self.d];
        for x in self.rows() {
            mean.iter_mut().zip(x).for_each(|(m, x)| *m += x / n);
        }
        let mut var = vec![0.0; self.d];
        for x in self.rows() {
            var.iter_mut()
                .zip(x.iter().zip(&mean))
                .for_each(|(v, (x, m))| *v += (x - m).powi(2) / n);
        }
        var
    }
}
