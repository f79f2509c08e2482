//! `GET /api/v1/regime/...` (seed 000): the tenant's market regime from its own universe.
//! The model is fitted once per data/configuration version and cached per tenant (see
//! `alphapulse_regime::service`), so requests read a cached snapshot.

use std::collections::BTreeMap;

use actix_web::{http::Method, web, HttpResponse};
use alphapulse_domain::Regime;
use alphapulse_regime::{profile, service::RegimeServiceError};
use serde::{Deserialize, Serialize};
use tenant_auth::{Permission, TenantContext};

use crate::{
    error::{ApiError, ApiResult},
    ops::{actor, blocking_with, logged},
    routing::Routes,
    AppState,
};

/// Registers the routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/api/v1/regime/current", current_regime)
        .add(Method::GET, "/api/v1/regime/history", regime_history)
        .add(
            Method::GET,
            "/api/v1/regime/analysis/{regime_type}",
            regime_analysis,
        )
        .add(Method::GET, "/api/v1/regime/alerts", regime_alerts);
}

fn regime_failure(err: RegimeServiceError) -> ApiError {
    match err {
        RegimeServiceError::Repo(repo) => repo.into(),
        RegimeServiceError::NoData => {
            tracing::warn!("no market data for the regime universe");
            ApiError::Unavailable("Failed to fetch market data for regime detection".to_owned())
        }
        other => {
            tracing::warn!(cause = %other, "regime model failed");
            ApiError::Unavailable("Failed to fetch market regime".to_owned())
        }
    }
}

#[derive(Serialize)]
struct ModelInfo {
    n_states: usize,
    trained_at: chrono::DateTime<chrono::Utc>,
    observations: usize,
}

#[derive(Serialize)]
struct CurrentRegime {
    current_regime: Regime,
    confidence: f64,
    probabilities: BTreeMap<&'static str, f64>,
    since: chrono::DateTime<chrono::Utc>,
    duration_days: i64,
    features: BTreeMap<String, f64>,
    model: ModelInfo,
}

/// The current regime with its probabilities, duration, features and model facts.
#[utoipa::path(get, path = "/api/v1/regime/current", tag = "regime",
    responses(
        (status = 200, description = "`{current_regime, confidence, probabilities, since, duration_days, features, model: {n_states, trained_at, observations}}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)
    ))]
pub async fn current_regime(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get current regime", async {
        ctx.require(Permission::ReadTenantData)?;
        let (service, actor) = (state.regime.clone(), actor(&ctx));
        let fitted = blocking_with(move || service.current(&actor), regime_failure).await?;
        let s = &fitted.snapshot;
        Ok(HttpResponse::Ok().json(CurrentRegime {
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
    })
    .await
}

/// Query of the history route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// Most entries to return, 1..=365 (default 30).
    pub days: Option<i64>,
}

/// The newest `days` days of the regime history, newest last.
#[utoipa::path(get, path = "/api/v1/regime/history", tag = "regime", params(HistoryQuery),
    responses(
        (status = 200, description = "`[{date, regime, confidence}]`, at most `days` entries, newest last"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 422, description = "days outside 1..=365", body = crate::error::ErrorBody)
    ))]
pub async fn regime_history(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get regime history", async {
        ctx.require(Permission::ReadTenantData)?;
        let days = query.days.unwrap_or(30);
        if !(1..=365).contains(&days) {
            return Err(ApiError::invalid("days", "must be between 1 and 365"));
        }
        let (service, actor) = (state.regime.clone(), actor(&ctx));
        let history =
            blocking_with(move || service.history(&actor, days as u32), regime_failure).await?;
        Ok(HttpResponse::Ok().json(history))
    })
    .await
}

#[derive(Serialize)]
struct Analysis {
    regime_type: Regime,
    description: String,
    historical_frequency: f64,
    avg_duration_days: f64,
    avg_return: f64,
    avg_volatility: f64,
    strategies: Vec<alphapulse_regime::Strategy>,
    risk_adjustments: alphapulse_regime::RiskAdjustments,
}

/// Statistics of one regime in the tenant's history, with its strategies and risk settings.
#[utoipa::path(get, path = "/api/v1/regime/analysis/{regime_type}", tag = "regime",
    params(("regime_type" = String, Path, description = "bull, bear, sideways, crisis or recovery")),
    responses(
        (status = 200, description = "`{regime_type, description, historical_frequency, avg_duration_days, avg_return, avg_volatility, strategies, risk_adjustments}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "Unknown regime type (the valid ones are listed)", body = crate::error::ErrorBody)
    ))]
pub async fn regime_analysis(
    ctx: TenantContext,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get regime analysis", async {
        ctx.require(Permission::ReadTenantData)?;
        let Ok(regime) = path.parse::<Regime>() else {
            let valid: Vec<&str> = Regime::ALL.iter().map(Regime::as_str).collect();
            return Err(ApiError::NotFound(format!(
                "Regime type {:?} (valid types: {})",
                path.as_str(),
                valid.join(", ")
            )));
        };
        let (service, actor) = (state.regime.clone(), actor(&ctx));
        let stats = blocking_with(move || service.analysis(&actor, regime), regime_failure).await?;
        let playbook = profile(regime);
        Ok(HttpResponse::Ok().json(Analysis {
            regime_type: regime,
            description: playbook.description,
            historical_frequency: stats.map_or(0.0, |s| s.frequency),
            avg_duration_days: stats.map_or(0.0, |s| s.avg_duration_days),
            avg_return: stats.map_or(0.0, |s| s.avg_daily_return),
            avg_volatility: stats.map_or(0.0, |s| s.avg_volatility),
            strategies: playbook.strategies,
            risk_adjustments: playbook.risk_adjustments,
        }))
    })
    .await
}

/// The tenant's regime-change alerts, newest first.
#[utoipa::path(get, path = "/api/v1/regime/alerts", tag = "regime",
    responses(
        (status = 200, description = "`[{id, created_at, from_regime, to_regime, confidence, message, acknowledged}]`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)
    ))]
pub async fn regime_alerts(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get regime alerts", async {
        ctx.require(Permission::ReadTenantData)?;
        let (service, actor) = (state.regime.clone(), actor(&ctx));
        let alerts = blocking_with(move || service.alerts(&actor, 100), regime_failure).await?;
        Ok(HttpResponse::Ok().json(alerts))
    })
    .await
}
