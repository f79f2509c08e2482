//! Web console sessions: the access token that login issues, kept in an `HttpOnly`,
//! `SameSite=Strict` cookie scoped to `/console` (`Secure` when the request came over TLS),
//! never in a URL or in script-readable storage. Every page verifies it exactly as the API
//! verifies a bearer token (signature, expiry, then the principal check: a disabled user or
//! a suspended tenant loses the console at once), so the session expires with the token.
//!
//! CSRF: every form carries a token derived from the session (`SHA-256` of a label and the
//! session token; the page's script-free HTML is the only place it appears), checked on every
//! POST (403 without it). The login form, before any session, uses a double-submit cookie.
//!
//! Logout clears the cookie and records the token as ended in [`Logouts`] until it expires.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, SameSite},
    dev::Payload,
    http::{header, StatusCode},
    web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use alphapulse_domain::{Principal, TenantId, UserId};
use moka::sync::Cache;
use sha2::{Digest, Sha256};
use tenant_auth::{AuthError, Permission};

use crate::{
    caller::Operation,
    error::ApiError,
    request_id,
    routing::{Access, ResourceAccess},
    AppState,
};

/// The session cookie.
pub const SESSION_COOKIE: &str = "ap_session";
/// The login form's double-submit cookie.
pub const LOGIN_CSRF_COOKIE: &str = "ap_login_csrf";
/// Where the console lives.
pub const CONSOLE_PATH: &str = "/console";
/// The login page.
pub const LOGIN_PATH: &str = "/console/login";

/// Tokens ended by logout, remembered until they would have expired anyway.
pub struct Logouts(Cache<String, ()>);

impl std::fmt::Debug for Logouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logouts").finish_non_exhaustive()
    }
}

impl Logouts {
    /// A list whose entries live as long as a token (`ttl`).
    pub fn new(ttl: Duration) -> Self {
        Self(
            Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl.max(Duration::from_secs(1)))
                .build(),
        )
    }

    fn key(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    /// Ends `token`'s session.
    pub fn end(&self, token: &str) {
        self.0.insert(Self::key(token), ());
    }

    /// Whether `token`'s session was ended.
    pub fn ended(&self, token: &str) -> bool {
        self.0.contains_key(&Self::key(token))
    }
}

/// The CSRF token of a session (or of the login form's cookie value).
pub fn csrf_of(secret: &str) -> String {
    let digest = Sha256::digest(format!("alphapulse-console-csrf\0{secret}").as_bytes());
    hex::encode(&digest[..16])
}

/// Compares in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether the request came over TLS (directly or as a proxy says).
pub fn over_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A console cookie with the console's attributes.
pub fn cookie<'a>(
    req: &HttpRequest,
    name: &'a str,
    value: String,
    path: &'a str,
    max_age: Duration,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls(req))
        .max_age(CookieDuration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal<'a>(req: &HttpRequest, name: &'a str, path: &'a str) -> Cookie<'a> {
    let mut c = cookie(req, name, String::new(), path, Duration::ZERO);
    c.make_removal();
    c
}

/// Why a console page cannot be shown to this request.
#[derive(Debug)]
pub enum Refusal {
    /// No (valid) session: to the login page, coming back to `next` afterwards.
    Login {
        /// The page asked for.
        next: String,
        /// The session expired (rather than never existed).
        expired: bool,
    },
    /// The role may not see the page, or a form came without its CSRF token.
    Forbidden(String),
    /// The database or the identity check is unavailable.
    Unavailable,
    /// A route declared without console access (a bug).
    Internal(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Login { .. } => write!(f, "login required"),
            Refusal::Forbidden(why) => write!(f, "forbidden: {why}"),
            Refusal::Unavailable => write!(f, "unavailable"),
            Refusal::Internal(why) => write!(f, "internal: {why}"),
        }
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::Login { .. } => StatusCode::SEE_OTHER,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Refusal::Login { next, expired } => {
                let mut location = format!("{LOGIN_PATH}?next={}", urlencode(next));
                if *expired {
                    location.push_str("&expired=1");
                }
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish()
            }
            Refusal::Forbidden(why) => super::pages::error_page(StatusCode::FORBIDDEN, why),
            Refusal::Unavailable => super::pages::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is unavailable; retry shortly.",
            ),
            Refusal::Internal(why) => {
                tracing::error!(cause = %why, "console route misdeclared");
                super::pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
            }
        }
    }
}

/// Percent-encodes a query value.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A signed-in console user on a page whose permission they hold.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    principal: Principal,
    csrf: String,
    token: String,
    email: Option<String>,
    expires_at: i64,
}

