//! `/api/v1/liquidity/...` (any role; computations, nothing stored): the liquidity models of
//! `alphapulse-liquidity` (docs/liquidity.md) over the shared daily candles and the tenant's
//! holdings. A symbol without (enough) candles is 404.

use actix_web::web;
use alphapulse_domain::Symbol;
use alphapulse_liquidity::{
    Assessment, BpsInterval, ExecutionPlan, LiquidityMetrics, ScenarioKind, Urgency,
};
use alphapulse_operations::liquidity::{BookReport, StressReport};
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
        .add(route!(Access::READ, assess_liquidity))
        .add(route!(Access::READ, estimate_impact))
        .add(route!(Access::READ, plan_execution_strategy))
        .add(route!(Access::READ, get_portfolio_liquidity))
        .add(route!(Access::READ, get_liquidity_metrics))
        .add(route!(Access::READ, get_liquidity_history))
        .add(route!(Access::READ, run_liquidity_stress_test));
}

/// Largest size accepted (base units).
const MAX_SIZE: f64 = 1e15;

fn symbol(text: &str) -> ApiResult<Symbol> {
    Symbol::parse(text).map_err(|_| ApiError::NotFound(format!("Market data for {text:?}")))
}

/// Body of `POST /api/v1/liquidity/assess`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessRequest {
    /// The symbol, e.g. `BTCUSDT`.
    pub symbol: Symbol,
    /// Position size in base units (> 0; the absolute size of a short).
    #[schema(exclusive_minimum = 0.0, maximum = 1e15)]
    pub position_size: f64,
    /// Price to value it at (> 0; default: the last close).
    #[schema(exclusive_minimum = 0.0, maximum = 1e12)]
    pub current_price: Option<f64>,
}

/// The liquidity of a position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessResponse {
    /// The symbol.
    pub symbol: Symbol,
    /// Score (0..1), days to liquidate, expected slippage and cost, advice.
    #[serde(flatten)]
    pub assessment: Assessment,
    /// When.
    pub timestamp: DateTime<Utc>,
}

fn size(field: &'static str, value: f64) -> ApiResult<f64> {
    if value.is_finite() && value > 0.0 && value <= MAX_SIZE {
        Ok(value)
    } else {
        Err(ApiError::invalid(field, "must be > 0 and at most 1e15"))
    }
}

/// Liquidity score, days to liquidate at 10 % of daily volume, expected slippage and advice.
#[utoipa::path(post, path = "/api/v1/liquidity/assess", tag = "liquidity",
    request_body = AssessRequest,
    responses(
        (status = 200, body = AssessResponse),
        (status = 404, description = "No (or too few) daily candles for the symbol", body = crate::error::ErrorBody)
    ))]
pub async fn assess_liquidity(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<AssessRequest>,
) -> ApiResult<web::Json<AssessResponse>> {
    let body = body.into_inner();
    let quantity = size("position_size", body.position_size)?;
    let price = body
        .current_price
        .map(|p| size("current_price", p))
        .transpose()?;
    let (service, symbol) = (state.liquidity.clone(), body.symbol);
    let sym = symbol.clone();
    let assessment = caller
        .run(move |p| service.assess(p, &sym, quantity, price))
        .await?;
    Ok(web::Json(AssessResponse {
        symbol,
        assessment,
        timestamp: Utc::now(),
    }))
}

/// Body of `POST /api/v1/liquidity/impact`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// The symbol.
    pub symbol: Symbol,
    /// Order size in base units (> 0).
    #[schema(exclusive_minimum = 0.0, maximum = 1e15)]
    pub order_size: f64,
    /// Buy or sell (signs the move): the order side of the rest of the API.
    pub side: alphapulse_domain::Side,
}

/// Square-root impact of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImpactResponse {
    /// The symbol.
    pub symbol: Symbol,
    /// The order size.
    pub order_size: f64,
    /// The side.
    pub side: alphapulse_domain::Side,
    /// Order size / ADV.
    pub participation: f64,
    /// Part that reverts after the order, bps.
    pub temporary_bps: f64,
    /// Part that stays, bps.
    pub permanent_bps: f64,
    /// Peak move by the last fill, bps.
    pub total_bps: f64,
    /// The move signed by the side (buy up, sell down), bps.
    pub signed_move_bps: f64,
    /// A deliberately wide band, bps.
    pub confidence_interval: BpsInterval,
    /// Participation above the range the law is measured on (10 % of ADV).
    pub beyond_calibrated_range: bool,
}

