//! Platform administration of tenants: `/api/v1/tenants`.
//!
//! Only platform roles get here: the `owner` may do everything, `staff` may read the tenants
//! assigned to them (anything else reads as 404, writes as 403), every tenant role is refused
//! with 403. Tenants are never deleted: `DELETE` cancels the tenant and keeps its data, so a
//! mistake can be undone with a `PATCH` back to `active`. The platform tenant itself cannot be
//! suspended or cancelled, because that would lock the platform's own users out of the API.
//! Every write is audit-logged under the tenant it changed.

use std::str::FromStr;

use actix_web::{
    http::{header, Method},
    web, HttpResponse,
};
use alphapulse_domain::{
    ports::TenantFilter, tenant::PLATFORM_SLUG, NewTenant, Page, PageRequest, Slug, Tenant,
    TenantId, TenantPatch, TenantStatus, UserId, ValidationError,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenant_auth::{Permission, Role, TenantContext};
use uuid::Uuid;

use super::users::{audit, Checks};
use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    ops::{blocking, logged},
    routing::Routes,
    AppState,
};

/// A tenant as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantResponse {
    /// Identifier.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique handle (`a-z`, `0-9`, inner `-`).
    pub slug: String,
    /// `starter`, `pro` or `enterprise`.
    pub subscription_tier: String,
    /// `active`, `suspended` or `cancelled`.
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

/// One page of tenants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantPage {
    /// The tenants of this page, oldest first.
    pub items: Vec<TenantResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the tenant list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTenantsQuery {
    /// Only tenants in this state (`active`, `suspended`, `cancelled`).
    pub status: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /api/v1/tenants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// Display name, 1-255 characters.
    pub name: String,
    /// Unique handle: 3-63 characters of `a-z`, `0-9` and inner `-`.
    pub slug: String,
    /// `starter`, `pro` or `enterprise`.
    pub subscription_tier: String,
    /// Most users (default 5, at least 1).
    pub max_users: Option<i32>,
    /// Daily API call quota (default 10000, at least 1).
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
    pub name: Option<String>,
    /// New plan.
    pub subscription_tier: Option<String>,
    /// New state: `active`, `suspended` or `cancelled`.
    pub status: Option<String>,
    /// New user limit.
    pub max_users: Option<i32>,
    /// New daily quota.
    pub max_api_calls_per_day: Option<i32>,
    /// New attributes (replace the old object).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Registers the tenant routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/api/v1/tenants", list_tenants)
        .add(Method::POST, "/api/v1/tenants", create_tenant)
        .add(Method::GET, "/api/v1/tenants/{id}", get_tenant)
        .add(Method::PATCH, "/api/v1/tenants/{id}", update_tenant)
        .add(Method::DELETE, "/api/v1/tenants/{id}", delete_tenant);
}

const PLATFORM_BLOCKED: &str = "The platform tenant cannot be suspended or cancelled";

/// The rules create and update share (the database enforces them too).
fn common(checks: &mut Checks, name: Option<&str>, limits: [Option<i32>; 2], meta: Option<&Value>) {
    if name.is_some_and(|n| !(1..=255).contains(&n.trim().chars().count())) {
        checks.fail("name", "must be 1 to 255 characters");
    }
    for (field, limit) in ["max_users", "max_api_calls_per_day"]
        .into_iter()
        .zip(limits)
    {
        if limit.is_some_and(|n| n < 1) {
            checks.fail(field, "must be at least 1");
        }
    }
    if meta.is_some_and(|v| !v.is_object()) {
        checks.fail("metadata", "must be a JSON object");
    }
}

/// Parses an optional enum field.
fn parse<T: FromStr<Err = ValidationError>>(
    s: &Option<String>,
) -> Result<Option<T>, ValidationError> {
    s.as_deref().map(str::parse).transpose()
}

/// The tenants a staff user may read (`None`: all, for the owner).
async fn visible(state: &AppState, ctx: &TenantContext) -> ApiResult<Option<Vec<TenantId>>> {
    if ctx.role == Role::Owner {
        return Ok(None);
    }
    let (tenants, staff) = (state.tenants.clone(), UserId(ctx.user_id));
    let assigned = blocking(move || tenants.assigned_tenants(staff)).await?;
    Ok(Some(assigned))
}

