//! Hedging (seed 001): the analysis (any role), and the two trading actions, execute and
//! close (`admin`/`trader`), with `Idempotency-Key` support. The use cases, including the
//! idempotency protocol and the audit rows, are [`alphapulse_hedging::HedgingDesk`]'s.

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use alphapulse_hedging::{Answer, Closed, Executed, HedgeAnalysis};
use serde::{Deserialize, Serialize};

use crate::{
    caller::Caller,
    error::ApiResult,
    extract::{idempotency_key, OptionalJson},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, get_hedge_analysis))
        .add(route!(Access::TRADE, execute_hedge))
        .add(route!(Access::TRADE, close_hedges));
}

/// Per-asset exposure, current and target hedge ratio, and recommended orders.
#[utoipa::path(get, path = "/api/v1/hedging/analysis", tag = "hedging",
    responses(
        (status = 200, body = HedgeAnalysis),
        (status = 503, description = "Failed to fetch positions for hedging", body = crate::error::ErrorBody)
    ))]
pub async fn get_hedge_analysis(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<HedgeAnalysis>> {
    if let Some(read) = state.hedging.analysis_nonblocking(caller.principal()) {
        return Ok(web::Json(read.await?));
    }
    let desk = state.hedging.clone();
    Ok(web::Json(caller.run(move |p| desk.analysis(p)).await?))
}

/// Body of `POST /api/v1/hedging/execute` (optional).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// Target ratio (default: the tenant's, else 1.0).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub target_hedge_ratio: Option<f64>,
    /// Plan the orders without placing them.
    #[serde(default)]
    pub dry_run: bool,
}

/// Body of `POST /api/v1/hedging/close` (optional).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Plan the orders without placing them.
    #[serde(default)]
    pub dry_run: bool,
}

fn answer<T: Serialize>(answer: Answer<T>) -> HttpResponse {
    match answer {
        Answer::Fresh(body) => HttpResponse::Ok().json(body),
        Answer::Replayed { status, body } => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
                .insert_header(("idempotent-replayed", "true"))
                .json(body)
        }
    }
}

/// Places the orders that bring every hedge to the target (or plans them with `dry_run`).
#[utoipa::path(post, path = "/api/v1/hedging/execute", tag = "hedging",
    request_body(content = Option<ExecuteRequest>, description = "Optional; empty means the defaults"),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
        pattern = "^[!-~]+$",
        description = "Retry key: the same key and body answer the first result and place nothing twice")),
    responses(
        (status = 200, body = Executed, description = "`idempotent-replayed: true` on a replay"),
        (status = 409, description = "The key is in use, or was used with another body", body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch positions for hedging", body = crate::error::ErrorBody)
    ))]
pub async fn execute_hedge(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    OptionalJson(request): OptionalJson<ExecuteRequest>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let desk = state.hedging.clone();
    let done = caller
        .run(move |p| desk.execute(p, key, request.target_hedge_ratio, request.dry_run))
        .await?;
    Ok(answer(done))
}

/// Closes every short futures hedge with reduce-only orders (or plans it with `dry_run`).
#[utoipa::path(post, path = "/api/v1/hedging/close", tag = "hedging",
    request_body(content = Option<CloseRequest>, description = "Optional; empty means the defaults"),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200,
        pattern = "^[!-~]+$", description = "Retry key")),
    responses(
        (status = 200, body = Closed, description = "`idempotent-replayed: true` on a replay"),
        (status = 409, description = "The key is in use, or was used with another body", body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch positions for hedging", body = crate::error::ErrorBody)
    ))]
pub async fn close_hedges(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    OptionalJson(request): OptionalJson<CloseRequest>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let desk = state.hedging.clone();
    let done = caller
        .run(move |p| desk.close(p, key, request.dry_run))
        .await?;
    Ok(answer(done))
}
