//! [`Caller`]: the authenticated, authorised caller of a route.
//!
//! Taking a `Caller` is what makes a handler non-public. Extracting it
//! 1. verifies the bearer token and the principal (tenant-auth's extractor: 401/403/503),
//! 2. enforces the permission the route was declared with (403) — the handler cannot forget
//!    it, and a route registered without a declaration fails closed,
//! 3. records the tenant and user on the request span and logs
//!    `[Tenant: <id>] [User: <id>] <operation> started`; the [`crate::oplog`] middleware logs
//!    the outcome.
//!
//! Service calls are blocking (diesel, argon2): [`Caller::run`] runs them on the blocking
//! pool in the request's span and maps the service's error in one place.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use alphapulse_domain::{ports::Actor, Principal, TenantId, UserId};
use tenant_auth::TenantContext;

use crate::{
    error::{ApiError, ApiResult},
    request_id,
    routing::{Access, ResourceAccess},
};

/// The operation a request runs, kept in the request's extensions for the outcome log.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The operation's name (`get spot positions`).
    pub name: Arc<str>,
    /// The caller's tenant.
    pub tenant_id: TenantId,
    /// The caller.
    pub user_id: UserId,
}

/// The authenticated caller of a route whose permission it holds.
#[derive(Debug, Clone)]
pub struct Caller {
    principal: Principal,
}

impl Caller {
    /// The caller as the services see it.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The actor of the caller's tenant.
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }

    /// Runs the blocking service call `f` on the blocking pool (never on the async workers),
    /// in the request's span, and maps its error.
    ///
    /// # Errors
    /// The service's error as an [`ApiError`], or a 500 if the blocking task failed.
    pub async fn run<T, E, F>(&self, f: F) -> ApiResult<T>
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

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = TenantContext::extract(&req).await?;
            let Some((access, name)) = ResourceAccess::of(&req) else {
                // A handler taking a Caller on a route not declared through `route!`.
                return Err(ApiError::Internal(format!(
                    "route {} {} has no access declaration",
                    req.method(),
                    req.path()
                ))
                .into());
            };
            let span = tracing::Span::current();
            span.record("tenant_id", tracing::field::display(ctx.tenant_id));
            span.record("user_id", tracing::field::display(ctx.user_id));
            tracing::info!(
                "[Tenant: {}] [User: {}] {name} started",
                ctx.tenant_id,
                ctx.user_id
            );
            let (tenant_id, user_id) = (TenantId(ctx.tenant_id), UserId(ctx.user_id));
            req.extensions_mut().insert(Operation {
                name,
                tenant_id,
                user_id,
            });
            match access {
                Access::Requires(permission) => ctx.require(permission).map_err(ApiError::from)?,
                Access::Public => {}
            }
            Ok(Caller {
                principal: Principal {
                    tenant_id,
                    user_id,
                    role: ctx.role,
                    request_id: Some(request_id::current()),
                },
            })
        })
    }
}
