//! `/api/v1/risk-budget/...`: the tenant's exposure budget split by strategy and by asset
//! class, its use by the live positions, rebalancing (admin; idempotent with
//! `Idempotency-Key`), recommendations, history and the budgets of the five regimes. The use
//! cases are [`alphapulse_risk::service::BudgetService`]'s.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use alphapulse_domain::Regime;
use alphapulse_risk::service::{
    BudgetHistory, BudgetView, RebalanceAnswer, RebalanceView, RecommendationView,
    RegimeBudgetView, UtilizationView,
};
use serde::Deserialize;
use tenant_auth::Permission;

use crate::{
    caller::Caller,
    error::ApiResult,
    extract::idempotency_key,
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, get_risk_budget))
        .add(route!(Access::READ, get_risk_budget_utilization))
        .add(route!(
            Access::Requires(Permission::ManageSettings),
            rebalance_risk_budget
        ))
        .add(route!(Access::READ, get_risk_budget_recommendations))
        .add(route!(Access::READ, get_risk_budget_history))
        .add(route!(Access::READ, get_regime_risk_budget));
}

const NO_BUDGET: &str = "The tenant has no risk budget yet (the first rebalance writes one)";

/// The budget in force (strategies and asset classes) with its use by the live positions.
#[utoipa::path(get, path = "/api/v1/risk-budget/current", tag = "risk-budget",
    responses(
        (status = 200, body = BudgetView),
        (status = 404, description = NO_BUDGET, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_budget(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<BudgetView>> {
    let service = state.risk_budget.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.current_budget(&p.actor()))
            .await?,
    ))
}

/// Utilisation of the budget by the live positions: in total (warning above 90 %, which
/// raises a `risk_budget` alert), per strategy and per asset class (warning above 95 %).
#[utoipa::path(get, path = "/api/v1/risk-budget/utilization", tag = "risk-budget",
    responses(
        (status = 200, body = UtilizationView),
        (status = 404, description = NO_BUDGET, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_budget_utilization(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<UtilizationView>> {
    let service = state.risk_budget.clone();
    Ok(web::Json(
        caller.run(move |p| service.utilization(&p.actor())).await?,
    ))
}

/// Query of the rebalance route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RebalanceQuery {
    /// Write a new version even when no trigger fired (default false).
    pub force: Option<bool>,
}

/// Rebalances the budget (admin): a new version when there is none, when forced, or when a
/// trigger fires (regime change, total budget moved > 10 %, use > 110 %, drift > 10 points),
/// else `skipped`; audited as `risk_budget.rebalance` either way.
#[utoipa::path(post, path = "/api/v1/risk-budget/rebalance", tag = "risk-budget",
    params(RebalanceQuery,
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
        pattern = "^[!-~]+$",
        description = "Retry key: the same key and request answer the first result and write nothing")),
    responses(
        (status = 200, body = RebalanceView, description = "`idempotent-replayed: true` on a replay"),
        (status = 409, description = "The key is in use or was used with another request, or another rebalance wrote a version meanwhile", body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn rebalance_risk_budget(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RebalanceQuery>,
) -> ApiResult<HttpResponse> {
    let force = query.into_inner().force.unwrap_or(false);
    let key = idempotency_key(&req)?.map(|k| k.as_str().to_owned());
    let service = state.risk_budget.clone();
    let answer = caller
        .run(move |p| service.rebalance(p, key, force))
        .await?;
    Ok(match answer {
        RebalanceAnswer::Fresh(view) => HttpResponse::Ok().json(view),
        RebalanceAnswer::Replayed { status, body } => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
                .insert_header(("idempotent-replayed", "true"))
                .json(body)
        }
    })
}

/// Where the budget should move now (targets by the regime's method, the triggers that fire,
/// expected change of risk), without moving it.
#[utoipa::path(get, path = "/api/v1/risk-budget/recommendations", tag = "risk-budget",
    responses(
        (status = 200, body = RecommendationView),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_risk_budget_recommendations(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<RecommendationView>> {
    let service = state.risk_budget.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.recommendations(&p.actor()))
            .await?,
    ))
}

/// Query of the history route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetHistoryQuery {
    /// Days back, 1..=365 (default 30).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

/// The budget's daily history (utilisation, leverage, realised volatility, version and regime
/// of each day with a portfolio snapshot), its summary and the regime changes.
#[utoipa::path(get, path = "/api/v1/risk-budget/history", tag = "risk-budget",
    params(BudgetHistoryQuery),
    responses((status = 200, body = BudgetHistory)))]
pub async fn get_risk_budget_history(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<BudgetHistoryQuery>,
) -> ApiResult<web::Json<BudgetHistory>> {
    let days = query.into_inner().days.unwrap_or(30);
    let service = state.risk_budget.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.history(&p.actor(), days))
            .await?,
    ))
}

/// The budget for one regime: the tenant's base (portfolio value × leverage limit) scaled by
/// the regime's factors, its volatility target, leverage limit, concentration limit and
/// allocation method.
#[utoipa::path(get, path = "/api/v1/risk-budget/regime/{regime_type}", tag = "risk-budget",
    params(("regime_type" = Regime, Path, description = "bull, bear, sideways, crisis or recovery")),
    responses(
        (status = 200, body = RegimeBudgetView),
        (status = 404, description = "Not one of the five regimes (the answer lists them)", body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_regime_risk_budget(
    caller: Caller,
    state: web::Data<AppState>,
    regime: web::Path<String>,
) -> ApiResult<web::Json<RegimeBudgetView>> {
    let (regime, service) = (regime.into_inner(), state.risk_budget.clone());
    Ok(web::Json(
        caller
            .run(move |p| service.regime_budget(&p.actor(), &regime))
            .await?,
    ))
}
