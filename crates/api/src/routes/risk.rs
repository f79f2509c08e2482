//! `/api/v1/risk/...`: exposure, risk metrics (VaR/CVaR three ways, ratios annualised with
//! 365 days), limits and their use (`PATCH`: admin), position sizes and the risk report, on
//! the tenant's own book and the shared market data. The use cases are
//! [`alphapulse_risk::service::RiskService`]'s.

use actix_web::web;
use alphapulse_risk::service::{
    Exposure, LimitsPatch, LimitsView, PositionSizeView, RiskMetrics, RiskReport, ServiceError,
    DEFAULT_CONFIDENCE, DEFAULT_LOOKBACK_DAYS,
};
use serde::Deserialize;
use tenant_auth::Permission;

use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    extract::present,
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, get_risk_exposure))
        .add(route!(Access::READ, get_risk_metrics))
        .add(route!(Access::READ, get_risk_limits))
        .add(route!(
            Access::Requires(Permission::ManageSettings),
            update_risk_limits
        ))
        .add(route!(Access::READ, get_position_size))
        .add(route!(Access::READ, get_risk_report));
}

/// A symbol as a query or path names it: 2 to 20 letters or digits.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^[A-Za-z0-9]{2,20}$", example = "BTCUSDT")]
pub struct SymbolText(pub String);

/// `text` if it is a symbol ([`Symbol::parse`](alphapulse_domain::Symbol::parse)) exactly as the schema states it: the
/// parser trims, the query parameter may not carry the spaces.
///
/// # Errors
/// 422 naming `field`.
pub fn symbol_text(field: &'static str, text: &str) -> ApiResult<String> {
    match alphapulse_domain::Symbol::parse(text) {
        Ok(_) if text.trim() == text => Ok(text.to_owned()),
        Ok(_) => Err(ApiError::invalid(
            field,
            "must be 2 to 20 letters or digits",
        )),
        Err(e) => Err(ApiError::invalid(field, e.message)),
    }
}

/// `lookback_days` and `confidence`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Days of daily returns, 30..=1260 (default 252).
    #[param(minimum = 30, maximum = 1260)]
    pub lookback_days: Option<usize>,
    /// VaR confidence, 0.5..=0.999 (default 0.95).
    #[param(minimum = 0.5, maximum = 0.999)]
    pub confidence: Option<f64>,
}

impl MetricsQuery {
    fn values(&self) -> (usize, f64) {
        (
            self.lookback_days.unwrap_or(DEFAULT_LOOKBACK_DAYS),
            self.confidence.unwrap_or(DEFAULT_CONFIDENCE),
        )
    }
}

const TOO_FEW: &str = "Fewer than 30 daily returns: the answer says how many there are \
                       (a holding with too little market data)";

