//! actix-web integration (feature `actix`).
//!
//! * Register an [`Authenticator`] as app data: `App::new().app_data(web::Data::new(authenticator))`
//!   (a bare `.app_data(authenticator)` is accepted as well).
//! * Take [`TenantContext`] (or [`Claims`], or [`Authorized<P>`]) as a handler
//!   argument. The extractor reads `Authorization: Bearer <token>` (scheme
//!   case-insensitive), verifies it, runs the optional [`PrincipalCheck`], and
//!   on failure responds with a JSON body
//!   `{"detail": "<Kind>: <reason>", "request_id": "<id>"}`:
//!
//! | outcome | status | extra header |
//! |---|---|---|
//! | no bearer token | 401, `detail: "Unauthorized: missing bearer token"` | `WWW-Authenticate: Bearer` |
//! | bad/expired/... token, principal `Unauthorized` | 401 | `WWW-Authenticate: Bearer error="invalid_token"` |
//! | principal `Forbidden`, missing permission | 403, `detail: "Forbidden: <reason>"` | |
//! | principal `Unavailable` | 503, `detail: "Service Unavailable: <reason>"` | `Retry-After: 1` |
//! | no `Authenticator` registered | 500 | |
//!
//! `request_id` is the request's `x-request-id` header (at most 128
//! characters), or the empty string when the header is absent or not valid
//! text. No id is generated.
//!
//! The result of a successful authentication is stored in the request
//! extensions, so several auth extractors in one handler verify only once.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::{AuthError, AuthErrorKind, Claims, Permission, TenantContext, TokenVerifier};

/// Name of the header the `request_id` field is taken from.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

const MAX_REQUEST_ID_LEN: usize = 128;

/// Why the application's [`PrincipalCheck`] rejected a validly signed token.
/// The message is sent to the client in `detail`; keep it short and free of
/// internal details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrincipalRejection {
    /// 401: e.g. the user does not exist (any more) or is disabled.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: e.g. the tenant is suspended, or the user is not in that tenant.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 503 with `Retry-After: 1`: the check could not be made (database down).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<PrincipalRejection> for AuthError {
    fn from(r: PrincipalRejection) -> Self {
        match r {
            PrincipalRejection::Unauthorized(m) => AuthError::Unauthorized(m),
            PrincipalRejection::Forbidden(m) => AuthError::Forbidden(m),
            PrincipalRejection::Unavailable(m) => AuthError::Unavailable(m),
        }
    }
}

/// The future returned by [`PrincipalCheck::check`].
pub type PrincipalCheckFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), PrincipalRejection>> + Send + 'a>>;

/// An application hook run after a token's signature and claims were
/// verified, to check that the principal still exists and is allowed in:
/// the tenant is active, the user exists, is active and belongs to
/// `ctx.tenant_id`, the role has not changed, ...
///
/// Object-safe; implement it on your own type, or wrap an async closure with
/// [`principal_check_fn`].
///
/// # Examples
///
/// ```
/// use tenant_auth::actix::{PrincipalCheck, PrincipalCheckFuture, PrincipalRejection};
/// use tenant_auth::TenantContext;
/// use uuid::Uuid;
///
/// struct SuspendedTenants(Vec<Uuid>);
///
/// impl PrincipalCheck for SuspendedTenants {
///     fn check<'a>(&'a self, ctx: &'a TenantContext) -> PrincipalCheckFuture<'a> {
///         Box::pin(async move {
///             if self.0.contains(&ctx.tenant_id) {
///                 Err(PrincipalRejection::Forbidden("tenant suspended".into()))
///             } else {
///                 Ok(())
///             }
///         })
///     }
/// }
/// ```
pub trait PrincipalCheck: Send + Sync {
    /// Accepts or rejects the verified principal.
    fn check<'a>(&'a self, ctx: &'a TenantContext) -> PrincipalCheckFuture<'a>;
}

/// A [`PrincipalCheck`] made from a closure; see [`principal_check_fn`].
pub struct FnPrincipalCheck<F>(F);

impl<F> fmt::Debug for FnPrincipalCheck<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnPrincipalCheck(..)")
    }
}

/// Wraps `f(ctx) -> impl Future<Output = Result<(), PrincipalRejection>>` as a
/// [`PrincipalCheck`]. The closure gets an owned copy of the context.
///
/// # Examples
///
/// ```
/// use tenant_auth::actix::{principal_check_fn, PrincipalRejection};
/// use tenant_auth::{Role, TenantContext};
///
/// let check = principal_check_fn(|ctx: TenantContext| async move {
///     if ctx.role == Role::Staff {
///         Err(PrincipalRejection::Forbidden("staff access disabled".into()))
///     } else {
///         Ok(())
///     }
/// });
/// # let _ = check;
/// ```
pub fn principal_check_fn<F, Fut>(f: F) -> FnPrincipalCheck<F>
where
    F: Fn(TenantContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), PrincipalRejection>> + Send + 'static,
{
    FnPrincipalCheck(f)
}

