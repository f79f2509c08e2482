//! `/api/v1/correlation/...`: correlation of daily returns aligned on common dates (only
//! dates where every symbol has a close): matrices (Pearson, Spearman, Kendall τ-b), rolling
//! windows, the concentration of the tenant's holdings, correlation by regime, and alerts.
//! The use cases are [`alphapulse_risk::service::CorrelationService`]'s.

use actix_web::web;
use alphapulse_risk::{
    correlation::CorrelationMethod,
    service::{
        Concentration, CorrelationAlerts, MatrixAnswer, RegimeCorrelations, RollingAnswer,
        DEFAULT_ALERT_THRESHOLD, DEFAULT_LOOKBACK_DAYS, DEFAULT_REGIME_LOOKBACK,
    },
};
use serde::Deserialize;

use super::risk::{symbol_text, SymbolText};
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
        .add(route!(Access::READ, get_correlation_matrix))
        .add(route!(Access::READ, get_rolling_correlation))
        .add(route!(Access::READ, get_correlation_concentration))
        .add(route!(Access::READ, get_correlation_regimes))
        .add(route!(Access::READ, get_correlation_alerts));
}

const TOO_FEW: &str = "A symbol, or the dates where every symbol has a close, with fewer than \
                       30 daily returns (named, with how many there are)";

/// `?symbols=A&symbols=B&lookback_days=&method=`, read by hand: repeated keys are a list.
fn matrix_query(
    pairs: Vec<(String, String)>,
) -> ApiResult<(Vec<String>, usize, CorrelationMethod)> {
    let (mut symbols, mut lookback, mut method) = (Vec::new(), None, None);
    for (key, value) in pairs {
        match key.as_str() {
            "symbols" => symbols.push(symbol_text("symbols", &value)?),
            "lookback_days" => {
                lookback = Some(value.parse::<usize>().map_err(|_| {
                    ApiError::invalid("lookback_days", "must be an integer between 30 and 1260")
                })?)
            }
            "method" => {
                method = Some(
                    CorrelationMethod::ALL
                        .into_iter()
                        .find(|m| m.as_str() == value)
                        .ok_or_else(|| {
                            ApiError::invalid(
                                "method",
                                "must be one of: pearson, spearman, kendall",
                            )
                        })?,
                )
            }
            _ => {}
        }
    }
    Ok((
        symbols,
        lookback.unwrap_or(DEFAULT_LOOKBACK_DAYS),
        method.unwrap_or(CorrelationMethod::Pearson),
    ))
}

/// The correlation matrix of 2 to 50 symbols over `lookback_days` of aligned daily returns.
/// The same question on the same market data is computed once and shared.
#[utoipa::path(get, path = "/api/v1/correlation/matrix", tag = "correlation",
    params(
        ("symbols" = inline(Vec<SymbolText>), Query, min_items = 2, max_items = 50,
            description = "2 to 50 symbols: `symbols=BTCUSDT&symbols=ETHUSDT`"),
        ("lookback_days" = Option<u32>, Query, minimum = 30, maximum = 1260,
            description = "Days of returns, 30..=1260 (default 252)"),
        ("method" = Option<CorrelationMethod>, Query, description = "Coefficient (default pearson)")
    ),
    responses(
        (status = 200, body = MatrixAnswer),
        (status = 404, description = "A symbol without market data (named)", body = crate::error::ErrorBody),
        (status = 422, description = TOO_FEW, body = crate::error::ErrorBody)
    ))]
pub async fn get_correlation_matrix(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> ApiResult<web::Json<MatrixAnswer>> {
    let (symbols, lookback, method) = matrix_query(query.into_inner())?;
    let service = state.correlation.clone();
    let answer = caller
        .run(move |p| service.matrix(&p.actor(), &symbols, lookback, method))
        .await?;
    Ok(web::Json((*answer).clone()))
}

/// Query of the rolling route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollingQuery {
    /// First symbol.
    #[param(pattern = "^[A-Za-z0-9]{2,20}$", example = "BTCUSDT")]
    pub symbol1: String,
    /// Second symbol.
    #[param(pattern = "^[A-Za-z0-9]{2,20}$", example = "ETHUSDT")]
    pub symbol2: String,
    /// Window, 10..=252 days (default 30).
    #[param(minimum = 10, maximum = 252)]
    pub window_days: Option<usize>,
    /// Days of returns, 30..=1260 (default 252).
    #[param(minimum = 30, maximum = 1260)]
    pub lookback_days: Option<usize>,
}

