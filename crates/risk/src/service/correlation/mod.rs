//! Correlation of daily returns aligned on common dates (only dates where every symbol has a
//! close): matrices, rolling windows, the concentration of the tenant's holdings, correlation
//! by market regime, and correlation alerts.

use std::{collections::BTreeMap, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, AlertSeverity, AlertSource},
    Regime, Symbol,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{
    alerts::alert,
    book::Book,
    core::{unshare, RiskCore},
    risk::check_lookback,
    series::{aligned_returns, closes, MIN_OBSERVATIONS},
    to_f64, ServiceError,
};
use crate::{
    concentration::{concentration, covariance_matrix},
    correlation::{
        correlation_matrix, high_correlation_pairs, rolling_correlation, summarize,
        CorrelationMatrix, CorrelationMethod,
    },
    ratios::CRYPTO_PERIODS_PER_YEAR,
};

/// Smallest `lookback_days` of the matrix, rolling and concentration routes.
pub const MIN_CORRELATION_LOOKBACK: usize = 30;
/// Largest `lookback_days` of the correlation routes.
pub const MAX_CORRELATION_LOOKBACK: usize = 1260;
/// Smallest `lookback_days` of the regime route.
pub const MIN_REGIME_LOOKBACK: usize = 252;
/// Default `lookback_days` of the regime route.
pub const DEFAULT_REGIME_LOOKBACK: usize = 504;
/// Bounds of `window_days` of the rolling route.
pub const WINDOW_RANGE: (usize, usize) = (10, 252);
/// Most symbols in one matrix.
pub const MAX_MATRIX_SYMBOLS: usize = 50;
/// `|ρ|` above which a pair counts as highly correlated in the concentration answer.
pub const HIGH_CORRELATION: f64 = 0.7;
/// Window of the rolling correlation the alerts watch.
pub const ALERT_WINDOW: usize = 30;
/// A concentration score (Herfindahl of risk shares) above this raises an alert.
pub const CONCENTRATION_ALERT: f64 = 0.5;
/// Default `threshold` of the correlation alerts.
pub const DEFAULT_ALERT_THRESHOLD: f64 = 0.8;
/// Days of a regime needed for its correlation.
pub const MIN_REGIME_DAYS: usize = 10;

/// What a matrix depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MatrixKey {
    symbols: Vec<Symbol>,
    lookback: usize,
    method: CorrelationMethod,
    market: (Option<DateTime<Utc>>, i64),
}

mod spikes;
mod views;
pub use views::*;

/// Correlation matrices, rolling correlation, concentration, regimes and alerts.
#[derive(Debug, Clone)]
pub struct CorrelationService {
    core: Arc<RiskCore>,
}

fn parse_symbols(symbols: &[String]) -> Result<Vec<Symbol>, ServiceError> {
    symbols
        .iter()
        .map(|s| {
            Symbol::parse(s)
                .map_err(|_| ServiceError::invalid("symbols", format!("{s:?} is not a symbol")))
        })
        .collect()
}

