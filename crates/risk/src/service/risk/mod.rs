//! Exposure, risk metrics, limits and their use, position sizes, and the risk report.

use std::{future::Future, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, AlertSeverity, AlertSource, RegimeDay, RiskLimits},
    Market, Principal, Symbol, UserId, ValidationError,
};
use chrono::{DateTime, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::Serialize;

use super::{
    alerts::alert,
    book::Book,
    core::RiskCore,
    correlation::{concentration_of, Concentration},
    series::{PortfolioSeries, ReturnsSource, MIN_OBSERVATIONS},
    ServiceError,
};
use crate::{
    ratios::{self, CRYPTO_PERIODS_PER_YEAR},
    returns,
    sizing::{self, Bar, KellyInput, Side, SizingInput, SizingMethod, StopRule},
    var::{self, MonteCarloConfig},
};

/// Default and bounds of `lookback_days` of the risk routes.
pub const DEFAULT_LOOKBACK_DAYS: usize = 252;
/// Smallest `lookback_days`.
pub const MIN_LOOKBACK_DAYS: usize = 30;
/// Largest `lookback_days`.
pub const MAX_LOOKBACK_DAYS: usize = 1260;
/// Default VaR confidence.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Smallest accepted confidence.
pub const MIN_CONFIDENCE: f64 = 0.5;
/// Largest accepted confidence.
pub const MAX_CONFIDENCE: f64 = 0.999;
/// Monte Carlo draws of the VaR estimate, and its fixed seed (same data, same answer).
pub const MONTE_CARLO: MonteCarloConfig = MonteCarloConfig {
    simulations: var::DEFAULT_SIMULATIONS,
    seed: 42,
};
/// Wilder's ATR period of the stops.
pub const ATR_PERIOD: usize = sizing::atr::DEFAULT_ATR_PERIOD;

/// `a / b` as a statistic: 0 when `a` is 0, `None` when `b <= 0` otherwise.
pub(crate) fn share(a: Decimal, b: Decimal) -> Option<f64> {
    if a.is_zero() {
        return Some(0.0);
    }
    if b <= Decimal::ZERO {
        return None;
    }
    a.checked_div(b)
        .and_then(|r| r.to_f64())
        .filter(|r| r.is_finite())
}

/// Checks `lookback_days` against `min..=max`.
pub(crate) fn check_lookback(lookback: usize, min: usize, max: usize) -> Result<(), ServiceError> {
    if (min..=max).contains(&lookback) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "lookback_days",
            format!("must be between {min} and {max}"),
        ))
    }
}

mod position_size;
mod views;
pub use views::*;

/// Exposure, metrics, limits, sizing and the report.
#[derive(Debug, Clone)]
pub struct RiskService {
    core: Arc<RiskCore>,
}

/// Exposure of a book.
pub(crate) fn exposure_of(book: &Book) -> Exposure {
    let nav = book.total_value();
    let mut by: std::collections::BTreeMap<Symbol, (Decimal, Decimal)> = Default::default();
    for p in &book.positions {
        let e = by.entry(p.symbol.clone()).or_default();
        match p.market {
            Market::Spot => e.0 += p.market_value(),
            Market::Futures => e.1 += p.market_value(),
        }
    }
    let assets: Vec<SymbolExposure> = by
        .into_iter()
        .map(|(symbol, (spot, futures))| SymbolExposure {
            symbol,
            spot_value: spot,
            futures_value: futures,
            net_exposure: spot + futures,
            exposure_pct: share(spot + futures, nav),
        })
        .collect();
    let total: Decimal = assets.iter().map(|a| a.net_exposure.abs()).sum();
    let gross = book.gross_exposure();
    Exposure {
        net_exposure: assets.iter().map(|a| a.net_exposure).sum(),
        assets,
        total_exposure: total,
        gross_exposure: gross,
        portfolio_value: nav,
        cash: book.cash,
        exposure_ratio: share(total, nav),
        leverage: share(gross, nav),
    }
}

