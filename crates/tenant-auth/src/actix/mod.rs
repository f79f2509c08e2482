//! actix-web integration (feature `actix`).
//!
//! * Register an [`Authenticator`] as app data: `App::new().app_data(web::Data::new(authenticator))`
//!   (a bare `.app_data(authenticator)` is accepted as well).
//! * Take [`TenantContext`](crate::TenantContext) (or [`Claims`](crate::Claims), or [`Authorized<P>`]) as a handler
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
//!
//! The module is laid out as: `principal` (the application's
//! [`PrincipalCheck`]), `authenticator` ([`Authenticator`], bearer token and
//! request id), `response` ([`HttpAuthError`] and the JSON error contract),
//! `extract` (the extractors, [`Authorized<P>`]) and [`perm`].

mod authenticator;
mod extract;
pub mod perm;
mod principal;
mod response;

pub use self::authenticator::{bearer_token, request_id, Authenticator, REQUEST_ID_HEADER};
pub use self::extract::{Authorized, RequiredPermission};
pub use self::principal::{
    principal_check_fn, FnPrincipalCheck, PrincipalCheck, PrincipalCheckFuture, PrincipalRejection,
};
pub use self::response::HttpAuthError;
