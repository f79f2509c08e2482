//! `GET /api/v1/regime/...` (seed 000): the tenant's market regime from its own universe.
//! The model is fitted once per data/configuration version and cached per tenant (see
//! `alphapulse_regime::service`), so requests read a cached snapshot.

use std::collections::BTreeMap;

use actix_web::web;
use alphapulse_domain::{
    ports::{RegimeAlert, RegimeDay},
    Regime, TextEnum,
};
use alphapulse_regime::{profile, RiskAdjustments, Strategy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, get_current_regime))
        .add(route!(Access::READ, get_regime_history))
        .add(route!(Access::READ, get_regime_analysis))
        .add(route!(Access::READ, get_regime_alerts));
}

/// Facts of the fitted model.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// Hidden states of the HMM.
    pub n_states: usize,
    /// When it was fitted.
    pub trained_at: DateTime<Utc>,
    /// Daily observations it was fitted on.
    pub observations: usize,
}

/// The current regime.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentRegime {
    /// The regime now.
    pub current_regime: Regime,
    /// Its posterior probability.
    pub confidence: f64,
    /// Posterior probability of every regime (sum 1).
    pub probabilities: BTreeMap<&'static str, f64>,
    /// Start of the current run of this regime.
    pub since: DateTime<Utc>,
    /// Days in it so far.
    pub duration_days: i64,
    /// The features of the latest day.
    pub features: BTreeMap<String, f64>,
    /// The model.
    pub model: ModelInfo,
}

/// The current regime with its probabilities, duration, features and model facts.
#[utoipa::path(get, path = "/api/v1/regime/current", tag = "regime",
    responses(
        (status = 200, body = CurrentRegime),
        (status = 503, description = "No market data, or the model could not be fitted", body = crate::error::ErrorBody)
    ))]
pub async fn get_current_regime(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<CurrentRegime>> {
    let service = state.regime.clone();
    let fitted = caller.run(move |p| service.current(&p.actor())).await?;
    let s = &fitted.snapshot;
    Ok(web::Json(CurrentRegime {
        current_regime: s.current_regime,
        confidence: s.confidence,
        probabilities: s
            .probabilities
            .iter()
            .map(|(r, p)| (r.as_str(), *p))
            .collect(),
        since: s.since,
        duration_days: s.duration_days,
        features: s.features.clone(),
        model: ModelInfo {
            n_states: s.n_states,
            trained_at: fitted.trained_at,
            observations: s.observations,
        },
    }))
}

/// Query of the history route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Most entries to return, 1..=365 (default 30).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

/// The newest `days` days of the regime history, newest last.
#[utoipa::path(get, path = "/api/v1/regime/history", tag = "regime", params(HistoryQuery),
    responses(
        (status = 200, body = Vec<RegimeDay>),
        (status = 503, description = "No market data, or the model could not be fitted", body = crate::error::ErrorBody)
    ))]
pub async fn get_regime_history(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<web::Json<Vec<RegimeDay>>> {
    let days = query.days.unwrap_or(30);
    let days = u32::try_from(days)
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| ApiError::invalid("days", "must be between 1 and 365"))?;
    let service = state.regime.clone();
    let history = caller
        .run(move |p| service.history(&p.actor(), days))
        .await?;
    Ok(web::Json(history))
}

/// Statistics and playbook of one regime.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegimeAnalysis {
    /// The regime.
    pub regime_type: Regime,
    /// What it is.
    pub description: String,
    /// Share of the tenant's history in this regime.
    pub historical_frequency: f64,
    /// Average run length, days.
    pub avg_duration_days: f64,
    /// Average daily return in it.
    pub avg_return: f64,
    /// Average daily volatility in it.
    pub avg_volatility: f64,
    /// The strategy mix (allocations sum to 1).
    pub strategies: Vec<Strategy>,
    /// Risk settings.
    pub risk_adjustments: RiskAdjustments,
}

/// Statistics of one regime in the tenant's history, with its strategies and risk settings.
#[utoipa::path(get, path = "/api/v1/regime/analysis/{regime_type}", tag = "regime",
    params(("regime_type" = Regime, Path, description = "The regime")),
    responses(
        (status = 200, body = RegimeAnalysis),
        (status = 404, description = "Unknown regime type (the valid ones are listed)", body = crate::error::ErrorBody),
        (status = 503, description = "No market data, or the model could not be fitted", body = crate::error::ErrorBody)
    ))]
pub async fn get_regime_analysis(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<RegimeAnalysis>> {
    let Ok(regime) = Regime::parse_field(&path) else {
        let valid: Vec<&str> = Regime::ALL.iter().map(Regime::as_str).collect();
        return Err(ApiError::NotFound(format!(
            "Regime type {:?} (valid types: {})",
            path.as_str(),
            valid.join(", ")
        )));
    };
    let service = state.regime.clone();
    let stats = caller
        .run(move |p| service.analysis(&p.actor(), regime))
        .await?;
    let playbook = profile(regime);
    Ok(web::Json(RegimeAnalysis {
        regime_type: regime,
        description: playbook.description,
        historical_frequency: stats.map_or(0.0, |s| s.frequency),
        avg_duration_days: stats.map_or(0.0, |s| s.avg_duration_days),
        avg_return: stats.map_or(0.0, |s| s.avg_daily_return),
        avg_volatility: stats.map_or(0.0, |s| s.avg_volatility),
        strategies: playbook.strategies,
        risk_adjustments: playbook.risk_adjustments,
    }))
}

/// The tenant's regime-change alerts, newest first (at most 100).
#[utoipa::path(get, path = "/api/v1/regime/alerts", tag = "regime",
    responses((status = 200, body = Vec<RegimeAlert>)))]
pub async fn get_regime_alerts(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Vec<RegimeAlert>>> {
    let service = state.regime.clone();
    let alerts = caller.run(move |p| service.alerts(&p.actor(), 100)).await?;
    Ok(web::Json(alerts))
}