/// The metrics of a series (zeros for an empty book).
pub(crate) fn metrics_of(
    series: &PortfolioSeries,
    lookback: usize,
    confidence: f64,
    nav: Decimal,
    now: DateTime<Utc>,
) -> Result<RiskMetrics, ServiceError> {
    let zero = ByMethod {
        historical: 0.0,
        parametric: 0.0,
        monte_carlo: 0.0,
    };
    let mut m = RiskMetrics {
        lookback_days: lookback,
        confidence,
        observations: series.observations(),
        returns_source: series.source,
        periods_per_year: CRYPTO_PERIODS_PER_YEAR,
        volatility: 0.0,
        var: zero,
        cvar: zero,
        monte_carlo: MonteCarloRun {
            simulations: MONTE_CARLO.simulations,
            seed: MONTE_CARLO.seed,
        },
        var_amount: Decimal::ZERO,
        max_drawdown: 0.0,
        sharpe_ratio: None,
        sortino_ratio: None,
        calmar_ratio: None,
        annualised_return: None,
        portfolio_value: nav,
        calculated_at: now,
    };
    if series.source == ReturnsSource::None {
        return Ok(m);
    }
    if series.observations() < MIN_OBSERVATIONS {
        return Err(ServiceError::TooFewObservations {
            subject: "portfolio".to_owned(),
            field: "lookback_days",
            have: series.observations(),
            need: MIN_OBSERVATIONS,
        });
    }
    let report = var::report(&series.returns, confidence, MONTE_CARLO)?;
    let perf = ratios::performance(&series.returns, CRYPTO_PERIODS_PER_YEAR)?;
    m.volatility = perf.volatility;
    m.var = ByMethod {
        historical: report.var.historical,
        parametric: report.var.parametric,
        monte_carlo: report.var.monte_carlo,
    };
    m.cvar = ByMethod {
        historical: report.cvar.historical,
        parametric: report.cvar.parametric,
        monte_carlo: report.cvar.monte_carlo,
    };
    m.var_amount = rust_decimal::prelude::FromPrimitive::from_f64(report.var.historical)
        .and_then(|v: Decimal| v.checked_mul(nav))
        .map(|v| v.round_dp(8))
        .unwrap_or_default();
    m.max_drawdown = perf.max_drawdown;
    m.sharpe_ratio = perf.sharpe_ratio;
    m.sortino_ratio = perf.sortino_ratio;
    m.calmar_ratio = perf.calmar_ratio;
    m.annualised_return = perf.annualised_return;
    Ok(m)
}

fn check_confidence(confidence: f64) -> Result<(), ServiceError> {
    if confidence.is_finite() && (MIN_CONFIDENCE..=MAX_CONFIDENCE).contains(&confidence) {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "confidence",
            format!("must be between {MIN_CONFIDENCE} and {MAX_CONFIDENCE}"),
        ))
    }
}

impl RiskService {
    /// The service over the shared core.
    pub fn new(core: Arc<RiskCore>) -> Self {
        Self { core }
    }

    /// Exposure per asset and in total.
    ///
    /// # Errors
    /// The exchange's.
    pub fn exposure(&self, actor: &Actor) -> Result<Exposure, ServiceError> {
        Ok(exposure_of(&self.core.book(actor)?))
    }

