//! Error pages and the mapping of service errors onto them.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use maud::html;

use super::layout::{page, respond};
use crate::error::ApiError;

/// A page that says what went wrong (never an internal cause).
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let title = status.canonical_reason().unwrap_or("Error");
    respond(
        status,
        page(
            title,
            None,
            None,
            html! {
                div.card {
                    h1 { (status.as_u16()) " · " (title) }
                    p { (message) }
                    p { a href="/console/firm" { "Back to the console" } }
                }
            },
        ),
    )
}

/// A service error on a console page: the API's status, shown as a page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! page_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for PageError {
            fn from(e: $t) -> Self {
                PageError(ApiError::from(e))
            }
        }
    )*};
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

page_error_from!(
    alphapulse_console::ConsoleError,
    alphapulse_domain::ValidationError,
    alphapulse_domain::RepoError,
    alphapulse_admin::LoginError,
    actix_web::error::BlockingError
);

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match &self.0 {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "console page failed");
                "Internal error; the request id is in the server's log.".to_owned()
            }
            ApiError::Unavailable { detail, .. } => detail.clone(),
            other => other.to_string(),
        };
        let mut res = error_page(status, &message);
        self.0.apply_retry_headers(res.headers_mut());
        res
    }
}

impl From<super::session::Refusal> for PageError {
    fn from(r: super::session::Refusal) -> Self {
        use super::session::Refusal as R;
        PageError(match r {
            R::Forbidden(why) => ApiError::Forbidden(why),
            R::Unavailable => ApiError::unavailable("The service is unavailable; retry shortly."),
            other => ApiError::Internal(other.to_string()),
        })
    }
}

/// Result of a console handler.
pub type PageResult = Result<HttpResponse, PageError>;
