//! Users of a tenant: `/api/v1/users`.
//!
//! A tenant `admin` manages the users of their own tenant; the platform `owner` may act on any
//! tenant by passing `?tenant_id=`. Everyone else gets 403. Another tenant's user id reads as
//! 404, never as "exists elsewhere". Roles stay on their side of the platform line: tenants
//! hold `admin`/`trader`/`viewer`, the platform tenant holds `owner`/`staff`, and only the
//! owner may grant a platform role, so a tenant admin can never mint a platform account.
//! Nobody can change their own role or deactivate themselves (no self-lockout of the last
//! admin or owner). Responses never contain the password hash or the tenant id.

use actix_web::{http::Method, web, HttpResponse};
use alphapulse_domain::{
    ports::Actor, tenant::PLATFORM_SLUG, AuditOutcome, Email, NewAuditEntry, NewUser, Page,
    PageRequest, RepoError, Role, Tenant, TenantId, User, UserId, UserPatch, ValidationError,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenant_auth::{Permission, TenantContext};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult, ErrorBody, FieldError},
    ops::{blocking, logged},
    password::{hash_password, MIN_PASSWORD_LEN},
    request_id,
    routing::Routes,
    AppState,
};

/// Longest accepted password (argon2 work is bounded by it).
pub const MAX_PASSWORD_LEN: usize = 1024;

const ROLES: &str = "must be one of: admin, trader, viewer, staff, owner";
const TENANT_ROLES: &str = "must be one of: admin, trader, viewer";
const PLATFORM_ROLES: &str = "platform users must be owner or staff";
const OTHER_TENANT: &str = "only the platform owner may act on another tenant";
const SELF_LOCKOUT: &str = "You cannot change your own role or deactivate yourself";

/// A user as the API shows it (no password hash, no tenant id).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    /// Identifier.
    pub id: Uuid,
    /// Login e-mail (normalised to lower case).
    pub email: String,
    /// `admin`, `trader` or `viewer` (`owner`/`staff` in the platform tenant).
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

/// One page of users.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    /// The users of this page, oldest first.
    pub items: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the user list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Owner only: the tenant to list (default: the caller's tenant).
    pub tenant_id: Option<Uuid>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query of the user writes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Owner only: the tenant to act on (default: the caller's tenant).
    pub tenant_id: Option<Uuid>,
}

/// Body of `POST /api/v1/users`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login e-mail, unique across the platform.
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// `admin`, `trader` or `viewer` (`owner`/`staff`: platform tenant, owner only).
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
    pub role: Option<String>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

/// Registers the user routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/api/v1/users", list_users)
        .add(Method::POST, "/api/v1/users", create_user)
        .add(Method::PATCH, "/api/v1/users/{id}", update_user);
}

/// Collects field errors so one 422 answer lists every invalid field (shared with `tenants`).
#[derive(Debug, Default)]
pub(crate) struct Checks(Vec<FieldError>);

impl Checks {
    /// Records the error of `result`, if any.
    pub(crate) fn check<T>(&mut self, result: &Result<T, ValidationError>) {
        if let Err(e) = result {
            self.fail(e.field, e.message.clone());
        }
    }

    /// Records an error of `field`.
    pub(crate) fn fail(&mut self, field: &str, message: impl Into<String>) {
        let (field, message) = (field.to_owned(), message.into());
        self.0.push(FieldError { field, message });
    }

