//! [`HttpAuthError`] and the JSON error responses.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::request_id;
use crate::{AuthError, AuthErrorKind};

/// An [`AuthError`] bound to the id of the request it occurred in; the
/// rejection type of the extractors. Implements [`ResponseError`] with the
/// JSON contract described in the [module docs](crate::actix).
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