/// Net exposure per asset (spot plus futures), total and gross exposure, and their ratios to
/// the portfolio value.
#[utoipa::path(get, path = "/api/v1/risk/exposure", tag = "risk",
    responses(
        (status = 200, body = Exposure),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_exposure(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Exposure>> {
    if let Some(read) = state.risk.exposure_nonblocking(&caller.actor()) {
        return Ok(web::Json(read.await?));
    }
    let service = state.risk.clone();
    Ok(web::Json(
        caller.run(move |p| service.exposure(&p.actor())).await?,
    ))
}

/// Risk metrics of the portfolio's daily returns (`returns_source`: snapshots once they cover
/// the window, else the holdings' candles): annualised volatility (365 days a year), VaR and
/// CVaR historical, parametric and Monte Carlo (10 000 draws, fixed seed), maximum drawdown,
/// Sharpe, Sortino, Calmar. An empty book answers zeros; undefined ratios are `null`.
#[utoipa::path(get, path = "/api/v1/risk/metrics", tag = "risk", params(MetricsQuery),
    responses(
        (status = 200, body = RiskMetrics),
        (status = 422, description = TOO_FEW, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_metrics(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<MetricsQuery>,
) -> ApiResult<web::Json<RiskMetrics>> {
    let (lookback, confidence) = query.values();
    // Cached metrics over a book read on async connections; computed on the blocking path.
    if let Some(read) = state
        .risk
        .metrics_nonblocking(&caller.actor(), lookback, confidence)
    {
        if let Some(metrics) = read.await? {
            return Ok(web::Json(metrics));
        }
    }
    let service = state.risk.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.metrics(&p.actor(), lookback, confidence))
            .await?,
    ))
}

/// The tenant's risk limits (defaults: position 0.20, leverage 1.5, drawdown 0.25, volatility
/// target 0.15) and their use now; a limit broken now is listed in `usage.breaches` and raises
/// a `risk` alert.
#[utoipa::path(get, path = "/api/v1/risk/limits", tag = "risk",
    responses(
        (status = 200, body = LimitsView),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_limits(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<LimitsView>> {
    let service = state.risk.clone();
    Ok(web::Json(
        caller.run(move |p| service.limits(&p.actor())).await?,
    ))
}

/// Body of `PATCH /api/v1/risk/limits`: the limits to change, at least one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRiskLimitsRequest {
    /// Largest weight of one position, `(0, 1]`.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0, nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub max_position_weight: Option<f64>,
    /// Largest gross exposure / equity, `[1, 10]`.
    #[schema(minimum = 1.0, maximum = 10.0, nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub max_leverage: Option<f64>,
    /// Largest drawdown tolerated, `(0, 1]`.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0, nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub max_drawdown: Option<f64>,
    /// Annualised volatility aimed at, `(0, 2]`.
    #[schema(exclusive_minimum = 0.0, maximum = 2.0, nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub target_volatility: Option<f64>,
}

/// Changes the named limits (admin; audited as `risk.limits.update` with the values before
/// and after) and answers them with their use.
#[utoipa::path(patch, path = "/api/v1/risk/limits", tag = "risk",
    request_body = UpdateRiskLimitsRequest,
    responses(
        (status = 200, body = LimitsView),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn update_risk_limits(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<UpdateRiskLimitsRequest>,
) -> ApiResult<web::Json<LimitsView>> {
    let b = body.into_inner();
    let patch = LimitsPatch {
        max_position_weight: b.max_position_weight,
        max_leverage: b.max_leverage,
        max_drawdown: b.max_drawdown,
        target_volatility: b.target_volatility,
    };
    let service = state.risk.clone();
    Ok(web::Json(
        caller.run(move |p| service.set_limits(p, patch)).await?,
    ))
}

/// How much of `symbol` to buy now: the smaller of the volatility-target and quarter-Kelly
/// sizes on its daily returns (up to 252), capped by the tenant's position and leverage
/// limits; stop loss 2·ATR(14) below and take profit 3·ATR(14) above the price.
#[utoipa::path(get, path = "/api/v1/risk/position-size/{symbol}", tag = "risk",
    params(("symbol" = inline(SymbolText), Path, description = "The instrument, e.g. BTCUSDT")),
    responses(
        (status = 200, body = PositionSizeView),
        (status = 404, description = "A symbol without market data (named)", body = crate::error::ErrorBody),
        (status = 422, description = TOO_FEW, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_position_size(
    caller: Caller,
    state: web::Data<AppState>,
    symbol: web::Path<String>,
) -> ApiResult<web::Json<PositionSizeView>> {
    let symbol = symbol.into_inner();
    if symbol_text("symbol", &symbol).is_err() {
        return Err(ServiceError::UnknownSymbol(symbol.chars().take(40).collect()).into());
    }
    let service = state.risk.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.position_size(&p.actor(), &symbol))
            .await?,
    ))
}

/// Exposure, metrics, limits and their use, the concentration of the holdings' risk and the
/// latest regime, together. Too little history leaves `metrics` and `concentration` `null`
/// (`metrics_unavailable` says why) instead of failing.
#[utoipa::path(get, path = "/api/v1/risk/report", tag = "risk", params(MetricsQuery),
    responses(
        (status = 200, body = RiskReport),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_report(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<MetricsQuery>,
) -> ApiResult<web::Json<RiskReport>> {
    let (lookback, confidence) = query.values();
    let service = state.risk.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.report(&p.actor(), lookback, confidence))
            .await?,
    ))
}