impl ConsoleSession {
    /// The caller as the services see it.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The CSRF token every form of this session carries.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The session's token (to end it at logout).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The user's e-mail, when the token carries it.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// When the session ends (unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Refuses a form whose CSRF token is missing or wrong.
    ///
    /// # Errors
    /// [`Refusal::Forbidden`].
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Refusal> {
        match sent {
            Some(sent) if same(sent, &self.csrf) => Ok(()),
            _ => {
                tracing::warn!("console form without a valid CSRF token refused");
                Err(Refusal::Forbidden(
                    "The form's security token is missing or stale: reload the page and try again."
                        .to_owned(),
                ))
            }
        }
    }

    /// Runs a blocking service call on the blocking pool in the request's span.
    ///
    /// # Errors
    /// The service's error as an [`ApiError`].
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Principal) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        ApiError: From<E>,
    {
        let principal = self.principal.clone();
        let span = tracing::Span::current();
        web::block(move || span.in_scope(|| f(&principal)))
            .await?
            .map_err(ApiError::from)
    }
}

fn next_of(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map_or_else(|| CONSOLE_PATH.to_owned(), |p| p.as_str().to_owned())
    } else {
        CONSOLE_PATH.to_owned()
    }
}

async fn extract(req: HttpRequest) -> Result<ConsoleSession, Refusal> {
    let permission = match ResourceAccess::of(&req) {
        Some((Access::Console(permission), name)) => (permission, name),
        other => {
            return Err(Refusal::Internal(format!(
                "{} {} is not a console route: {other:?}",
                req.method(),
                req.path()
            )))
        }
    };
    let (permission, name) = permission;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Refusal::Internal("no state".to_owned()))?;
    let login = || Refusal::Login {
        next: next_of(&req),
        expired: false,
    };
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(login)?;
    if state.console_logouts.ended(&token) {
        return Err(login());
    }
    let claims = match state.authenticator.authenticate(&token).await {
        Ok(claims) => claims,
        Err(AuthError::Expired) => {
            return Err(Refusal::Login {
                next: next_of(&req),
                expired: true,
            })
        }
        Err(AuthError::Unavailable(_)) => return Err(Refusal::Unavailable),
        Err(_) => return Err(login()),
    };
    let (tenant_id, user_id) = (TenantId(claims.tenant_id), UserId(claims.sub));
    let span = tracing::Span::current();
    span.record("tenant_id", tracing::field::display(tenant_id));
    span.record("user_id", tracing::field::display(user_id));
    tracing::info!("[Tenant: {tenant_id}] [User: {user_id}] {name} started");
    req.extensions_mut().insert(Operation {
        name,
        tenant_id,
        user_id,
    });
    if let Some(permission) = permission {
        if !claims.role.allows(permission) {
            return Err(Refusal::Forbidden(forbidden_text(permission)));
        }
    }
    Ok(ConsoleSession {
        csrf: csrf_of(&token),
        principal: Principal {
            tenant_id,
            user_id,
            role: claims.role,
            // Audit rows record the server's id; a client's own id is kept beside it.
            request_id: Some(request_id::server()),
            client_request_id: request_id::client(),
        },
        email: claims.email.clone(),
        expires_at: claims.exp,
        token,
    })
}

fn forbidden_text(permission: Permission) -> String {
    match permission {
        Permission::ManageSettings => {
            "Your role may read this tenant's console but not change it.".to_owned()
        }
        other => format!("Your role lacks the permission {other}."),
    }
}

impl FromRequest for ConsoleSession {
    type Error = Refusal;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refusal>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(extract(req.clone()))
    }
}

/// Parses a urlencoded form body (lenient: unknown fields ignored, bad ones reported by the
/// page next to the field).
pub fn form(body: &web::Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The first value of `name` in a parsed form or query.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The request's query as pairs.
pub fn query(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// Shared so [`crate::state::AppState`] can hold it.
pub type SharedLogouts = Arc<Logouts>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_per_session_and_compared_exactly() {
        let (a, b) = (csrf_of("token-a"), csrf_of("token-b"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(same(&a, &csrf_of("token-a")));
        assert!(!same(&a, &b) && !same(&a, "") && !same(&a, &a[..31]));
        assert_eq!(
            urlencode("/console/audit?x=1&y"),
            "/console/audit%3Fx%3D1%26y"
        );
    }

    #[test]
    fn logouts_end_sessions() {
        let l = Logouts::new(Duration::from_secs(60));
        assert!(!l.ended("t"));
        l.end("t");
        assert!(l.ended("t") && !l.ended("u"));
    }
}
