//! Platform administration of tenants: `/api/v1/tenants`. The rules (owner writes, staff
//! read assigned tenants, the platform tenant cannot be blocked, audit rows) live in
//! [`alphapulse_admin::TenantAdmin`]; this module is extract, call, map.

use actix_web::{http::header, web, HttpResponse};
use alphapulse_admin::{CreateTenant, UpdateTenant};
use alphapulse_domain::{SubscriptionTier, Tenant, TenantId, TenantStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenant_auth::Permission;
use uuid::Uuid;

use crate::{
    caller::Caller,
    error::ApiResult,
    extract::{present, present_whole, whole},
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the tenant routes.
pub fn declare(routes: &mut Routes) {
    let (read, manage) = (
        Access::Requires(Permission::ReadTenants),
        Access::Requires(Permission::ManageTenants),
    );
    routes
        .add(route!(read, list_tenants))
        .add(route!(manage, create_tenant))
        .add(route!(read, get_tenant))
        .add(route!(manage, update_tenant))
        .add(route!(manage, delete_tenant));
}

/// A tenant as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantResponse {
    /// Identifier.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique handle (`a-z`, `0-9`, inner `-`).
    pub slug: String,
    /// The plan.
    #[schema(value_type = SubscriptionTier)]
    pub subscription_tier: String,
    /// The state.
    #[schema(value_type = TenantStatus)]
    pub status: String,
    /// Most users the tenant may have.
    pub max_users: i32,
    /// Daily API call quota.
    pub max_api_calls_per_day: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Free-form attributes (a JSON object).
    #[schema(value_type = Object)]
    pub metadata: Value,
}

impl From<Tenant> for TenantResponse {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            slug: t.slug.to_string(),
            subscription_tier: t.subscription_tier.to_string(),
            status: t.status.to_string(),
            max_users: t.max_users,
            max_api_calls_per_day: t.max_api_calls_per_day,
            created_at: t.created_at,
            updated_at: t.updated_at,
            metadata: t.metadata,
        }
    }
}

/// Filter of the tenant list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantFilter {
    /// Only tenants in this state.
    #[param(value_type = Option<TenantStatus>)]
    pub status: Option<String>,
}

/// Body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// Display name, 1-255 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0c\r ][^\x00]*$"
    )]
    pub name: String,
    /// Unique handle: 3-63 characters of `a-z`, `0-9` and inner `-`.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    pub slug: String,
    /// The plan.
    #[schema(value_type = SubscriptionTier)]
    pub subscription_tier: String,
    /// Most users (default 5).
    #[schema(minimum = 1, maximum = 2147483647)]
    #[serde(default, deserialize_with = "whole")]
    pub max_users: Option<i32>,
    /// Daily API call quota (default 10000).
    #[schema(minimum = 1, maximum = 2147483647)]
    #[serde(default, deserialize_with = "whole")]
    pub max_api_calls_per_day: Option<i32>,
    /// Free-form attributes (a JSON object, default `{}`).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Body of `PATCH /api/v1/tenants/{id}`: every field optional, at least one required.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// New display name.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00]*[^\x00\t\n\x0c\r ][^\x00]*$",
        nullable = false
    )]
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// New plan.
    #[schema(value_type = SubscriptionTier)]
    #[serde(default, deserialize_with = "present")]
    pub subscription_tier: Option<String>,
    /// New state.
    #[schema(value_type = TenantStatus)]
    #[serde(default, deserialize_with = "present")]
    pub status: Option<String>,
    /// New user limit.
    #[schema(minimum = 1, maximum = 2147483647, nullable = false)]
    #[serde(default, deserialize_with = "present_whole")]
    pub max_users: Option<i32>,
    /// New daily quota.
    #[schema(minimum = 1, maximum = 2147483647, nullable = false)]
    #[serde(default, deserialize_with = "present_whole")]
    pub max_api_calls_per_day: Option<i32>,
    /// New attributes (replace the old object).
    #[schema(value_type = Object)]
    #[serde(default, deserialize_with = "present")]
    pub metadata: Option<Value>,
}

/// Lists tenants: every tenant for the owner, the assigned ones for staff.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(TenantFilter, PageQuery),
    responses((status = 200, body = PageOf<TenantResponse>)))]
pub async fn list_tenants(
    caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<TenantFilter>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<TenantResponse>>> {
    let (service, status, page) = (
        state.tenants.clone(),
        filter.into_inner().status,
        page.into_inner(),
    );
    let page = caller
        .run(move |p| {
            let page = page.request()?;
            service.list(p, status.as_deref(), &page)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// Creates a tenant (owner only); audited.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenantRequest,
    responses(
        (status = 201, body = TenantResponse),
        (status = 409, description = "Slug taken", body = crate::error::ErrorBody)
    ))]
pub async fn create_tenant(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CreateTenantRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let input = CreateTenant {
        name: body.name,
        slug: body.slug,
        subscription_tier: body.subscription_tier,
        max_users: body.max_users,
        max_api_calls_per_day: body.max_api_calls_per_day,
        metadata: body.metadata,
    };
    let service = state.tenants.clone();
    let tenant = caller.run(move |p| service.create(p, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tenants/{}", tenant.id)))
        .json(TenantResponse::from(tenant)))
}

/// One tenant (staff: only an assigned one; any other id is 404).
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = TenantResponse)))]
pub async fn get_tenant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<TenantResponse>> {
    let (service, id) = (state.tenants.clone(), TenantId(id.into_inner()));
    let tenant = caller.run(move |p| service.get(p, id)).await?;
    Ok(web::Json(tenant.into()))
}

/// Changes a tenant (owner only); any subset of the fields, including `status`; audited.
#[utoipa::path(patch, path = "/api/v1/tenants/{id}", tag = "tenants", request_body = UpdateTenantRequest,
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, body = TenantResponse),
        (status = 409, description = "The platform tenant cannot be suspended or cancelled", body = crate::error::ErrorBody)
    ))]
pub async fn update_tenant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTenantRequest>,
) -> ApiResult<web::Json<TenantResponse>> {
    let body = body.into_inner();
    let input = UpdateTenant {
        name: body.name,
        subscription_tier: body.subscription_tier,
        status: body.status,
        max_users: body.max_users,
        max_api_calls_per_day: body.max_api_calls_per_day,
        metadata: body.metadata,
    };
    let (service, id) = (state.tenants.clone(), TenantId(id.into_inner()));
    let tenant = caller.run(move |p| service.update(p, id, input)).await?;
    Ok(web::Json(tenant.into()))
}

/// Cancels a tenant (owner only): status `cancelled`, data kept; 204; audited.
#[utoipa::path(delete, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 409, description = "The platform tenant cannot be cancelled", body = crate::error::ErrorBody)
    ))]
pub async fn delete_tenant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (service, id) = (state.tenants.clone(), TenantId(id.into_inner()));
    caller.run(move |p| service.cancel(p, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
