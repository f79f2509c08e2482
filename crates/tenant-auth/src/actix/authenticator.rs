//! [`Authenticator`]: verifier plus principal check; bearer token and request id.

use std::fmt;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::HttpRequest;

use super::PrincipalCheck;
use crate::{AuthError, Claims, TenantContext, TokenVerifier};

/// Name of the header the `request_id` field is taken from.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

const MAX_REQUEST_ID_LEN: usize = 128;

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
