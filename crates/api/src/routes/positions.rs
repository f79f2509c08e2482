//! `GET /api/v1/positions/{spot,futures,metrics}` (seed 000): the tenant's holdings from its
//! exchange account, valued at current prices. Any tenant role may read them. An exchange
//! failure is a 503 with the seeds' "Failed to fetch ..." wording; the cause is logged with
//! the tenant and user, never returned.

use actix_web::{http::Method, web, HttpResponse};
use alphapulse_domain::ExchangeError;
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
        .add(Method::GET, "/api/v1/positions/spot", spot_positions)
        .add(Method::GET, "/api/v1/positions/futures", futures_positions)
        .add(Method::GET, "/api/v1/positions/metrics", position_metrics);
}

fn exchange_failure(what: &'static str) -> impl FnOnce(ExchangeError) -> ApiError {
    move |err| {
        tracing::warn!(cause = %err, "exchange call failed");
        match err {
            ExchangeError::RateLimited { retry_after_secs } => ApiError::Unavailable(format!(
                "Failed to fetch {what}: exchange rate limit, retry in {retry_after_secs} s"
            )),
            _ => ApiError::Unavailable(format!("Failed to fetch {what}")),
        }
    }
}

/// Spot holdings valued at current prices.
#[utoipa::path(get, path = "/api/v1/positions/spot", tag = "positions",
    responses(
        (status = 200, description = "`[{symbol, quantity, avg_price, current_price, value, unrealized_pnl}]`, decimals as strings"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch spot positions", body = crate::error::ErrorBody)
    ))]
pub async fn spot_positions(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get spot positions", async {
        ctx.require(Permission::ReadTenantData)?;
        let (service, actor) = (state.positions.clone(), actor(&ctx));
        let spot = blocking_with(
            move || service.spot(&actor),
            exchange_failure("spot positions"),
        )
        .await?;
        Ok(HttpResponse::Ok().json(spot))
    })
    .await
}

/// Futures positions at mark prices.
#[utoipa::path(get, path = "/api/v1/positions/futures", tag = "positions",
    responses(
        (status = 200, description = "`[{symbol, side, quantity, entry_price, mark_price, leverage, notional, unrealized_pnl, liquidation_price}]`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch futures positions", body = crate::error::ErrorBody)
    ))]
pub async fn futures_positions(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get futures positions", async {
        ctx.require(Permission::ReadTenantData)?;
        let (service, actor) = (state.positions.clone(), actor(&ctx));
        let futures = blocking_with(
            move || service.futures(&actor),
            exchange_failure("futures positions"),
        )
        .await?;
        Ok(HttpResponse::Ok().json(futures))
    })
    .await
}

/// Exposure metrics: total value, spot value, futures notional, net exposure, counts, hedge ratio.
#[utoipa::path(get, path = "/api/v1/positions/metrics", tag = "positions",
    responses(
        (status = 200, description = "`{total_value, spot_value, futures_notional, net_exposure, spot_count, futures_count, hedge_ratio}`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, description = "Failed to fetch position metrics", body = crate::error::ErrorBody)
    ))]
pub async fn position_metrics(
    ctx: TenantContext,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "get position metrics", async {
        ctx.require(Permission::ReadTenantData)?;
        let (service, actor) = (state.positions.clone(), actor(&ctx));
        let metrics = blocking_with(
            move || {
                let spot = service.spot(&actor)?;
                let futures = service.futures(&actor)?;
                Ok(alphapulse_hedging::metrics(&spot, &futures))
            },
            exchange_failure("position metrics"),
        )
        .await?;
        Ok(HttpResponse::Ok().json(metrics))
    })
    .await
}