impl<F, Fut> PrincipalCheck for FnPrincipalCheck<F>
where
    F: Fn(TenantContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), PrincipalRejection>> + Send + 'static,
{
    fn check<'a>(&'a self, ctx: &'a TenantContext) -> PrincipalCheckFuture<'a> {
        Box::pin((self.0)(ctx.clone()))
    }
}

/// Verifies requests: a shared [`TokenVerifier`] plus an optional
/// [`PrincipalCheck`]. Cheap to clone.
///
/// Register it once per app as `web::Data<Authenticator>`:
///
/// ```no_run
/// use actix_web::{web, App, HttpServer};
/// use tenant_auth::actix::Authenticator;
/// use tenant_auth::{KeySet, TokenVerifier, VerifierConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = KeySet::from_file("/etc/alphapulse/jwt-keys.json")?;
/// let auth = Authenticator::new(TokenVerifier::new(keys, VerifierConfig::new("iss", "aud")));
/// let auth = web::Data::new(auth);
/// HttpServer::new(move || App::new().app_data(auth.clone()))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Authenticator {
    verifier: Arc<TokenVerifier>,
    principal_check: Option<Arc<dyn PrincipalCheck>>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("verifier", &self.verifier)
            .field("principal_check", &self.principal_check.is_some())
            .finish()
    }
}

impl Authenticator {
    /// An authenticator without principal check. Accepts a `TokenVerifier` or
    /// an `Arc<TokenVerifier>`.
    #[must_use]
    pub fn new(verifier: impl Into<Arc<TokenVerifier>>) -> Self {
        Authenticator {
            verifier: verifier.into(),
            principal_check: None,
        }
    }

    /// Adds (replaces) the principal check.
    #[must_use]
    pub fn with_principal_check(self, check: impl PrincipalCheck + 'static) -> Self {
        self.with_principal_check_arc(Arc::new(check))
    }

    /// Adds (replaces) the principal check, already shared.
    #[must_use]
    pub fn with_principal_check_arc(mut self, check: Arc<dyn PrincipalCheck>) -> Self {
        self.principal_check = Some(check);
        self
    }

    /// The verifier.
    #[must_use]
    pub fn verifier(&self) -> &Arc<TokenVerifier> {
        &self.verifier
    }

    /// Verifies `token` (system time) and runs the principal check.
    ///
    /// # Errors
    ///
    /// Any verification error of [`TokenVerifier::verify_at`], or the
    /// principal check's rejection as [`AuthError::Unauthorized`],
    /// [`AuthError::Forbidden`] or [`AuthError::Unavailable`].
    pub async fn authenticate(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.verifier.verify(token)?;
        if let Some(check) = &self.principal_check {
            check.check(&TenantContext::from(&claims)).await?;
        }
        Ok(claims)
    }

    /// Extracts the bearer token from `req` and [`authenticate`](Self::authenticate)s it.
    ///
    /// # Errors
    ///
    /// [`AuthError::MissingToken`] without a bearer token,
    /// [`AuthError::Malformed`] for a non-text `Authorization` header, and the
    /// errors of [`authenticate`](Self::authenticate).
    pub async fn authenticate_request(&self, req: &HttpRequest) -> Result<Claims, AuthError> {
        let token = bearer_token(req)?;
        self.authenticate(&token).await
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme matched
/// case-insensitively).
///
/// # Errors
///
/// [`AuthError::MissingToken`] if the header is absent, uses another scheme
/// or has an empty token; [`AuthError::Malformed`] if it is not visible ASCII.
pub fn bearer_token(req: &HttpRequest) -> Result<String, AuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(AuthError::MissingToken);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    Ok(token.to_owned())
}

/// The request id used in error bodies: the `x-request-id` header, or `""`.
#[must_use]
pub fn request_id(req: &HttpRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().chars().take(MAX_REQUEST_ID_LEN).collect())
        .unwrap_or_default()
}

/// An [`AuthError`] bound to the id of the request it occurred in; the
/// rejection type of the extractors. Implements [`ResponseError`] with the
/// JSON contract described in the [module docs](self).
///
/// To turn your own `ctx.require(..)` failures into this (with the request
/// id), use [`HttpAuthError::from_request`]; plain `AuthError` also
/// implements `ResponseError`, with an empty `request_id`.
#[derive(Debug)]
pub struct HttpAuthError {
    error: AuthError,
    request_id: String,
}

impl HttpAuthError {
    /// Binds `error` to an explicit request id.
    #[must_use]
    pub fn new(error: AuthError, request_id: impl Into<String>) -> Self {
        HttpAuthError {
            error,
            request_id: request_id.into(),
        }
    }

    /// Binds `error` to `req`'s [`request_id`].
    #[must_use]
    pub fn from_request(error: AuthError, req: &HttpRequest) -> Self {
        HttpAuthError::new(error, request_id(req))
    }

    /// The underlying error.
    #[must_use]
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The request id written into the body.
    #[must_use]
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The underlying error, by value.
    #[must_use]
    pub fn into_inner(self) -> AuthError {
        self.error
    }
}

