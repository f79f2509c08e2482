//! The application's principal check, run after a token verified.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::{AuthError, TenantContext};

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
