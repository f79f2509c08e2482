//! `GET /api/v1/portfolio`, `POST /api/v1/portfolio/reload` (admin, trader) and
//! `GET /api/v1/trades`: the tenant's book valued at its latest prices with the account's real
//! cash, snapshots on demand, and its fills. The use cases are
//! [`alphapulse_risk::service::PortfolioService`]'s.

use actix_web::web;
use alphapulse_risk::service::{PortfolioView, Reloaded, TradeQuery, TradeView};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    caller::Caller,
    error::ApiResult,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, get_portfolio))
        .add(route!(Access::TRADE, reload_portfolio))
        .add(route!(Access::READ, list_trades));
}

/// Query of the portfolio route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Add the last 90 days of daily snapshots (default false).
    pub include_history: Option<bool>,
}

/// The tenant's positions valued at their latest prices, its cash, and the performance of its
/// daily returns over the last 365 days (`metrics.returns_source` says whether they come from
/// the snapshots or from the holdings' candles; ratios are `null` below 30 returns).
#[utoipa::path(get, path = "/api/v1/portfolio", tag = "portfolio", params(PortfolioQuery),
    responses(
        (status = 200, body = PortfolioView),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn get_portfolio(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PortfolioQuery>,
) -> ApiResult<web::Json<PortfolioView>> {
    let include = query.into_inner().include_history.unwrap_or(false);
    // A cached series over a book read on async connections; computed on the blocking path.
    if let Some(read) = state
        .portfolio
        .portfolio_nonblocking(&caller.actor(), include)
    {
        if let Some(view) = read.await? {
            return Ok(web::Json(view));
        }
    }
    let service = state.portfolio.clone();
    let view = caller
        .run(move |p| service.portfolio(&p.actor(), include))
        .await?;
    Ok(web::Json(view))
}

/// Re-reads the tenant's exchange account and writes a portfolio snapshot now (audited as
/// `portfolio.reload`).
#[utoipa::path(post, path = "/api/v1/portfolio/reload", tag = "portfolio",
    responses(
        (status = 200, body = Reloaded),
        (status = 503, description = "Failed to fetch the portfolio (exchange unavailable)", body = crate::error::ErrorBody)
    ))]
pub async fn reload_portfolio(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<Reloaded>> {
    let service = state.portfolio.clone();
    Ok(web::Json(caller.run(move |p| service.reload(p)).await?))
}

/// Filters of the trade list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    /// Only this symbol.
    #[param(pattern = "^[A-Za-z0-9]{2,20}$")]
    pub symbol: Option<String>,
    /// Executed at or after (default: `end_time` − 7 days).
    pub start_time: Option<DateTime<Utc>>,
    /// Executed at or before (default: now).
    pub end_time: Option<DateTime<Utc>>,
}

/// The tenant's trades (paper and hedge fills), newest first, paginated; the window defaults
/// to the last 7 days.
#[utoipa::path(get, path = "/api/v1/trades", tag = "portfolio", params(TradesQuery, PageQuery),
    responses(
        (status = 200, body = PageOf<TradeView>),
        (status = 422, description = "`start_time` after `end_time` (which defaults to now), a bad symbol, limit or cursor", body = crate::error::ErrorBody)
    ))]
pub async fn list_trades(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<TradesQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<TradeView>>> {
    let (q, page) = (query.into_inner(), page.into_inner());
    let symbol = q
        .symbol
        .map(|s| crate::routes::risk::symbol_text("symbol", &s))
        .transpose()?;
    let filter = TradeQuery {
        symbol,
        start_time: q.start_time,
        end_time: q.end_time,
    };
    let service = state.portfolio.clone();
    let page = caller
        .run(move |p| {
            let page = page
                .request()
                .map_err(alphapulse_risk::service::ServiceError::from)?;
            service.trades(&p.actor(), filter, &page)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}
