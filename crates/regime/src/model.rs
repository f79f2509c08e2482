//! The regime model end to end: candles in, a [`RegimeSnapshot`] out.
//!
//! Why one entry point: callers (the API, alerting, the demo seeder) want "what regime are we in,
//! how sure, since when, and what did the past look like", not the pieces. [`RegimeModel::fit`]
//! chains them: portfolio index → [`features`](crate::features) (last `lookback_days` rows) →
//! standardised emission columns → [`GaussianHmm`] → posteriors and Viterbi path →
//! [`label_states`] → history, statistics and the current regime.
//!
//! Which day counts: the *current regime* is the label of the last day of the Viterbi path, so it
//! always agrees with `history`, `since` and `duration_days`; its `confidence` is the summed
//! posterior of that label on the last day (which can, rarely, be below another regime's).

use std::collections::BTreeMap;

use alphapulse_domain::{Candle, Regime};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    analysis::{profile, regime_stats, RegimeProfile, RegimeStats},
    features::{FeatureConfig, FeatureError, FeatureMatrix, LOG_RETURN, N_FEATURES, VOLATILITY},
    hmm::{FitConfig, FittedHmm, GaussianHmm, HmmError},
    labels::{label_states, merge_probabilities, LabelConfig, StateSummary},
    RegimeMap,
};

/// Which feature columns the HMM sees by default: return, volatility and trend. Drawdown is
/// reported but not emitted — it is a slow, path-dependent level that would make the HMM split
/// the window into "before/after the big fall" instead of into regimes.
pub const DEFAULT_EMISSION_FEATURES: [bool; N_FEATURES] = [true, true, true, false];

/// Settings of [`RegimeModel`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Hidden states (default 5, one per regime at most).
    pub n_states: usize,
    /// Days of features the HMM is fitted on (default 3 × 365); older candles only feed the
    /// rolling windows.
    pub lookback_days: usize,
    /// Random restarts of the fit (default 8).
    pub restarts: usize,
    /// Seed of the fit (default 42): the same candles and seed give the same snapshot.
    pub seed: u64,
    /// Most EM iterations per restart (default 300).
    pub max_iter: usize,
    /// EM stopping tolerance on the log-likelihood (default 1e-4).
    pub tol: f64,
    /// Fewest feature rows accepted (default 120).
    pub min_observations: usize,
    /// Feature columns used as HMM emissions (default [`DEFAULT_EMISSION_FEATURES`]).
    pub emission_features: [bool; N_FEATURES],
    /// Feature windows.
    pub features: FeatureConfig,
    /// Labelling thresholds.
    pub labels: LabelConfig,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            n_states: 5,
            lookback_days: 3 * 365,
            restarts: 8,
            seed: 42,
            max_iter: 300,
            tol: 1e-4,
            min_observations: 120,
            emission_features: DEFAULT_EMISSION_FEATURES,
            features: FeatureConfig::default(),
            labels: LabelConfig::default(),
        }
    }
}

/// Why the model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegimeError {
    /// Candles could not be turned into features.
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// The HMM fit failed.
    #[error(transparent)]
    Hmm(#[from] HmmError),
    /// Fewer feature rows than `min_observations`.
    #[error("need at least {needed} days of features, got {got}")]
    InsufficientData {
        /// `min_observations`.
        needed: usize,
        /// Rows available.
        got: usize,
    },
    /// A nonsensical [`ModelConfig`].
    #[error("invalid model config: {0}")]
    InvalidConfig(String),
}

/// One labelled day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimePoint {
    /// The day.
    pub date: DateTime<Utc>,
    /// Its regime (Viterbi path, labelled).
    pub regime: Regime,
    /// Posterior probability of that regime on that day.
    pub confidence: f64,
}