/// The Pearson correlation of two symbols over each `window_days` window of the last
/// `lookback_days`, with its current, average, lowest and highest value.
#[utoipa::path(get, path = "/api/v1/correlation/rolling", tag = "correlation",
    params(RollingQuery),
    responses(
        (status = 200, body = RollingAnswer),
        (status = 404, description = "A symbol without market data (named)", body = crate::error::ErrorBody),
        (status = 422, description = "Fewer daily returns than 30 or than the window (named, with how many there are)", body = crate::error::ErrorBody)
    ))]
pub async fn get_rolling_correlation(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RollingQuery>,
) -> ApiResult<web::Json<RollingAnswer>> {
    let q = query.into_inner();
    let (s1, s2) = (
        symbol_text("symbol1", &q.symbol1)?,
        symbol_text("symbol2", &q.symbol2)?,
    );
    let window = q.window_days.unwrap_or(30);
    let lookback = q.lookback_days.unwrap_or(DEFAULT_LOOKBACK_DAYS);
    let service = state.correlation.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.rolling(&p.actor(), &s1, &s2, window, lookback))
            .await?,
    ))
}

/// `lookback_days` of the concentration route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookbackQuery {
    /// Days of returns, 30..=1260 (default 252).
    #[param(minimum = 30, maximum = 1260)]
    pub lookback_days: Option<usize>,
}

/// Where the tenant's holdings' risk comes from: concentration score (Herfindahl of risk
/// shares), pairs with |ρ| > 0.7, diversification ratio, effective number of assets, and
/// annualised risk contributions summing to the portfolio volatility. An empty book answers
/// zeros and empty lists.
#[utoipa::path(get, path = "/api/v1/correlation/concentration", tag = "correlation",
    params(LookbackQuery),
    responses(
        (status = 200, body = Concentration),
        (status = 422, description = TOO_FEW, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_correlation_concentration(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<LookbackQuery>,
) -> ApiResult<web::Json<Concentration>> {
    let lookback = query
        .into_inner()
        .lookback_days
        .unwrap_or(DEFAULT_LOOKBACK_DAYS);
    let service = state.correlation.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.concentration(&p.actor(), lookback))
            .await?,
    ))
}

/// `lookback_days` of the regime route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegimeLookbackQuery {
    /// Days of regime history, 252..=1260 (default 504).
    #[param(minimum = 252, maximum = 1260)]
    pub lookback_days: Option<usize>,
}

/// Average correlation of the holdings on the days of each regime of the tenant's regime
/// history, the last regime changes and a stability score.
#[utoipa::path(get, path = "/api/v1/correlation/regime", tag = "correlation",
    params(RegimeLookbackQuery),
    responses(
        (status = 200, body = RegimeCorrelations),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_correlation_regimes(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<RegimeLookbackQuery>,
) -> ApiResult<web::Json<RegimeCorrelations>> {
    let lookback = query
        .into_inner()
        .lookback_days
        .unwrap_or(DEFAULT_REGIME_LOOKBACK);
    let service = state.correlation.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.regimes(&p.actor(), lookback))
            .await?,
    ))
}

/// `threshold` of the alerts route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThresholdQuery {
    /// `|ρ|` threshold, 0..=1 (default 0.8).
    #[param(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
}

/// Pairs of holdings whose 30-day correlation crossed `threshold` within the last 30 days,
/// and concentration findings; each raises a `correlation` alert (deduplicated).
#[utoipa::path(get, path = "/api/v1/correlation/alerts", tag = "correlation",
    params(ThresholdQuery),
    responses(
        (status = 200, body = CorrelationAlerts),
        (status = 422, description = "The holdings have fewer than 31 aligned daily returns (how many is said)", body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_correlation_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ThresholdQuery>,
) -> ApiResult<web::Json<CorrelationAlerts>> {
    let threshold = query
        .into_inner()
        .threshold
        .unwrap_or(DEFAULT_ALERT_THRESHOLD);
    let service = state.correlation.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.alerts(&p.actor(), threshold))
            .await?,
    ))
}
