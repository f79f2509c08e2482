//! The extractors: [`TenantContext`], [`Claims`] and [`Authorized<P>`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::{Authenticator, HttpAuthError};
use crate::{AuthError, Claims, Permission, TenantContext};

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

/// Authenticates the request; see the [module docs](crate::actix).
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
/// for every [`Permission`] are in [`perm`](super::perm).
pub trait RequiredPermission {
    /// The permission required.
    const PERMISSION: Permission;
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