/// Square-root market impact `Y sigma sqrt(Q / ADV)` of an order, split temporary/permanent.
#[utoipa::path(post, path = "/api/v1/liquidity/impact", tag = "liquidity",
    request_body = ImpactRequest,
    responses(
        (status = 200, body = ImpactResponse),
        (status = 404, description = "No (or too few) daily candles, or no traded volume, for the symbol", body = crate::error::ErrorBody)
    ))]
pub async fn estimate_impact(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<ImpactRequest>,
) -> ApiResult<web::Json<ImpactResponse>> {
    let body = body.into_inner();
    let quantity = size("order_size", body.order_size)?;
    let (service, sym) = (state.liquidity.clone(), body.symbol.clone());
    let impact = caller
        .run(move |p| service.impact(p, &sym, quantity))
        .await?;
    Ok(web::Json(ImpactResponse {
        symbol: body.symbol,
        order_size: quantity,
        side: body.side,
        participation: impact.participation,
        temporary_bps: impact.temporary_bps,
        permanent_bps: impact.permanent_bps,
        total_bps: impact.total_bps,
        signed_move_bps: impact.signed_move_bps(impact_side(body.side)),
        confidence_interval: impact.confidence_interval,
        beyond_calibrated_range: impact.beyond_calibrated_range,
    }))
}

/// Body of `POST /api/v1/liquidity/execution-strategy`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionRequest {
    /// The symbol.
    pub symbol: Symbol,
    /// Quantity to execute in base units (> 0).
    #[schema(exclusive_minimum = 0.0, maximum = 1e15)]
    pub total_quantity: f64,
    /// How urgent (default `normal`).
    #[serde(default)]
    pub urgency: Option<Urgency>,
    /// Impact budget as a fraction of price, (0, 1] (default 0.01 = 100 bps).
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub max_impact: Option<f64>,
}

/// An execution plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExecutionResponse {
    /// The symbol.
    pub symbol: Symbol,
    /// The quantity.
    pub total_quantity: f64,
    /// Strategy, slices, horizon, expected impact and the rationale.
    #[serde(flatten)]
    pub plan: ExecutionPlan,
    /// When.
    pub timestamp: DateTime<Utc>,
}

/// The execution strategy (TWAP, VWAP, Iceberg or Implementation Shortfall) with its slices,
/// horizon and rationale.
#[utoipa::path(post, path = "/api/v1/liquidity/execution-strategy", tag = "liquidity",
    request_body = ExecutionRequest,
    responses(
        (status = 200, body = ExecutionResponse),
        (status = 404, description = "No (or too few) daily candles, or no traded volume, for the symbol", body = crate::error::ErrorBody)
    ))]
pub async fn plan_execution_strategy(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<ExecutionRequest>,
) -> ApiResult<web::Json<ExecutionResponse>> {
    let body = body.into_inner();
    let quantity = size("total_quantity", body.total_quantity)?;
    let max_impact = body.max_impact.unwrap_or(0.01);
    if !(max_impact.is_finite() && max_impact > 0.0 && max_impact <= 1.0) {
        return Err(ApiError::invalid("max_impact", "must lie in (0, 1]"));
    }
    let urgency = body.urgency.unwrap_or_default();
    let (service, sym) = (state.liquidity.clone(), body.symbol.clone());
    let plan = caller
        .run(move |p| service.execution(p, &sym, quantity, urgency, max_impact))
        .await?;
    Ok(web::Json(ExecutionResponse {
        symbol: body.symbol,
        total_quantity: quantity,
        plan,
        timestamp: Utc::now(),
    }))
}

/// Query of the portfolio route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Share of daily volume sold per day, 0.0001..=1 (default 0.1).
    #[param(minimum = 0.0001, maximum = 1.0)]
    pub participation_rate: Option<f64>,
}

/// Days to liquidate each holding (spot and futures) and the whole book at a participation
/// rate, with scores and expected costs.
#[utoipa::path(get, path = "/api/v1/liquidity/portfolio", tag = "liquidity",
    params(PortfolioQuery),
    responses(
        (status = 200, body = BookReport),
        (status = 503, description = "Failed to fetch the positions", body = crate::error::ErrorBody)
    ))]