/// A day on which the regime changed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeChange {
    /// First day of the new regime.
    pub date: DateTime<Utc>,
    /// Regime of the day before.
    pub from: Regime,
    /// New regime.
    pub to: Regime,
    /// Posterior of the new regime on `date`.
    pub confidence: f64,
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimeSnapshot {
    /// Regime of the last day.
    pub current_regime: Regime,
    /// Posterior of `current_regime` on the last day.
    pub confidence: f64,
    /// Posterior of every regime on the last day; sums to 1.
    pub probabilities: RegimeMap<f64>,
    /// First day of the current run.
    pub since: DateTime<Utc>,
    /// Calendar days from `since` to the last day, inclusive (>= 1).
    pub duration_days: i64,
    /// Last day's features by name (see [`crate::features::FEATURE_NAMES`]).
    pub features: BTreeMap<String, f64>,
    /// Hidden states of the HMM.
    pub n_states: usize,
    /// Regime of each hidden state, by state index.
    pub state_labels: Vec<Regime>,
    /// Days the model was fitted on (= `history.len()`).
    pub observations: usize,
    /// Log-likelihood of the fit.
    pub log_likelihood: f64,
    /// One point per day, oldest first.
    pub history: Vec<RegimePoint>,
    /// Per-regime statistics of `history`; `None` for regimes that never occurred.
    pub analysis: RegimeMap<Option<RegimeStats>>,
}

impl RegimeSnapshot {
    /// Every day on which the regime differs from the day before, oldest first.
    pub fn changes(&self) -> Vec<RegimeChange> {
        self.history
            .windows(2)
            .filter(|w| w[0].regime != w[1].regime)
            .map(|w| RegimeChange {
                date: w[1].date,
                from: w[0].regime,
                to: w[1].regime,
                confidence: w[1].confidence,
            })
            .collect()
    }

    /// The playbook of the current regime.
    pub fn profile(&self) -> RegimeProfile {
        profile(self.current_regime)
    }
}

/// A fitted regime model; [`RegimeModel::fit`] when only the snapshot matters.
#[derive(Debug, Clone)]
pub struct RegimeModel {
    features: FeatureMatrix,
    hmm: FittedHmm,
    states: Vec<StateSummary>,
    labels: Vec<Regime>,
    posteriors: Vec<Vec<f64>>,
    path: Vec<usize>,
}

impl RegimeModel {
    /// Fits the model to a weighted universe of daily candles and returns its snapshot.
    ///
    /// # Errors
    /// See [`RegimeError`].
    pub fn fit(
        universe: &[(f64, Vec<Candle>)],
        config: &ModelConfig,
    ) -> Result<RegimeSnapshot, RegimeError> {
        Ok(Self::train(universe, config)?.snapshot())
    }

    /// Fits the model to a weighted universe of daily candles.
    ///
    /// # Errors
    /// See [`RegimeError`].
    pub fn train(
        universe: &[(f64, Vec<Candle>)],
        config: &ModelConfig,
    ) -> Result<Self, RegimeError> {
        validate(config)?;
        let mut features = FeatureMatrix::from_universe(universe, &config.features)?;
        features.keep_last(config.lookback_days);
        Self::train_on_features(features, config)
    }

    /// Fits the model to precomputed features (all rows are used).
    ///
    /// # Errors
    /// See [`RegimeError`].
    pub fn train_on_features(
        features: FeatureMatrix,
        config: &ModelConfig,
    ) -> Result<Self, RegimeError> {
        validate(config)?;
        let needed = config.min_observations.max(config.n_states).max(2);
        if features.len() < needed {
            return Err(RegimeError::InsufficientData {
                needed,
                got: features.len(),
            });
        }
        let obs = standardised_emissions(&features, &config.emission_features);
        let hmm = GaussianHmm::fit(
            &obs,
            &FitConfig {
                n_states: config.n_states,
                max_iter: config.max_iter,
                tol: config.tol,
                restarts: config.restarts,
                seed: config.seed,
                ..FitConfig::default()
            },
        )?;
        let posteriors = hmm.posteriors(&obs)?;
        let path = hmm.viterbi(&obs)?;
        let returns = features.column(LOG_RETURN);
        let vols = features.column(VOLATILITY);
        let states: Vec<StateSummary> = (0..hmm.n_states())
            .map(|k| {
                let weight: f64 = posteriors.iter().map(|p| p[k]).sum();
                let avg = |xs: &[f64]| {
                    if weight > 0.0 {
                        posteriors
                            .iter()
                            .zip(xs)
                            .map(|(p, x)| p[k] * x)
                            .sum::<f64>()
                            / weight
                    } else {
                        0.0
                    }
                };
                StateSummary {
                    mean_return: avg(&returns),
                    volatility: avg(&vols),
                    occupancy: weight / features.len() as f64,
                    days: weight,
                }
            })
            .collect();
        let labels = label_states(&states, hmm.transition(), median(&vols), &config.labels);
        Ok(Self {
            features,
            hmm,
            states,
            labels,
            posteriors,
            path,
        })
    }

