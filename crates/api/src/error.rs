//! The one place errors become HTTP answers: `{"detail", "request_id", "errors"?}` with the
//! status codes of the API contract. Every service error maps here; a 5xx is logged once
//! here and never carries its cause in the body.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use alphapulse_admin::{AdminError, LoginError};
use alphapulse_console::ConsoleError;
use alphapulse_domain::{ExchangeError, RepoError, ValidationError};
use alphapulse_ensemble::EnsembleError;
use alphapulse_hedging::{idempotency::KeyError, DeskError};
use alphapulse_operations::OpsError;
use alphapulse_regime::service::RegimeServiceError;
use alphapulse_risk::service::ServiceError as RiskServiceError;
use serde::Serialize;

use crate::request_id;

/// One invalid field of a 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field (`snake_case`, as sent).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A human-readable message.
    pub detail: String,
    /// The request's `x-request-id`, to quote when reporting a problem.
    pub request_id: String,
    /// Field errors (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed JSON or form.
    #[error("{0}")]
    BadRequest(String),
    /// 413: a body over the size limit.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// 415: a body of another media type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid.
    #[error("Validation failed")]
    Validation(Vec<FieldError>),
    /// 401: a credential was presented and refused (`WWW-Authenticate: Bearer
    /// error="invalid_token"`).
    #[error("Unauthorized: {0}")]
    Unauthorized(String),
    /// 401: no credential at all (a bare `WWW-Authenticate: Bearer`, as RFC 6750 section 3.1
    /// asks: no error code when the request carried no authentication).
    #[error("Unauthorized: {0}")]
    NoCredentials(String),
    /// 403.
    #[error("Forbidden: {0}")]
    Forbidden(String),
    /// 404 (also for another tenant's resource).
    #[error("{0} not found")]
    NotFound(String),
    /// 405 with the methods the path has.
    #[error("Method not allowed")]
    MethodNotAllowed {
        /// The `Allow` header.
        allow: String,
    },
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 429 with `Retry-After` (and the quota headers when the daily quota refused it).
    #[error("{detail}")]
    TooManyRequests {
        /// Why.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
        /// The daily quota, when it is what refused the request.
        quota: Option<QuotaHeaders>,
    },
    /// 503 with `Retry-After`: database or exchange unavailable.
    #[error("{detail}")]
    Unavailable {
        /// The message.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 500: a bug. The cause is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds until the quota starts again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaHeaders {
    /// The daily quota.
    pub limit: u64,
    /// Calls left today.
    pub remaining: u64,
    /// Seconds until the UTC day turns.
    pub reset_secs: u64,
}

impl QuotaHeaders {
    /// Sets the three headers on `headers`.
    pub fn apply(&self, headers: &mut actix_web::http::header::HeaderMap) {
        use actix_web::http::header::{HeaderName, HeaderValue};
        for (name, value) in [
            ("x-ratelimit-limit", self.limit),
            ("x-ratelimit-remaining", self.remaining),
            ("x-ratelimit-reset", self.reset_secs),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// The 405 answer of a known path asked with a method it does not have.
pub fn method_not_allowed(allow: &str) -> ApiError {
    ApiError::MethodNotAllowed {
        allow: allow.to_owned(),
    }
}

impl ApiError {
    /// A 422 for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// The 503 of an exchange failure while fetching `what` (the seeds' wording); the cause
    /// is logged with the request's tenant and user, never returned.
    pub fn exchange(what: &'static str) -> impl Fn(ExchangeError) -> ApiError {
        move |err| {
            tracing::warn!(cause = %err, "exchange call failed");
            match err {
                ExchangeError::RateLimited { retry_after_secs } => ApiError::Unavailable {
                    detail: format!(
                        "Failed to fetch {what}: exchange rate limit, retry in {retry_after_secs} s"
                    ),
                    retry_after: retry_after_secs.max(1),
                },
                _ => ApiError::unavailable(format!("Failed to fetch {what}")),
            }
        }
    }
}

impl ApiError {
    /// A 503 worth retrying in a second.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError::Unavailable {
            detail: detail.into(),
            retry_after: 1,
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::invalid(err.field, err.message)
    }
}

impl From<Vec<ValidationError>> for ApiError {
    fn from(errors: Vec<ValidationError>) -> Self {
        ApiError::Validation(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field.to_owned(),
                    message: e.message,
                })
                .collect(),
        )
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::NotFound(what) => ApiError::NotFound(capitalise(what)),
            RepoError::Conflict(what) => ApiError::Conflict(capitalise(&what)),
            RepoError::LimitReached(what) => ApiError::Forbidden(what),
            RepoError::Invalid(v) => v.into(),
            RepoError::Unavailable(why) => {
                tracing::warn!(cause = %why, "database unavailable");
                ApiError::unavailable("Database unavailable, retry shortly")
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Invalid(errors) => errors.into(),
            AdminError::Forbidden(why) => ApiError::Forbidden(why),
            AdminError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            AdminError::Conflict(why) => ApiError::Conflict(why),
            AdminError::Repo(repo) => repo.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::BadCredentials => ApiError::Unauthorized(err.to_string()),
            LoginError::TenantInactive(status) => ApiError::Forbidden(format!("tenant {status}")),
            LoginError::Repo(repo) => repo.into(),
            LoginError::Throttled { retry_after_secs } => ApiError::TooManyRequests {
                detail: "Too many login attempts for this account".to_owned(),
                retry_after: retry_after_secs,
                quota: None,
            },
            LoginError::Busy => ApiError::unavailable("Login is busy, retry shortly"),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Repo(repo) => repo.into(),
            conflict => ApiError::Conflict(conflict.to_string()),
        }
    }
}