/// The concentration of the book's holdings over `lookback` days.
pub(crate) fn concentration_of(
    core: &RiskCore,
    actor: &Actor,
    book: &Book,
    lookback: usize,
) -> Result<Concentration, ServiceError> {
    let exposures = book.net_by_symbol();
    let gross: Decimal = exposures.values().map(|v| v.abs()).sum();
    let symbols: Vec<Symbol> = exposures.keys().cloned().collect();
    if symbols.is_empty() || gross.is_zero() {
        return Ok(Concentration {
            symbols,
            weights: BTreeMap::new(),
            concentration_score: Some(0.0),
            high_correlation_pairs: Vec::new(),
            diversification_ratio: Some(0.0),
            effective_assets: Some(0.0),
            risk_contributions: BTreeMap::new(),
            risk_shares: BTreeMap::new(),
            portfolio_volatility: 0.0,
            average_correlation: None,
            observations: 0,
            lookback_days: lookback,
        });
    }
    let weights: Vec<f64> = symbols
        .iter()
        .map(|s| to_f64(exposures[s]) / to_f64(gross))
        .collect();
    let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
    let closes = closes(&core.ports, actor, &symbols, limit)?;
    let aligned = aligned_returns(
        &closes,
        &symbols,
        lookback,
        MIN_OBSERVATIONS,
        "lookback_days",
        false,
    )?;
    let cov = covariance_matrix(&aligned.series)?;
    let c = concentration(&weights, &cov)?;
    let annual = CRYPTO_PERIODS_PER_YEAR.sqrt();
    let (pairs, average) = if symbols.len() >= 2 {
        let matrix = correlation_matrix(&aligned.series, CorrelationMethod::Pearson)?;
        let pairs = high_correlation_pairs(&matrix, HIGH_CORRELATION)?
            .into_iter()
            .map(|p| HighCorrelationPair {
                symbol1: symbols[p.first].clone(),
                symbol2: symbols[p.second].clone(),
                correlation: p.correlation,
                weight1: weights[p.first],
                weight2: weights[p.second],
            })
            .collect();
        (pairs, matrix.average_correlation())
    } else {
        (Vec::new(), None)
    };
    let by_symbol = |values: Option<Vec<f64>>, scale: f64| -> BTreeMap<Symbol, f64> {
        values
            .map(|v| {
                symbols
                    .iter()
                    .cloned()
                    .zip(v.into_iter().map(|x| x * scale))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Concentration {
        weights: symbols
            .iter()
            .cloned()
            .zip(weights.iter().copied())
            .collect(),
        concentration_score: c.concentration_score,
        high_correlation_pairs: pairs,
        diversification_ratio: c.diversification_ratio,
        effective_assets: c.effective_assets,
        risk_contributions: by_symbol(c.risk_contributions, annual),
        risk_shares: by_symbol(c.risk_shares, 1.0),
        portfolio_volatility: c.portfolio_volatility * annual,
        average_correlation: average,
        observations: aligned.observations(),
        lookback_days: lookback,
        symbols,
    })
}

fn std_of(values: &[f64]) -> Option<f64> {
    (values.len() >= 2)
        .then(|| crate::stats::std_dev(values).ok())
        .flatten()
}

impl CorrelationService {
    /// The service over the shared core.
    pub fn new(core: Arc<RiskCore>) -> Self {
        Self { core }
    }

    /// The correlation matrix of `symbols` (at least 2, at most 50) over `lookback` days.
    /// Pure in the market data: computed once per (symbols, lookback, method, market data
    /// version) and shared by every caller and tenant (single flight).
    ///
    /// # Errors
    /// 422 for fewer than 2 or more than 50 symbols, a lookback outside 30..=1260, or a
    /// symbol (or the aligned dates) with fewer than 30 returns (named); 404 naming a symbol
    /// without market data; storage failures.
    pub fn matrix(
        &self,
        actor: &Actor,
        symbols: &[String],
        lookback: usize,
        method: CorrelationMethod,
    ) -> Result<Arc<MatrixAnswer>, ServiceError> {
        if !(2..=MAX_MATRIX_SYMBOLS).contains(&symbols.len()) {
            return Err(ServiceError::invalid(
                "symbols",
                format!(
                    "a matrix needs 2 to {MAX_MATRIX_SYMBOLS} symbols, {} given",
                    symbols.len()
                ),
            ));
        }
        check_lookback(lookback, MIN_CORRELATION_LOOKBACK, MAX_CORRELATION_LOOKBACK)?;
        let symbols = parse_symbols(symbols)?;
        let key = MatrixKey {
            symbols: symbols.clone(),
            lookback,
            method,
            market: self.core.market_version(actor)?,
        };
        self.core
            .matrices
            .try_get_with(key, || {
                let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
                let closes = closes(&self.core.ports, actor, &symbols, limit)?;
                let aligned = aligned_returns(
                    &closes,
                    &symbols,
                    lookback,
                    MIN_OBSERVATIONS,
                    "lookback_days",
                    true,
                )?;
                let m: CorrelationMatrix = correlation_matrix(&aligned.series, method)?;
                Ok(Arc::new(MatrixAnswer {
                    average_correlation: m.average_correlation(),
                    observations: m.observations,
                    matrix: m.matrix,
                    method,
                    lookback_days: lookback,
                    start_date: aligned.dates.first().copied().unwrap_or_default(),
                    end_date: aligned.dates.last().copied().unwrap_or_default(),
                    symbols: symbols.clone(),
                    timestamp: self.core.now(),
                }))
            })
            .map_err(unshare)
    }

    /// The Pearson correlation of two symbols over each `window` days in the last `lookback`.
    ///
    /// # Errors
    /// 422 for a window outside 10..=252, a lookback outside 30..=1260, or too few returns
    /// (at least 30 and at least one window); 404 naming a symbol without market data.
    pub fn rolling(
        &self,
        actor: &Actor,
        symbol1: &str,
        symbol2: &str,
        window: usize,
        lookback: usize,
    ) -> Result<RollingAnswer, ServiceError> {
        if !(WINDOW_RANGE.0..=WINDOW_RANGE.1).contains(&window) {
            return Err(ServiceError::invalid(
                "window_days",
                format!("must be between {} and {}", WINDOW_RANGE.0, WINDOW_RANGE.1),
            ));
        }
        check_lookback(lookback, MIN_CORRELATION_LOOKBACK, MAX_CORRELATION_LOOKBACK)?;
        let symbols = parse_symbols(&[symbol1.to_owned(), symbol2.to_owned()])?;
        let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
        let closes = closes(&self.core.ports, actor, &symbols, limit)?;
        let aligned = aligned_returns(
            &closes,
            &symbols,
            lookback,
            MIN_OBSERVATIONS.max(window),
            "lookback_days",
            true,
        )?;
        let method = CorrelationMethod::Pearson;
        let rolling = rolling_correlation(&aligned.series[0], &aligned.series[1], window, method)?;
        let summary = summarize(&rolling);
        let correlations = rolling
            .iter()
            .enumerate()
            .map(|(i, c)| RollingPoint {
                date: aligned.dates[i + window - 1],
                correlation: *c,
            })
            .collect();
        Ok(RollingAnswer {
            symbol1: symbols[0].clone(),
            symbol2: symbols[1].clone(),
            window_days: window,
            lookback_days: lookback,
            method,
            observations: aligned.observations(),
            correlations,
            current: summary.and_then(|s| s.current),
            average: summary.map(|s| s.average),
            min: summary.map(|s| s.min),
            max: summary.map(|s| s.max),
        })
    }

    /// The concentration of the tenant's holdings' risk.
    ///
    /// # Errors
    /// 422 for a lookback outside 30..=1260 or fewer than 30 aligned returns of the
    /// holdings; the exchange's and storage failures.
    pub fn concentration(
        &self,
        actor: &Actor,
        lookback: usize,
    ) -> Result<Concentration, ServiceError> {
        check_lookback(lookback, MIN_CORRELATION_LOOKBACK, MAX_CORRELATION_LOOKBACK)?;
        let book = self.core.book(actor)?;
        concentration_of(&self.core, actor, &book, lookback)
    }

    /// Average correlation of the holdings on the days of each regime of the tenant's regime
    /// history, the regime changes and how stable the regime was.
    ///
    /// # Errors
    /// 422 for a lookback outside 252..=1260; the exchange's and storage failures.
    pub fn regimes(
        &self,
        actor: &Actor,
        lookback: usize,
    ) -> Result<RegimeCorrelations, ServiceError> {
        check_lookback(lookback, MIN_REGIME_LOOKBACK, MAX_CORRELATION_LOOKBACK)?;
        let days_back = u32::try_from(lookback).unwrap_or(u32::MAX);
        let history = self.core.ports.regimes.history(actor, days_back)?;
        let book = self.core.book(actor)?;
        let symbols: Vec<Symbol> = book.net_by_symbol().into_keys().collect();
        let mut transitions: Vec<RegimeTransition> = history
            .windows(2)
            .filter(|w| w[0].regime != w[1].regime)
            .map(|w| RegimeTransition {
                from_regime: w[0].regime,
                to_regime: w[1].regime,
                date: w[1].date,
            })
            .collect();
        let changes = transitions.len();
        transitions.reverse();
        transitions.truncate(10);
        let stability_score =
            (history.len() >= 2).then(|| 1.0 - changes as f64 / (history.len() - 1) as f64);
        let regime_of: BTreeMap<NaiveDate, Regime> =
            history.iter().map(|d| (d.date, d.regime)).collect();
        let mut per_regime: BTreeMap<Regime, (Vec<usize>, Option<NaiveDate>)> = BTreeMap::new();
        for d in &history {
            let e = per_regime.entry(d.regime).or_default();
            e.1 = Some(e.1.map_or(d.date, |l: NaiveDate| l.max(d.date)));
        }
        if symbols.len() >= 2 {
            let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
            let closes = closes(&self.core.ports, actor, &symbols, limit)?;
            // Holdings without enough history leave every regime without a correlation.
            if let Ok(aligned) =
                aligned_returns(&closes, &symbols, lookback, 2, "lookback_days", false)
            {
                for (i, date) in aligned.dates.iter().enumerate() {
                    if let Some(r) = regime_of.get(date) {
                        per_regime.entry(*r).or_default().0.push(i);
                    }
                }
                return Ok(self.regime_answer(
                    per_regime,
                    Some(&aligned.series),
                    &symbols,
                    transitions,
                    stability_score,
                    history.len(),
                    lookback,
                    history.last().map(|d| d.regime),
                ));
            }
        }
        Ok(self.regime_answer(
            per_regime,
            None,
            &symbols,
            transitions,
            stability_score,
            history.len(),
            lookback,
            history.last().map(|d| d.regime),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn regime_answer(
        &self,
        per_regime: BTreeMap<Regime, (Vec<usize>, Option<NaiveDate>)>,
        series: Option<&Vec<Vec<f64>>>,
        symbols: &[Symbol],
        transitions: Vec<RegimeTransition>,
        stability_score: Option<f64>,
        regime_days: usize,
        lookback: usize,
        current_regime: Option<Regime>,
    ) -> RegimeCorrelations {
        let regime_correlations = per_regime
            .into_iter()
            .map(|(regime, (rows, last))| {
                let pairwise: Option<Vec<f64>> = series
                    .filter(|_| rows.len() >= MIN_REGIME_DAYS)
                    .and_then(|series| {
                        let sub: Vec<Vec<f64>> = series
                            .iter()
                            .map(|s| rows.iter().map(|&i| s[i]).collect())
                            .collect();
                        let m = correlation_matrix(&sub, CorrelationMethod::Pearson).ok()?;
                        Some(
                            m.matrix
                                .iter()
                                .enumerate()
                                .flat_map(|(i, row)| row.iter().skip(i + 1).flatten().copied())
                                .collect(),
                        )
                    });
                RegimeCorrelation {
                    regime,
                    average_correlation: pairwise
                        .as_ref()
                        .filter(|p| !p.is_empty())
                        .map(|p| p.iter().sum::<f64>() / p.len() as f64),
                    correlation_dispersion: pairwise.as_deref().and_then(std_of),
                    observations: rows.len(),
                    last_occurrence: last,
                }
            })
            .collect();
        RegimeCorrelations {
            current_regime,
            symbols: symbols.to_vec(),
            regime_correlations,
            regime_transitions: transitions,
            stability_score,
            regime_days,
            lookback_days: lookback,
        }
    }
}
