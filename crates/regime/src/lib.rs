//! AlphaPulse market-regime model.
//!
//! Why this crate exists: position sizing, hedging and strategy choice all depend on *what kind
//! of market* we are in, and that is not directly observable. This crate infers it from daily
//! candles with a hidden Markov model and explains the answer, as pure computation (no I/O, no
//! clock, no global state), so the API, alert jobs and the demo seeder all get the same result
//! from the same candles and seed.
//!
//! Pipeline ([`RegimeModel::fit`]):
//! 1. [`features`]: candles of a weighted universe → one portfolio index → daily log return,
//!    rolling volatility, trend and drawdown.
//! 2. [`hmm`]: a diagonal-covariance Gaussian HMM fitted by Baum-Welch with seeded restarts.
//! 3. [`labels`]: each hidden state is named a [`Regime`] from its mean return and volatility.
//! 4. [`analysis`]: per-regime statistics of the labelled history and a static playbook per
//!    regime.
//! 5. [`model`]: the [`RegimeSnapshot`] — current regime, confidence, probabilities, since when,
//!    history and changes.
//!
//! [`synthetic`] generates reproducible regime-switching markets for tests and demo data.
//!
//! ```
//! use alphapulse_domain::Symbol;
//! use alphapulse_regime::{synthetic, ModelConfig, RegimeModel};
//! use chrono::{TimeZone, Utc};
//!
//! let symbol = Symbol::parse("BTCUSDT").unwrap();
//! let start = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
//! let (candles, _truth) = synthetic::regime_switching_walk(1, &symbol, 500, 30_000.0, start);
//! let config = ModelConfig { n_states: 3, restarts: 2, ..ModelConfig::default() };
//! let snapshot = RegimeModel::fit(&[(1.0, candles)], &config).unwrap();
//! assert!((snapshot.probabilities.total() - 1.0).abs() < 1e-9);
//! assert_eq!(snapshot.history.len(), snapshot.observations);
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod features;
pub mod hmm;
pub mod labels;
pub mod model;
pub mod regime_map;
pub mod service;
pub mod synthetic;

pub use alphapulse_domain::Regime;
pub use analysis::{profile, regime_stats, RegimeProfile, RegimeStats, RiskAdjustments, Strategy};
pub use features::{FeatureConfig, FeatureError, FeatureMatrix, FEATURE_NAMES, N_FEATURES};
pub use hmm::{FitConfig, FitReport, FittedHmm, GaussianHmm, HmmError};
pub use labels::{label_states, merge_probabilities, LabelConfig, StateSummary};
pub use model::{
    ModelConfig, RegimeChange, RegimeError, RegimeModel, RegimePoint, RegimeSnapshot,
    DEFAULT_EMISSION_FEATURES,
};
pub use regime_map::RegimeMap;
