//! `GET /api/v1/system` (platform `owner`/`staff`): host CPU, memory and disk, this process,
//! the database and the pool. `POST /api/v1/system/exchange/reload` (`admin`, `trader`):
//! re-syncs the tenant's exchange account.

use actix_web::web;
use alphapulse_domain::Permission;
use alphapulse_operations::system::{AccountSync, SystemReport};
use chrono::{DateTime, Utc};
use serde::Serialize;

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
        .add(route!(
            Access::Requires(Permission::ReadTenants),
            get_system_health
        ))
        .add(route!(Access::TRADE, reload_exchange));
}

/// Host, process, database and pool health of this server.
#[utoipa::path(get, path = "/api/v1/system", tag = "system",
    responses((status = 200, body = SystemReport)))]
pub async fn get_system_health(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<SystemReport>> {
    let service = state.system.clone();
    let report = caller
        .run(move |_| Ok::<_, ApiError>(service.report()))
        .await?;
    Ok(web::Json(report))
}

/// The re-sync of the tenant's exchange account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExchangeReload {
    /// Per account.
    pub accounts: Vec<AccountSync>,
    /// When.
    pub timestamp: DateTime<Utc>,
}

/// Forgets what the server caches of the tenant's exchange account and reads its balances and
/// positions again; a failing live account also raises its `exchange` alert.
#[utoipa::path(post, path = "/api/v1/system/exchange/reload", tag = "system",
    responses((status = 200, body = ExchangeReload)))]
pub async fn reload_exchange(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<ExchangeReload>> {
    let service = state.system.clone();
    let accounts = caller.run(move |p| service.exchange_reload(p)).await?;
    Ok(web::Json(ExchangeReload {
        accounts,
        timestamp: Utc::now(),
    }))
}
