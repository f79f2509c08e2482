//! Login: `POST /api/v1/auth/token` (JSON) and its OAuth2 password-grant twin `POST /token`
//! (form: `username` = e-mail, `password`). Both public, rate-limited per client address, and
//! answering unknown e-mail and wrong password with the same 401 after the same argon2 work.

use actix_web::{
    http::{header, Method},
    web, HttpRequest, HttpResponse,
};
use alphapulse_domain::{Email, TenantStatus};
use serde::{Deserialize, Serialize};
use tenant_auth::{Role, TenantContext};

use crate::{
    error::{ApiError, ApiResult},
    ops::blocking,
    password::{dummy_hash, verify_password},
    routing::Routes,
    AppState,
};

/// JSON login body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// OAuth2 password-grant form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    /// The e-mail (OAuth2 calls it `username`).
    pub username: String,
    /// Password.
    pub password: String,
    /// `password` when sent (other grants are refused).
    pub grant_type: Option<String>,
}

/// A successful login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
}

const BAD_CREDENTIALS: &str = "invalid email or password";

/// Registers the login routes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::POST, "/api/v1/auth/token", login_json)
        .add(Method::POST, "/token", login_form);
}

/// Exchanges e-mail and password for an access token.
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth", security(),
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown e-mail or wrong password", body = crate::error::ErrorBody),
        (status = 403, description = "Tenant suspended or cancelled", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = crate::error::ErrorBody)
    )
)]
pub async fn login_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    login(&req, &state, email, password).await
}

/// The same login in OAuth2 password-grant form (`application/x-www-form-urlencoded`).
#[utoipa::path(
    post, path = "/token", tag = "auth", security(),
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)
    )
)]
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> ApiResult<HttpResponse> {
    let LoginForm {
        username,
        password,
        grant_type,
    } = form.into_inner();
    if grant_type.as_deref().is_some_and(|g| g != "password") {
        return Err(ApiError::invalid(
            "grant_type",
            "only the `password` grant is supported",
        ));
    }
    login(&req, &state, username, password).await
}

async fn login(
    req: &HttpRequest,
    state: &AppState,
    email: String,
    password: String,
) -> ApiResult<HttpResponse> {
    let client = req
        .peer_addr()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    if let Err(not_until) = state.login_limiter.check_key(&client) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(ApiError::TooManyRequests {
            retry_after: wait.as_secs().max(1),
        });
    }
    let users = state.users.clone();
    let found = match Email::parse(&email) {
        Ok(email) => blocking(move || users.find_credentials(&email)).await?,
        Err(_) => None,
    };
    // Always run one argon2 verification, so timing does not reveal known e-mails.
    let (hash, candidate) = match found {
        Some(creds) => (creds.password_hash.clone(), Some(creds.user)),
        None => (dummy_hash().to_owned(), None),
    };
    let matches = web::block(move || verify_password(&password, &hash)).await?;
    let user = match candidate {
        Some(user) if matches && user.active => user,
        _ => {
            tracing::info!("login refused");
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.to_owned()));
        }
    };
    let tenants = state.tenants.clone();
    let tenant = blocking(move || tenants.get(user.tenant_id)).await?;
    if tenant.status != TenantStatus::Active {
        return Err(ApiError::Forbidden(format!("tenant {}", tenant.status)));
    }
    let role: Role = user.role;
    let token = state.issuer.issue(
        user.id.as_uuid(),
        user.tenant_id.as_uuid(),
        role,
        state.token_ttl,
    )?;
    let ctx = TenantContext {
        tenant_id: user.tenant_id.as_uuid(),
        user_id: user.id.as_uuid(),
        role,
    };
    tracing::info!(
        "[Tenant: {}] [User: {}] login succeeded",
        ctx.tenant_id,
        ctx.user_id
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "bearer",
            expires_in: state.token_ttl.as_secs(),
        }))
}