impl From<DeskError> for ApiError {
    fn from(err: DeskError) -> Self {
        match err {
            DeskError::Positions(cause) => ApiError::exchange("positions for hedging")(cause),
            DeskError::Invalid(v) => v.into(),
            DeskError::Key(key) => key.into(),
            DeskError::Repo(repo) => repo.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<EnsembleError> for ApiError {
    fn from(err: EnsembleError) -> Self {
        match err {
            EnsembleError::Repo(repo) => repo.into(),
            EnsembleError::Invalid(issues) => ApiError::Validation(
                issues
                    .into_iter()
                    .map(|i| FieldError {
                        field: i.field,
                        message: i.message,
                    })
                    .collect(),
            ),
            EnsembleError::Conflict(message) => ApiError::Conflict(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ConsoleError> for ApiError {
    fn from(err: ConsoleError) -> Self {
        match err {
            ConsoleError::Repo(repo) => repo.into(),
            ConsoleError::Ensemble(e) => e.into(),
            ConsoleError::Invalid(errors) => errors.into(),
            ConsoleError::Forbidden(why) => ApiError::Forbidden(why),
            ConsoleError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            ConsoleError::Conflict(why) => ApiError::Conflict(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RegimeServiceError> for ApiError {
    fn from(err: RegimeServiceError) -> Self {
        match err {
            RegimeServiceError::Repo(repo) => repo.into(),
            RegimeServiceError::NoData => {
                tracing::warn!("no market data for the regime universe");
                ApiError::unavailable("Failed to fetch market data for regime detection")
            }
            other => {
                tracing::warn!(cause = %other, "regime model failed");
                ApiError::unavailable("Failed to fetch market regime")
            }
        }
    }
}

impl From<RiskServiceError> for ApiError {
    fn from(err: RiskServiceError) -> Self {
        use RiskServiceError as E;
        match err {
            E::Repo(repo) => repo.into(),
            E::Exchange(cause) => ApiError::exchange("the portfolio")(cause),
            E::UnknownSymbol(symbol) => ApiError::NotFound(format!("Symbol {symbol:?}")),
            E::TooFewObservations {
                subject,
                field,
                have,
                need,
            } => ApiError::invalid(
                field,
                format!("{subject} has {have} daily returns; at least {need} are needed"),
            ),
            E::Invalid(errors) => errors.into(),
            e @ (E::UnknownRegime(_) | E::NoBudget) => ApiError::NotFound(e.to_string()),
            e @ (E::KeyInProgress | E::KeyMismatch) => ApiError::Conflict(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<OpsError> for ApiError {
    fn from(err: OpsError) -> Self {
        match err {
            OpsError::Repo(repo) => repo.into(),
            OpsError::Invalid(v) => v.into(),
            OpsError::NotFound(what) => ApiError::NotFound(what),
            OpsError::Forbidden(why) => ApiError::Forbidden(why),
            OpsError::Exchange(cause) => ApiError::exchange("exchange account data")(cause),
            OpsError::Unavailable(why) => ApiError::unavailable(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task failed: {err}"))
    }
}

impl From<tenant_auth::AuthError> for ApiError {
    fn from(err: tenant_auth::AuthError) -> Self {
        if err.is_forbidden() {
            ApiError::Forbidden(err.public_reason().to_string())
        } else if matches!(err, tenant_auth::AuthError::MissingToken) {
            ApiError::NoCredentials(err.public_reason().to_string())
        } else if err.is_unauthorized() {
            ApiError::Unauthorized(err.public_reason().to_string())
        } else {
            ApiError::Internal(err.to_string())
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) | ApiError::NoCredentials(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_id::current();
        let (detail, errors) = match self {
            ApiError::Internal(cause) => {
                tracing::error!(%request_id, %cause, "internal error");
                (
                    format!("Internal server error (request {request_id})"),
                    Vec::new(),
                )
            }
            ApiError::Validation(errors) => {
                let summary: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                (
                    format!("Validation failed: {}", summary.join("; ")),
                    errors.clone(),
                )
            }
            other => (other.to_string(), Vec::new()),
        };
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized(_) => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            ApiError::NoCredentials(_) => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow } => {
                builder.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        let mut res = builder.json(ErrorBody {
            detail,
            request_id,
            errors,
        });
        self.apply_retry_headers(res.headers_mut());
        res
    }
}

impl ApiError {
    /// `Retry-After` of a 429 or 503, and the quota headers of a 429 over the daily quota:
    /// what a client needs to retry, on the JSON answer and on the console's error page alike.
    pub fn apply_retry_headers(&self, headers: &mut header::HeaderMap) {
        let retry_after = match self {
            ApiError::TooManyRequests {
                retry_after, quota, ..
            } => {
                if let Some(quota) = quota {
                    quota.apply(headers);
                }
                *retry_after
            }
            ApiError::Unavailable { retry_after, .. } => *retry_after,
            _ => return,
        };
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