    /// [`RiskService::exposure`] without blocking a thread, when the book can be read so
    /// (see [`RiskCore::book_nonblocking`]); `None`: call [`RiskService::exposure`] on a
    /// blocking thread.
    pub fn exposure_nonblocking(
        &self,
        actor: &Actor,
    ) -> Option<impl Future<Output = Result<Exposure, ServiceError>> + Send + 'static> {
        let book = self.core.book_nonblocking(actor)?;
        Some(async move { Ok(exposure_of(&book.await?)) })
    }

    /// Risk metrics of the portfolio's daily returns over `lookback` days.
    ///
    /// # Errors
    /// 422 for a lookback or confidence out of range, or fewer than 30 returns; the
    /// exchange's and storage failures.
    pub fn metrics(
        &self,
        actor: &Actor,
        lookback: usize,
        confidence: f64,
    ) -> Result<RiskMetrics, ServiceError> {
        check_lookback(lookback, MIN_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS)?;
        check_confidence(confidence)?;
        let book = self.core.book(actor)?;
        let key = self.core.series_key(actor, &book, lookback)?;
        // Pure in (series inputs, confidence): computed once per key, shared (single flight).
        let metrics = self
            .core
            .metrics
            .try_get_with((key.clone(), confidence.to_bits()), || {
                let series = self.core.series_by_key(actor, &book, key.clone())?;
                metrics_of(
                    &series,
                    lookback,
                    confidence,
                    book.total_value(),
                    self.core.now(),
                )
                .map(Arc::new)
            })
            .map_err(super::core::unshare)?;
        Ok((*metrics).clone())
    }

    /// [`RiskService::metrics`] without blocking a thread, for the common case: valid
    /// arguments, the book readable so (see [`RiskCore::book_nonblocking`]) and the metrics
    /// cached under fresh versions. The future answers `None` when they are not cached (call
    /// [`RiskService::metrics`] on a blocking thread, which computes and caches them); `None`
    /// at once when the book cannot be read so or the arguments are invalid (the blocking
    /// call answers the 422).
    pub fn metrics_nonblocking(
        &self,
        actor: &Actor,
        lookback: usize,
        confidence: f64,
    ) -> Option<impl Future<Output = Result<Option<RiskMetrics>, ServiceError>> + Send + 'static>
    {
        check_lookback(lookback, MIN_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS).ok()?;
        check_confidence(confidence).ok()?;
        let book = self.core.book_nonblocking(actor)?;
        let (core, actor) = (self.core.clone(), *actor);
        Some(async move {
            let book = book.await?;
            Ok(core
                .cached_series_key(&actor, &book, lookback)
                .and_then(|key| core.metrics.get(&(key, confidence.to_bits())))
                .map(|metrics| (*metrics).clone()))
        })
    }

    /// The tenant's limits and their use now; breaches raise `risk` alerts.
    ///
    /// # Errors
    /// The exchange's and storage failures.
    pub fn limits(&self, actor: &Actor) -> Result<LimitsView, ServiceError> {
        let limits = self.core.limits(actor)?;
        let book = self.core.book(actor)?;
        self.view(actor, limits, &book)
    }

    fn view(
        &self,
        actor: &Actor,
        limits: RiskLimits,
        book: &Book,
    ) -> Result<LimitsView, ServiceError> {
        let usage = self.usage(actor, &limits, book)?;
        for b in &usage.breaches {
            let key = match &b.symbol {
                Some(s) => format!("risk:{}:{s}", b.limit),
                None => format!("risk:{}", b.limit),
            };
            let severity = if b.limit == "max_drawdown" {
                AlertSeverity::Critical
            } else {
                AlertSeverity::Warning
            };
            let mut tags = vec![b.limit.to_owned()];
            tags.extend(b.symbol.iter().map(Symbol::to_string));
            self.core.raise(
                actor,
                alert(
                    AlertSource::Risk,
                    severity,
                    key,
                    format!("Risk limit breached: {}", b.limit),
                    b.message.clone(),
                    tags,
                ),
            );
        }
        Ok(LimitsView {
            max_position_weight: limits.max_position_weight,
            max_leverage: limits.max_leverage,
            max_drawdown: limits.max_drawdown,
            target_volatility: limits.target_volatility,
            updated_at: limits.updated_at,
            updated_by: limits.updated_by,
            usage,
        })
    }

    fn usage(
        &self,
        actor: &Actor,
        limits: &RiskLimits,
        book: &Book,
    ) -> Result<LimitUsage, ServiceError> {
        let nav = book.total_value();
        let largest = book
            .net_by_symbol()
            .into_iter()
            .map(|(s, v)| (share(v.abs(), nav).unwrap_or(f64::INFINITY), s))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let leverage = share(book.gross_exposure(), nav);
        let (source, observations, drawdown, volatility) =
            match self.core.series(actor, book, DEFAULT_LOOKBACK_DAYS) {
                Ok(s) if s.observations() >= 2 => (
                    s.source,
                    s.observations(),
                    ratios::current_drawdown(&s.returns).ok(),
                    ratios::annualised_volatility(&s.returns, CRYPTO_PERIODS_PER_YEAR).ok(),
                ),
                Ok(s) => (s.source, s.observations(), None, None),
                Err(ServiceError::TooFewObservations { have, .. }) => {
                    (ReturnsSource::Holdings, have, None, None)
                }
                Err(e) => return Err(e),
            };
        let mut breaches = Vec::new();
        if let Some((w, symbol)) = &largest {
            if *w > limits.max_position_weight {
                breaches.push(LimitBreach {
                    limit: "max_position_weight",
                    symbol: Some(symbol.clone()),
                    value: if w.is_finite() { *w } else { f64::MAX },
                    threshold: limits.max_position_weight,
                    message: format!(
                        "{symbol} is {} of the portfolio, above the {:.1}% limit",
                        pct(*w),
                        limits.max_position_weight * 100.0
                    ),
                });
            }
        }
        let lev = leverage.unwrap_or(if book.gross_exposure().is_zero() {
            0.0
        } else {
            f64::MAX
        });
        if lev > limits.max_leverage {
            breaches.push(LimitBreach {
                limit: "max_leverage",
                symbol: None,
                value: lev,
                threshold: limits.max_leverage,
                message: format!(
                    "gross exposure is {} the portfolio value, above the {:.2}x limit",
                    if lev == f64::MAX {
                        "a multiple of".to_owned()
                    } else {
                        format!("{lev:.2}x")
                    },
                    limits.max_leverage
                ),
            });
        }
        if let Some(dd) = drawdown {
            if dd > limits.max_drawdown {
                breaches.push(LimitBreach {
                    limit: "max_drawdown",
                    symbol: None,
                    value: dd,
                    threshold: limits.max_drawdown,
                    message: format!(
                        "the portfolio is {:.1}% below its peak, beyond the {:.1}% drawdown limit",
                        dd * 100.0,
                        limits.max_drawdown * 100.0
                    ),
                });
            }
        }
        Ok(LimitUsage {
            largest_position_weight: largest.as_ref().map_or(0.0, |(w, _)| {
                if w.is_finite() {
                    *w
                } else {
                    f64::MAX
                }
            }),
            largest_position_symbol: largest.map(|(_, s)| s),
            leverage,
            current_drawdown: drawdown,
            volatility,
            returns_source: source,
            observations,
            breaches,
        })
    }

    /// Changes the named limits (admin), audited as `risk.limits.update` with the values
    /// before and after; answers the new limits with their use.
    ///
    /// # Errors
    /// 422 for a value out of range (every such field listed) or an empty change; storage
    /// failures.
    pub fn set_limits(
        &self,
        principal: &Principal,
        patch: LimitsPatch,
    ) -> Result<LimitsView, ServiceError> {
        let actor = principal.actor();
        if patch == LimitsPatch::default() {
            return Err(ServiceError::invalid(
                "body",
                "name at least one limit to change",
            ));
        }
        let before = self.core.limits(&actor)?;
        let after = RiskLimits {
            max_position_weight: patch
                .max_position_weight
                .unwrap_or(before.max_position_weight),
            max_leverage: patch.max_leverage.unwrap_or(before.max_leverage),
            max_drawdown: patch.max_drawdown.unwrap_or(before.max_drawdown),
            target_volatility: patch.target_volatility.unwrap_or(before.target_volatility),
            updated_at: before.updated_at,
            updated_by: before.updated_by,
        };
        let problems: Vec<ValidationError> = after.check();
        if !problems.is_empty() {
            return Err(problems.into());
        }
        let values = |l: &RiskLimits| {
            serde_json::json!({
                "max_position_weight": l.max_position_weight,
                "max_leverage": l.max_leverage,
                "max_drawdown": l.max_drawdown,
                "target_volatility": l.target_volatility,
            })
        };
        let note = principal.note(
            "risk.limits.update",
            serde_json::json!({"before": values(&before), "after": values(&after)}),
        );
        let stored = self.core.ports.limits.set(&actor, &after, &note)?;
        tracing::info!("risk limits changed");
        let book = self.core.book(&actor)?;
        self.view(&actor, stored, &book)
    }

    /// Exposure, metrics, limits, concentration and regime together. Too little history
    /// leaves `metrics` and `concentration` `null` (with the reason) instead of failing.
    ///
    /// # Errors
    /// 422 for a lookback or confidence out of range; the exchange's and storage failures.
    pub fn report(
        &self,
        actor: &Actor,
        lookback: usize,
        confidence: f64,
    ) -> Result<RiskReport, ServiceError> {
        check_lookback(lookback, MIN_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS)?;
        check_confidence(confidence)?;
        let book = self.core.book(actor)?;
        let (metrics, metrics_unavailable) =
            match self.core.series(actor, &book, lookback).and_then(|s| {
                metrics_of(
                    &s,
                    lookback,
                    confidence,
                    book.total_value(),
                    self.core.now(),
                )
            }) {
                Ok(m) => (Some(m), None),
                Err(e @ ServiceError::TooFewObservations { .. }) => (None, Some(e.to_string())),
                Err(e) => return Err(e),
            };
        let concentration = match concentration_of(&self.core, actor, &book, lookback) {
            Ok(c) => Some(c),
            Err(ServiceError::TooFewObservations { .. }) => None,
            Err(e) => return Err(e),
        };
        let limits = self.core.limits(actor)?;
        Ok(RiskReport {
            exposure: exposure_of(&book),
            metrics,
            metrics_unavailable,
            limits: self.view(actor, limits, &book)?,
            concentration,
            regime: self.core.current_regime(actor)?,
            generated_at: self.core.now(),
        })
    }
}

fn pct(w: f64) -> String {
    if w.is_finite() {
        format!("{:.1}%", w * 100.0)
    } else {
        "all".to_owned()
    }
}