pub async fn get_portfolio_liquidity(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PortfolioQuery>,
) -> ApiResult<web::Json<BookReport>> {
    let (service, rate) = (state.liquidity.clone(), query.participation_rate);
    Ok(web::Json(
        caller.run(move |p| service.portfolio(p, rate)).await?,
    ))
}

/// Metrics of one symbol.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricsResponse {
    /// The symbol.
    pub symbol: Symbol,
    /// Spread estimate, ADV, Amihud, Kyle's lambda, volatility over the last 30 days.
    #[serde(flatten)]
    pub metrics: LiquidityMetrics,
}

/// Spread estimate (Corwin-Schultz), ADV, Amihud illiquidity, Kyle's lambda and volatility
/// of a symbol over its last 30 daily candles.
#[utoipa::path(get, path = "/api/v1/liquidity/metrics/{symbol}", tag = "liquidity",
    params(("symbol" = Symbol, Path, description = "The symbol")),
    responses(
        (status = 200, body = MetricsResponse),
        (status = 404, description = "No (or too few) daily candles for the symbol", body = crate::error::ErrorBody)
    ))]
pub async fn get_liquidity_metrics(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<MetricsResponse>> {
    let symbol = symbol(&path)?;
    let (service, sym) = (state.liquidity.clone(), symbol.clone());
    let metrics = caller.run(move |p| service.metrics(p, &sym)).await?;
    Ok(web::Json(MetricsResponse { symbol, metrics }))
}

/// Query of the history route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Days, 1..=365 (default 30).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<u32>,
}

/// A daily series of metrics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryResponse {
    /// The symbol.
    pub symbol: Symbol,
    /// Days asked.
    pub days: u32,
    /// Oldest first, each on the 30 candles ending that day.
    pub history: Vec<LiquidityMetrics>,
}

/// The metrics of each of the last `days` days, oldest first.
#[utoipa::path(get, path = "/api/v1/liquidity/history/{symbol}", tag = "liquidity",
    params(("symbol" = Symbol, Path, description = "The symbol"), HistoryQuery),
    responses(
        (status = 200, body = HistoryResponse),
        (status = 404, description = "No (or too few) daily candles for the symbol", body = crate::error::ErrorBody)
    ))]
pub async fn get_liquidity_history(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<web::Json<HistoryResponse>> {
    let symbol = symbol(&path)?;
    let days = query.days.unwrap_or(30);
    let (service, sym) = (state.liquidity.clone(), symbol.clone());
    let history = caller.run(move |p| service.history(p, &sym, days)).await?;
    Ok(web::Json(HistoryResponse {
        symbol,
        days,
        history,
    }))
}

/// Query of the stress test.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StressQuery {
    /// The scenario (default `market_crash`).
    #[param(value_type = Option<ScenarioKind>, inline)]
    pub scenario: Option<String>,
}

/// The liquidation cost of the tenant's book under a scenario (price, volume, volatility and
/// spread shocks; docs/liquidity.md).
#[utoipa::path(post, path = "/api/v1/liquidity/stress-test", tag = "liquidity",
    params(StressQuery),
    responses(
        (status = 200, body = StressReport),
        (status = 503, description = "Failed to fetch the positions", body = crate::error::ErrorBody)
    ))]
pub async fn run_liquidity_stress_test(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<StressQuery>,
) -> ApiResult<web::Json<StressReport>> {
    let scenario = match query.into_inner().scenario {
        None => ScenarioKind::MarketCrash,
        Some(text) => text.parse::<ScenarioKind>().map_err(|_| {
            let names = ScenarioKind::ALL.map(ScenarioKind::as_str);
            ApiError::invalid("scenario", format!("must be one of: {}", names.join(", ")))
        })?,
    };
    let service = state.liquidity.clone();
    Ok(web::Json(
        caller.run(move |p| service.stress(p, scenario)).await?,
    ))
}

/// The liquidity models' own side (a pure crate without the domain's types).
fn impact_side(side: alphapulse_domain::Side) -> alphapulse_liquidity::Side {
    match side {
        alphapulse_domain::Side::Buy => alphapulse_liquidity::Side::Buy,
        alphapulse_domain::Side::Sell => alphapulse_liquidity::Side::Sell,
    }
}