    /// The snapshot of the fitted window.
    pub fn snapshot(&self) -> RegimeSnapshot {
        let history: Vec<RegimePoint> = self
            .features
            .dates
            .iter()
            .zip(&self.path)
            .zip(&self.posteriors)
            .map(|((date, state), post)| {
                let regime = self.labels[*state];
                RegimePoint {
                    date: *date,
                    regime,
                    confidence: merge_probabilities(post, &self.labels)[regime],
                }
            })
            .collect();
        let n = history.len();
        // `train_on_features` guarantees at least two rows, so `n - 1` is in range.
        let last = history[n - 1];
        let start = history
            .iter()
            .rposition(|p| p.regime != last.regime)
            .map_or(0, |i| i + 1);
        let since = history[start].date;
        let regimes: Vec<Regime> = history.iter().map(|p| p.regime).collect();
        RegimeSnapshot {
            current_regime: last.regime,
            confidence: last.confidence,
            probabilities: merge_probabilities(&self.posteriors[n - 1], &self.labels),
            since,
            duration_days: (last.date.date_naive() - since.date_naive()).num_days() + 1,
            features: self.features.named(n - 1).unwrap_or_default(),
            n_states: self.hmm.n_states(),
            state_labels: self.labels.clone(),
            observations: n,
            log_likelihood: self
                .hmm
                .report()
                .log_likelihood_history
                .last()
                .copied()
                .unwrap_or(f64::NAN),
            analysis: regime_stats(
                &regimes,
                &self.features.column(LOG_RETURN),
                &self.features.column(VOLATILITY),
            ),
            history,
        }
    }

    /// The fitted HMM (states in its own order; see [`RegimeModel::state_labels`]).
    pub fn hmm(&self) -> &FittedHmm {
        &self.hmm
    }
    /// Regime of each HMM state.
    pub fn state_labels(&self) -> &[Regime] {
        &self.labels
    }
    /// Average behaviour of each HMM state (what the labels were derived from).
    pub fn states(&self) -> &[StateSummary] {
        &self.states
    }
    /// The features the model was fitted on.
    pub fn features(&self) -> &FeatureMatrix {
        &self.features
    }
    /// Smoothed state posteriors per day.
    pub fn posteriors(&self) -> &[Vec<f64>] {
        &self.posteriors
    }
    /// Viterbi state path.
    pub fn path(&self) -> &[usize] {
        &self.path
    }
}

fn validate(config: &ModelConfig) -> Result<(), RegimeError> {
    if config.lookback_days == 0 {
        return Err(RegimeError::InvalidConfig(
            "lookback_days must be positive".into(),
        ));
    }
    if !config.emission_features.contains(&true) {
        return Err(RegimeError::InvalidConfig(
            "choose at least one emission feature".into(),
        ));
    }
    Ok(())
}

/// The chosen columns, each shifted and scaled to mean 0, standard deviation 1 (a constant
/// column is only centred).
fn standardised_emissions(features: &FeatureMatrix, mask: &[bool; N_FEATURES]) -> Vec<Vec<f64>> {
    let columns: Vec<usize> = (0..N_FEATURES).filter(|c| mask[*c]).collect();
    let n = features.len() as f64;
    let moments: Vec<(f64, f64)> = columns
        .iter()
        .map(|c| {
            let mean = features.rows.iter().map(|r| r[*c]).sum::<f64>() / n;
            let var = features
                .rows
                .iter()
                .map(|r| (r[*c] - mean).powi(2))
                .sum::<f64>()
                / n;
            (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
        })
        .collect();
    features
        .rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .zip(&moments)
                .map(|(c, (m, s))| (r[*c] - m) / s)
                .collect()
        })
        .collect()
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
