//! `/api/v1/settings` and `/api/v1/tenants/{id}/settings`.

use actix_web::web;
use alphapulse_console::SettingsChange;
use alphapulse_domain::TenantId;
use tenant_auth::Permission;
use uuid::Uuid;

use super::dto::{SettingsResponse, TenantSettingsItem, UpdateSettingsRequest};
use crate::{
    caller::Caller,
    error::ApiResult,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the settings routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, list_tenant_settings))
        .add(route!(Access::READ, get_tenant_settings))
        .add(route!(
            Access::Requires(Permission::ManageSettings),
            update_tenant_settings
        ));
}

/// The tenants the caller may see with their settings (owner: every tenant; staff: the
/// assigned ones; a tenant admin: their own), paginated.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", params(PageQuery),
    responses((status = 200, body = PageOf<TenantSettingsItem>)))]
pub async fn list_tenant_settings(
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<TenantSettingsItem>>> {
    let (service, page) = (state.console.settings.clone(), page.into_inner());
    let page = caller
        .run(move |p| {
            let page = page.request()?;
            service.list(p, &page).map_err(crate::error::ApiError::from)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// A tenant's settings (staff: an assigned tenant; admin: their own; others 404).
#[utoipa::path(get, path = "/api/v1/tenants/{id}/settings", tag = "settings",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = SettingsResponse)))]
pub async fn get_tenant_settings(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<SettingsResponse>> {
    let (service, tenant) = (state.console.settings.clone(), TenantId(id.into_inner()));
    let settings = caller.run(move |p| service.get(p, tenant)).await?;
    Ok(web::Json(SettingsResponse::of(tenant, settings)))
}

/// Changes a tenant's settings (upsert of the fields sent; owner: any tenant; admin: their
/// own; staff: 403). A threshold outside 0.80..=0.98 is 422 and writes nothing. Audited.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/settings", tag = "settings",
    params(("id" = Uuid, Path, description = "Tenant id")),
    request_body = UpdateSettingsRequest,
    responses((status = 200, body = SettingsResponse)))]
pub async fn update_tenant_settings(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateSettingsRequest>,
) -> ApiResult<web::Json<SettingsResponse>> {
    let body = body.into_inner();
    let change = SettingsChange {
        autopost_enabled: body.autopost_enabled,
        autopost_threshold: body.autopost_threshold,
        llm_tenant_cap_usd: body.llm_tenant_cap_usd,
    };
    let (service, tenant) = (state.console.settings.clone(), TenantId(id.into_inner()));
    let settings = caller
        .run(move |p| service.update(p, tenant, change))
        .await?;
    Ok(web::Json(SettingsResponse::of(tenant, settings)))
}