    /// 422 with every recorded error, if any.
    pub(crate) fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Appends the success audit row of a write, in its own transaction, under the tenant acted on
/// (platform actions on a tenant are recorded under that tenant). Shared with `tenants`.
pub(crate) async fn audit(
    state: &AppState,
    ctx: &TenantContext,
    tenant: TenantId,
    action: &str,
    target: String,
    details: Value,
) -> ApiResult<()> {
    let entry = NewAuditEntry {
        tenant_id: tenant,
        user_id: Some(UserId(ctx.user_id)),
        action: action.to_owned(),
        target,
        outcome: AuditOutcome::Success,
        request_id: Some(request_id::current()),
        details,
    };
    let repo = state.audit.clone();
    let appended = blocking(move || repo.append(entry)).await;
    appended.map(drop).inspect_err(|err| {
        tracing::error!(%action, error = %err, "audit append failed after the change was made");
    })
}

/// The tenant a request acts on: the caller's, or (owner only) the one asked for.
async fn target(state: &AppState, ctx: &TenantContext, asked: Option<Uuid>) -> ApiResult<TenantId> {
    match asked {
        None => Ok(TenantId(ctx.tenant_id)),
        Some(id) if id == ctx.tenant_id => Ok(TenantId(id)),
        Some(id) if ctx.role == Role::Owner => {
            let tenants = state.tenants.clone();
            Ok(blocking(move || tenants.get(TenantId(id))).await?.id)
        }
        Some(_) => Err(ApiError::Forbidden(OTHER_TENANT.to_owned())),
    }
}

fn parse_role(text: &str) -> Result<Role, ValidationError> {
    text.parse::<Role>()
        .map_err(|_| ValidationError::new("role", ROLES))
}

/// Only the owner grants platform roles (403 for anyone else).
fn may_grant(ctx: &TenantContext, role: Role) -> ApiResult<()> {
    if role.is_platform() && ctx.role != Role::Owner {
        return Err(ApiError::Forbidden(format!(
            "only the platform owner may grant the role {role}"
        )));
    }
    Ok(())
}

/// Platform roles live in the platform tenant only, tenant roles everywhere else (422).
fn fits_tenant(role: Role, tenant: &Tenant) -> ApiResult<()> {
    match (tenant.slug.as_str() == PLATFORM_SLUG, role.is_platform()) {
        (true, false) => Err(ApiError::invalid("role", PLATFORM_ROLES)),
        (false, true) => Err(ApiError::invalid("role", TENANT_ROLES)),
        _ => Ok(()),
    }
}

/// Lists the users of the caller's tenant (owner: of `tenant_id`).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", params(ListUsersQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserPage),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn list_users(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<ListUsersQuery>,
) -> ApiResult<web::Json<UserPage>> {
    logged(&ctx, "list users", async {
        ctx.require(Permission::ReadUsers)?;
        let query = query.into_inner();
        let page = PageRequest::new(query.limit, query.cursor)?;
        let tenant = target(&state, &ctx, query.tenant_id).await?;
        let (users, actor) = (
            state.users.clone(),
            Actor::user(tenant, UserId(ctx.user_id)),
        );
        let Page { items, next_cursor } = blocking(move || users.list(&actor, &page)).await?;
        Ok(web::Json(UserPage {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    })
    .await
}

/// Creates a user (201); 409 when the e-mail is taken, 403 at the tenant's `max_users`.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", params(TenantQuery), request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = UserResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "Not allowed, or the tenant's user limit is reached", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "E-mail taken", body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn create_user(
    ctx: TenantContext,
    state: web::Data<AppState>,
    query: web::Query<TenantQuery>,
    body: web::Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    logged(&ctx, "create user", async {
        ctx.require(Permission::ManageUsers)?;
        let body = body.into_inner();
        let (email, role) = (Email::parse(&body.email), parse_role(&body.role));
        let mut checks = Checks::default();
        checks.check(&email);
        if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&body.password.chars().count()) {
            let rule = format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long");
            checks.fail("password", rule);
        }
        checks.check(&role);
        checks.finish()?;
        let (email, role, password) = (email?, role?, body.password);
        may_grant(&ctx, role)?;
        let tenant_id = target(&state, &ctx, query.into_inner().tenant_id).await?;
        let tenants = state.tenants.clone();
        let tenant = blocking(move || tenants.get(tenant_id)).await?;
        fits_tenant(role, &tenant)?;
        let password_hash = blocking(move || {
            hash_password(&password).map_err(|e| RepoError::Internal(format!("hashing: {e}")))
        })
        .await?;
        let new = NewUser {
            tenant_id,
            email,
            password_hash,
            role,
        };
        let (users, actor) = (
            state.users.clone(),
            Actor::user(tenant_id, UserId(ctx.user_id)),
        );
        let user = blocking(move || users.create(&actor, new, tenant.max_users)).await?;
        let (target, details) = (format!("user:{}", user.id), json!({ "role": user.role }));
        audit(&state, &ctx, tenant_id, "user.create", target, details).await?;
        Ok(HttpResponse::Created().json(UserResponse::from(user)))
    })
    .await
}

/// Changes a user's `role` and/or `active` flag; another tenant's user is 404.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUserRequest,
    params(("id" = Uuid, Path, description = "User id"), TenantQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Own role or own deactivation", body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn update_user(
    ctx: TenantContext,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<TenantQuery>,
    body: web::Json<UpdateUserRequest>,
) -> ApiResult<web::Json<UserResponse>> {
    logged(&ctx, "update user", async {
        ctx.require(Permission::ManageUsers)?;
        let UpdateUserRequest { role, active } = body.into_inner();
        let role = role.as_deref().map(parse_role).transpose()?;
        if role.is_none() && active.is_none() {
            return Err(ApiError::invalid("body", "give role and/or active"));
        }
        if let Some(role) = role {
            may_grant(&ctx, role)?;
        }
        let id = UserId(id.into_inner());
        let demotes = role.is_some_and(|r| r != ctx.role) || active == Some(false);
        if id.as_uuid() == ctx.user_id && demotes {
            return Err(ApiError::Conflict(SELF_LOCKOUT.to_owned()));
        }
        let tenant_id = target(&state, &ctx, query.into_inner().tenant_id).await?;
        if let Some(role) = role {
            let tenants = state.tenants.clone();
            fits_tenant(role, &blocking(move || tenants.get(tenant_id)).await?)?;
        }
        let patch = UserPatch {
            role,
            active,
            password_hash: None,
        };
        let (users, actor) = (
            state.users.clone(),
            Actor::user(tenant_id, UserId(ctx.user_id)),
        );
        let user = blocking(move || users.update(&actor, id, patch)).await?;
        // Role and status are part of every principal verdict: forget the cached ones.
        state.principals.invalidate();
        let (target, details) = (
            format!("user:{id}"),
            json!({ "role": role, "active": active }),
        );
        audit(&state, &ctx, tenant_id, "user.update", target, details).await?;
        Ok(web::Json(user.into()))
    })
    .await
}
