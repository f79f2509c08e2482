//! `GET /api/v1/positions/{spot,futures,metrics}` (seed 000): the tenant's holdings from its
//! exchange account, valued at current prices. Any tenant role may read them. An exchange
//! failure is a 503 with the seeds' "Failed to fetch ..." wording; the cause is logged with
//! the tenant and user, never returned.

use actix_web::web;
use alphapulse_hedging::{FuturesPositionView, PositionMetrics, SpotPosition};

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
        .add(route!(Access::READ, get_spot_positions))
        .add(route!(Access::READ, get_futures_positions))
        .add(route!(Access::READ, get_position_metrics));
}

/// Spot holdings valued at current prices.
#[utoipa::path(get, path = "/api/v1/positions/spot", tag = "positions",
    responses(
        (status = 200, body = Vec<SpotPosition>),
        (status = 503, description = "Failed to fetch spot positions", body = crate::error::ErrorBody)
    ))]
pub async fn get_spot_positions(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Vec<SpotPosition>>> {
    // The hot path (issue 16): on this worker, no blocking thread, when the exchange client
    // can answer so (a paper account already known).
    if let Some(read) = state.positions.spot_nonblocking(&caller.actor()) {
        let spot = read.await.map_err(ApiError::exchange("spot positions"))?;
        return Ok(web::Json(spot));
    }
    let service = state.positions.clone();
    let spot = caller
        .run(move |p| {
            service
                .spot(&p.actor())
                .map_err(ApiError::exchange("spot positions"))
        })
        .await?;
    Ok(web::Json(spot))
}

/// Futures positions at mark prices.
#[utoipa::path(get, path = "/api/v1/positions/futures", tag = "positions",
    responses(
        (status = 200, body = Vec<FuturesPositionView>),
        (status = 503, description = "Failed to fetch futures positions", body = crate::error::ErrorBody)
    ))]
pub async fn get_futures_positions(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Vec<FuturesPositionView>>> {
    if let Some(read) = state.positions.futures_nonblocking(&caller.actor()) {
        let futures = read
            .await
            .map_err(ApiError::exchange("futures positions"))?;
        return Ok(web::Json(futures));
    }
    let service = state.positions.clone();
    let futures = caller
        .run(move |p| {
            service
                .futures(&p.actor())
                .map_err(ApiError::exchange("futures positions"))
        })
        .await?;
    Ok(web::Json(futures))
}

/// Exposure metrics: total value, spot value, futures notional, net exposure, counts, hedge
/// ratio (short futures notional / spot value of the same assets, 0 without spot).
#[utoipa::path(get, path = "/api/v1/positions/metrics", tag = "positions",
    responses(
        (status = 200, body = PositionMetrics),
        (status = 503, description = "Failed to fetch position metrics", body = crate::error::ErrorBody)
    ))]
pub async fn get_position_metrics(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<PositionMetrics>> {
    let failed = ApiError::exchange("position metrics");
    if let Some(read) = state.positions.metrics_nonblocking(&caller.actor()) {
        return Ok(web::Json(read.await.map_err(failed)?));
    }
    let service = state.positions.clone();
    let metrics = caller
        .run(move |p| service.metrics(&p.actor()).map_err(failed))
        .await?;
    Ok(web::Json(metrics))
}
