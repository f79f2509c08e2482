//! Login: `POST /api/v1/auth/token` (JSON) and its OAuth2 password-grant twin `POST /token`
//! (form: `username` = e-mail, `password`). Both public and rate-limited per client address;
//! the use case (equal work and answers for unknown e-mail and wrong password) is
//! [`alphapulse_admin::Login`].

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the login routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::Public, login_json))
        .add(route!(Access::Public, login_form));
}

/// JSON login body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Login e-mail.
    #[schema(example = "admin@acme-capital.demo")]
    pub email: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// OAuth2 password-grant form.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    /// The e-mail (OAuth2 calls it `username`).
    pub username: String,
    /// Password.
    pub password: String,
    /// `password` when sent (other grants are refused).
    #[schema(value_type = GrantType, nullable = false)]
    pub grant_type: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The only grant type supported.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    /// Resource owner password credentials.
    Password,
}

/// A successful login.
#[derive(Serialize, utoipa::ToSchema)]
#[allow(missing_debug_implementations)] // it holds a live token: never printed
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Exchanges e-mail and password for an access token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown e-mail or wrong password", body = crate::error::ErrorBody),
        (status = 403, description = "Tenant suspended or cancelled", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this account", body = crate::error::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::error::ErrorBody)
    ))]
pub async fn login_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    login(&req, &state, email, password).await
}

/// The same login in OAuth2 password-grant form (`application/x-www-form-urlencoded`).
#[utoipa::path(post, path = "/token", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown e-mail or wrong password", body = crate::error::ErrorBody),
        (status = 403, description = "Tenant suspended or cancelled", body = crate::error::ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this account", body = crate::error::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::error::ErrorBody)
    ))]
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
    state.check_login_address(req)?;
    let token = state.login.login(email, password).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token: token.access_token,
            token_type: "bearer",
            expires_in: token.expires_in,
        }))
}
