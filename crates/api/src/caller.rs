//! Who calls a route, decided before anything else about the request.
//!
//! [`authorize`] wraps every resource: for a route declared with
//! [`Access::Requires`](crate::routing::Access), it
//! 1. verifies the bearer token and the principal (tenant-auth's extractor: 401/403/503),
//! 2. enforces the route's permission (403),
//! 3. records the tenant and user on the request span and logs
//!    `[Tenant: <id>] [User: <id>] <operation> started` (the [`crate::oplog`] middleware logs
//!    the outcome),
//!
//! all before the handler's other extractors run, so a caller without the right gets 401 or
//! 403 whatever the body or query says. The handler then takes a [`Caller`], which only
//! reads what was decided; a handler taking it on a route without a declaration fails closed.
//!
//! Service calls are blocking (diesel, argon2): [`Caller::run`] runs them on the blocking
//! pool in the request's span and maps the service's error in one place.

use std::{
    future::{ready, Ready},
    sync::Arc,
};

use actix_web::{
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    middleware::Next,
    web, FromRequest, HttpMessage, HttpRequest,
};
use alphapulse_domain::{ports::Actor, Principal, TenantId, UserId};
use tenant_auth::TenantContext;

use alphapulse_admin::{Admission, QuotaState};

use crate::{
    error::{ApiError, ApiResult, QuotaHeaders},
    request_id,
    routing::{Access, ResourceAccess},
    AppState,
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

/// The resource middleware: authenticate and authorise a declared route before extraction.
///
/// # Errors
/// Only the inner service's; refusals are answered as error responses.
pub async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some((Access::Requires(permission), name)) = ResourceAccess::of(req.request()) else {
        // Public routes, and methods the path does not have (its 405 answers).
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let ctx = match TenantContext::extract(req.request()).await {
        Ok(ctx) => ctx,
        Err(err) => {
            crate::metrics::auth_failed(crate::metrics::auth_failure_reason(err.error()));
            return Ok(req.error_response(err).map_into_right_body());
        }
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
    let quota = match admit(&req, tenant_id).await {
        Ok(quota) => quota,
        Err(refused) => return Ok(req.error_response(refused).map_into_right_body()),
    };
    if let Err(refused) = ctx.require(permission) {
        return Ok(req
            .error_response(ApiError::from(refused))
            .map_into_right_body());
    }
    req.extensions_mut().insert(Caller {
        principal: Principal {
            tenant_id,
            user_id,
            role: ctx.role,
            request_id: Some(request_id::server()),
            client_request_id: request_id::client(),
        },
    });
    let object_route = req.match_info().iter().next().is_some();
    let mut res = next.call(req).await?;
    if let Some(quota) = quota {
        quota.apply(res.headers_mut());
    }
    if object_route && res.status() == actix_web::http::StatusCode::NOT_FOUND {
        if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
            crate::metrics::cross_tenant_attempt(state.tenant_labels.label(tenant_id));
        }
    }
    Ok(res.map_into_left_body())
}

/// Counts the request against the tenant's daily quota and burst limit (every authenticated
/// request counts, allowed or not by its permission); the quota headers, or a 429.
async fn admit(req: &ServiceRequest, tenant: TenantId) -> Result<Option<QuotaHeaders>, ApiError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Ok(None);
    };
    if !state.enforce_quotas {
        return Ok(None);
    }
    let (quotas, labels) = (state.quotas.clone(), state.tenant_labels.clone());
    let admission = match quotas.admit(tenant) {
        Some(admission) => admission,
        None => {
            let loader = quotas.clone();
            web::block(move || loader.load(tenant)).await??;
            quotas
                .admit(tenant)
                .ok_or_else(|| ApiError::Internal("quota limits vanished after loading".into()))?
        }
    };
    let headers = |s: QuotaState| QuotaHeaders {
        limit: s.limit,
        remaining: s.remaining,
        reset_secs: s.reset_secs,
    };
    match admission {
        Admission::Allowed(state) => Ok(Some(headers(state))),
        Admission::OverQuota(state) => {
            tracing::info!(%tenant, limit = state.limit, "daily quota used up");
            crate::metrics::quota_rejected(labels.label(tenant), "daily");
            Err(ApiError::TooManyRequests {
                detail: format!(
                    "Daily API quota of {} calls used up; it starts again at 00:00 UTC",
                    state.limit
                ),
                retry_after: state.reset_secs,
                quota: Some(headers(state)),
            })
        }
        Admission::Burst { retry_after_secs } => {
            tracing::info!(%tenant, "burst limit reached");
            crate::metrics::quota_rejected(labels.label(tenant), "burst");
            Err(ApiError::TooManyRequests {
                detail: "Too many requests at once for this tenant's plan; slow down".to_owned(),
                retry_after: retry_after_secs,
                quota: None,
            })
        }
    }
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
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Caller>().cloned().ok_or_else(|| {
            // A handler taking a Caller on a route not declared through `route!`.
            ApiError::Internal(format!(
                "route {} {} has no access declaration",
                req.method(),
                req.path()
            ))
        }))
    }
}