/// Lists tenants: every tenant for the owner, the assigned ones for staff.
#[utoipa::path(
    get, path = "/api/v1/tenants", tag = "tenants", params(ListTenantsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TenantPage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn list_tenants(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<ListTenantsQuery>,
) -> ApiResult<web::Json<TenantPage>> {
    logged(&ctx, "list tenants", async {
        ctx.require(Permission::ReadTenants)?;
        let query = query.into_inner();
        let page = PageRequest::new(query.limit, query.cursor)?;
        let filter = TenantFilter {
            status: parse(&query.status)?,
            ids: visible(&state, &ctx).await?,
        };
        let tenants = state.tenants.clone();
        let Page { items, next_cursor } = blocking(move || tenants.list(&filter, &page)).await?;
        Ok(web::Json(TenantPage {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    })
    .await
}

/// Creates a tenant (owner only).
#[utoipa::path(
    post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = TenantResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Slug taken", body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn create_tenant(
    ctx: TenantContext,
    state: web::Data<AppState>,
    body: web::Json<CreateTenantRequest>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "create tenant", async {
        ctx.require(Permission::ManageTenants)?;
        let body = body.into_inner();
        let (slug, tier) = (Slug::parse(&body.slug), body.subscription_tier.parse());
        let limits = [body.max_users, body.max_api_calls_per_day];
        let mut checks = Checks::default();
        common(
            &mut checks,
            Some(&body.name),
            limits,
            body.metadata.as_ref(),
        );
        checks.check(&slug);
        checks.check(&tier);
        checks.finish()?;
        let new = NewTenant {
            name: body.name.trim().to_owned(),
            slug: slug?,
            subscription_tier: tier?,
            max_users: body.max_users,
            max_api_calls_per_day: body.max_api_calls_per_day,
            metadata: body.metadata,
        };
        let tenants = state.tenants.clone();
        let tenant = blocking(move || tenants.create(new)).await?;
        let details = serde_json::json!({
            "slug": tenant.slug.as_str(),
            "subscription_tier": tenant.subscription_tier.as_str(),
        });
        let target = format!("tenant:{}", tenant.id);
        audit(&state, &ctx, tenant.id, "tenant.create", target, details).await?;
        Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/tenants/{}", tenant.id)))
            .json(TenantResponse::from(tenant)))
    })
    .await
}

/// One tenant (staff: only an assigned one; any other id is 404).
#[utoipa::path(
    get, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TenantResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    )
)]
pub async fn get_tenant(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<TenantResponse>> {
    logged(&ctx, "get tenant", async {
        ctx.require(Permission::ReadTenants)?;
        let id = TenantId(id.into_inner());
        if let Some(visible) = visible(&state, &ctx).await? {
            if !visible.contains(&id) {
                return Err(ApiError::NotFound("Tenant".to_owned()));
            }
        }
        let tenants = state.tenants.clone();
        let tenant = blocking(move || tenants.get(id)).await?;
        Ok(web::Json(tenant.into()))
    })
    .await
}

/// Changes a tenant (owner only); any subset of the fields, including `status`.
#[utoipa::path(
    patch, path = "/api/v1/tenants/{id}", tag = "tenants", request_body = UpdateTenantRequest,
    params(("id" = Uuid, Path, description = "Tenant id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TenantResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The platform tenant cannot be suspended or cancelled", body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn update_tenant(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTenantRequest>,
) -> ApiResult<web::Json<TenantResponse>> {
    logged(&ctx, "update tenant", async {
        ctx.require(Permission::ManageTenants)?;
        let body = body.into_inner();
        let (tier, status) = (parse(&body.subscription_tier), parse(&body.status));
        let limits = [body.max_users, body.max_api_calls_per_day];
        let mut checks = Checks::default();
        common(
            &mut checks,
            body.name.as_deref(),
            limits,
            body.metadata.as_ref(),
        );
        checks.check(&tier);
        checks.check(&status);
        checks.finish()?;
        let patch = TenantPatch {
            name: body.name.map(|n| n.trim().to_owned()),
            subscription_tier: tier?,
            status: status?,
            max_users: body.max_users,
            max_api_calls_per_day: body.max_api_calls_per_day,
            metadata: body.metadata,
        };
        if patch == TenantPatch::default() {
            return Err(ApiError::invalid("body", "give at least one field"));
        }
        let id = TenantId(id.into_inner());
        let tenant = apply(&state, &ctx, id, patch, "tenant.update").await?;
        Ok(web::Json(tenant.into()))
    })
    .await
}

/// Cancels a tenant (owner only): status `cancelled`, data kept; 204.
#[utoipa::path(
    delete, path = "/api/v1/tenants/{id}", tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The platform tenant cannot be cancelled", body = ErrorBody)
    )
)]
pub async fn delete_tenant(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "delete tenant", async {
        ctx.require(Permission::ManageTenants)?;
        let patch = TenantPatch {
            status: Some(TenantStatus::Cancelled),
            ..TenantPatch::default()
        };
        let id = TenantId(id.into_inner());
        apply(&state, &ctx, id, patch, "tenant.delete").await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// Applies a validated patch: refuses to block the platform tenant, writes, drops cached
/// principal verdicts after a status change, and audits under the changed tenant.
async fn apply(
    state: &AppState,
    ctx: &TenantContext,
    id: TenantId,
    patch: TenantPatch,
    action: &str,
) -> ApiResult<Tenant> {
    if patch.status.is_some_and(|s| s != TenantStatus::Active) {
        let tenants = state.tenants.clone();
        let current = blocking(move || tenants.get(id)).await?;
        if current.slug.as_str() == PLATFORM_SLUG {
            return Err(ApiError::Conflict(PLATFORM_BLOCKED.to_owned()));
        }
    }
    let changed = changed_fields(&patch);
    let status_change = patch.status.is_some();
    let tenants = state.tenants.clone();
    let tenant = blocking(move || tenants.update(id, patch)).await?;
    if status_change {
        state.principals.invalidate();
    }
    let details = serde_json::json!({ "changed": changed, "status": tenant.status.as_str() });
    let target = format!("tenant:{}", tenant.id);
    audit(state, ctx, tenant.id, action, target, details).await?;
    Ok(tenant)
}

fn changed_fields(p: &TenantPatch) -> Vec<&'static str> {
    [
        ("name", p.name.is_some()),
        ("subscription_tier", p.subscription_tier.is_some()),
        ("status", p.status.is_some()),
        ("max_users", p.max_users.is_some()),
        ("max_api_calls_per_day", p.max_api_calls_per_day.is_some()),
        ("metadata", p.metadata.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect()
}
