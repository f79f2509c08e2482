//! Users of a tenant: `/api/v1/users`. A tenant `admin` manages their own tenant's users; the
//! platform `owner` may act on any tenant with `?tenant_id=`. The rules live in
//! [`alphapulse_admin::UserAdmin`].

use actix_web::{web, HttpResponse};
use alphapulse_admin::{CreateUser, UpdateUser};
use alphapulse_domain::{TenantId, User, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenant_auth::Permission;
use uuid::Uuid;

use crate::{
    caller::Caller,
    error::ApiResult,
    extract::present,
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the user routes.
pub fn declare(routes: &mut Routes) {
    let (read, manage) = (
        Access::Requires(Permission::ReadUsers),
        Access::Requires(Permission::ManageUsers),
    );
    routes
        .add(route!(read, list_users))
        .add(route!(manage, create_user))
        .add(route!(manage, update_user));
}

/// A role name.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum RoleName {
    /// Platform owner (platform tenant only).
    Owner,
    /// Platform staff (platform tenant only).
    Staff,
    /// Tenant administrator.
    Admin,
    /// Tenant trader.
    Trader,
    /// Tenant viewer.
    Viewer,
}

/// A user as the API shows it (no password hash, no tenant id).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    /// Identifier.
    pub id: Uuid,
    /// Login e-mail (normalised to lower case).
    pub email: String,
    /// The role.
    #[schema(value_type = RoleName)]
    pub role: String,
    /// Inactive users cannot log in or use their tokens.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email.to_string(),
            role: u.role.to_string(),
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// The tenant a user call acts on.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Owner only: the tenant to act on (default: the caller's tenant; anyone else naming
    /// another tenant gets 404).
    pub tenant_id: Option<Uuid>,
}

/// Body of `POST /api/v1/users`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login e-mail, unique across the platform.
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// `admin`, `trader` or `viewer` (`owner`/`staff`: platform tenant, owner only).
    #[schema(value_type = RoleName)]
    pub role: String,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Body of `PATCH /api/v1/users/{id}`: at least one field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New role.
    #[schema(value_type = RoleName)]
    #[serde(default, deserialize_with = "present")]
    pub role: Option<String>,
    /// Activate or deactivate.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

/// Lists the users of the caller's tenant (owner: of `tenant_id`).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(TenantQuery, PageQuery),
    responses(
        (status = 200, body = PageOf<UserResponse>),
        (status = 404, description = "Unknown tenant (or not the caller's)", body = crate::error::ErrorBody)
    ))]
pub async fn list_users(
    caller: Caller,
    state: web::Data<AppState>,
    tenant: web::Query<TenantQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<UserResponse>>> {
    let (service, tenant, page) = (
        state.users.clone(),
        tenant.into_inner().tenant_id.map(TenantId),
        page.into_inner(),
    );
    let page = caller
        .run(move |p| service.list(p, tenant, &page.request()?))
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// Creates a user (201); audited.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", params(TenantQuery),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserResponse),
        (status = 403, description = "Not allowed, a platform role, or the tenant's user limit is reached", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown tenant (or not the caller's)", body = crate::error::ErrorBody),
        (status = 409, description = "E-mail taken", body = crate::error::ErrorBody)
    ))]
pub async fn create_user(
    caller: Caller,
    state: web::Data<AppState>,
    tenant: web::Query<TenantQuery>,
    body: web::Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let input = CreateUser {
        email: body.email,
        password: body.password,
        role: body.role,
    };
    let (service, tenant) = (
        state.users.clone(),
        tenant.into_inner().tenant_id.map(TenantId),
    );
    let user = caller
        .run(move |p| service.create(p, tenant, input))
        .await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

/// Changes a user's `role` and/or `active` flag; another tenant's user is 404; audited.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUserRequest,
    params(("id" = Uuid, Path, description = "User id"), TenantQuery),
    responses(
        (status = 200, body = UserResponse),
        (status = 409, description = "Own role or own deactivation", body = crate::error::ErrorBody)
    ))]
pub async fn update_user(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    tenant: web::Query<TenantQuery>,
    body: web::Json<UpdateUserRequest>,
) -> ApiResult<web::Json<UserResponse>> {
    let body = body.into_inner();
    let input = UpdateUser {
        role: body.role,
        active: body.active,
    };
    let (service, tenant, id) = (
        state.users.clone(),
        tenant.into_inner().tenant_id.map(TenantId),
        UserId(id.into_inner()),
    );
    let user = caller
        .run(move |p| service.update(p, tenant, id, input))
        .await?;
    Ok(web::Json(user.into()))
}