impl From<AuthError> for HttpAuthError {
    fn from(error: AuthError) -> Self {
        HttpAuthError::new(error, "")
    }
}

impl fmt::Display for HttpAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for HttpAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl ResponseError for HttpAuthError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.error)
    }

    fn error_response(&self) -> HttpResponse {
        render(&self.error, &self.request_id)
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        status_of(self)
    }

    fn error_response(&self) -> HttpResponse {
        render(self, "")
    }
}

fn status_of(error: &AuthError) -> StatusCode {
    StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn render(error: &AuthError, request_id: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status_of(error));
    match error.kind() {
        AuthErrorKind::Unauthorized => {
            let challenge = if matches!(error, AuthError::MissingToken) {
                HeaderValue::from_static("Bearer")
            } else {
                HeaderValue::from_static("Bearer error=\"invalid_token\"")
            };
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        AuthErrorKind::Unavailable => {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        _ => {}
    }
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response.json(serde_json::json!({
        "detail": error.detail(),
        "request_id": request_id,
    }))
}

/// What a successful authentication leaves in the request extensions.
#[derive(Clone)]
struct Authenticated {
    ctx: TenantContext,
    claims: Arc<Claims>,
}

fn authenticator(req: &HttpRequest) -> Option<Authenticator> {
    req.app_data::<web::Data<Authenticator>>()
        .map(|data| data.get_ref().clone())
        .or_else(|| req.app_data::<Authenticator>().cloned())
}

async fn authenticate_cached(req: &HttpRequest) -> Result<Authenticated, AuthError> {
    if let Some(done) = req.extensions().get::<Authenticated>().cloned() {
        return Ok(done);
    }
    let auth = authenticator(req).ok_or(AuthError::Misconfigured(
        "no tenant_auth::actix::Authenticator registered as app data",
    ))?;
    let claims = auth.authenticate_request(req).await?;
    let done = Authenticated {
        ctx: TenantContext::from(&claims),
        claims: Arc::new(claims),
    };
    req.extensions_mut().insert(done.clone());
    Ok(done)
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, HttpAuthError>>>>;

/// Authenticates the request; see the [module docs](self).
impl FromRequest for TenantContext {
    type Error = HttpAuthError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate_cached(&req)
                .await
                .map(|done| done.ctx)
                .map_err(|e| HttpAuthError::from_request(e, &req))
        })
    }
}

/// Authenticates the request like [`TenantContext`] and yields the full
/// verified claims (e.g. for `email` or `jti`).
impl FromRequest for Claims {
    type Error = HttpAuthError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate_cached(&req)
                .await
                .map(|done| Claims::clone(&done.claims))
                .map_err(|e| HttpAuthError::from_request(e, &req))
        })
    }
}

/// A permission known at compile time, for [`Authorized<P>`]. Marker types
/// for every [`Permission`] are in [`perm`].
pub trait RequiredPermission {
    /// The permission required.
    const PERMISSION: Permission;
}

/// Marker types for [`Authorized<P>`], one per [`Permission`].
pub mod perm {
    use super::RequiredPermission;
    use crate::Permission;

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Requires [`Permission::", stringify!($name), "`].")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub struct $name;

            impl RequiredPermission for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    markers!(
        ManageTenants,
        ReadTenants,
        ManageUsers,
        ReadUsers,
        Trade,
        ReadTenantData,
        ManageSettings
    );
}

/// Extractor for a [`TenantContext`] whose role has permission `P`; otherwise
/// the request is rejected with 403 `{"detail": "Forbidden: missing permission <name>", ...}`.
/// Dereferences to the [`TenantContext`].
///
/// ```
/// use actix_web::HttpResponse;
/// use tenant_auth::actix::{perm, Authorized};
///
/// async fn place_order(ctx: Authorized<perm::Trade>) -> HttpResponse {
///     HttpResponse::Ok().body(format!("order for tenant {}", ctx.tenant_id))
/// }
/// ```
pub struct Authorized<P> {
    ctx: TenantContext,
    _permission: PhantomData<fn() -> P>,
}

impl<P> Authorized<P> {
    /// The context.
    #[must_use]
    pub fn into_inner(self) -> TenantContext {
        self.ctx
    }
}

impl<P> fmt::Debug for Authorized<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authorized").field(&self.ctx).finish()
    }
}

impl<P> Clone for Authorized<P> {
    fn clone(&self) -> Self {
        Authorized {
            ctx: self.ctx.clone(),
            _permission: PhantomData,
        }
    }
}

impl<P> Deref for Authorized<P> {
    type Target = TenantContext;

    fn deref(&self) -> &TenantContext {
        &self.ctx
    }
}

impl<P: RequiredPermission + 'static> FromRequest for Authorized<P> {
    type Error = HttpAuthError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let result = authenticate_cached(&req).await.and_then(|done| {
                done.ctx.require(P::PERMISSION)?;
                Ok(Authorized {
                    ctx: done.ctx,
                    _permission: PhantomData,
                })
            });
            result.map_err(|e| HttpAuthError::from_request(e, &req))
        })
    }
}
