//! Running an operation for a tenant: the `[Tenant: ..] [User: ..]` log lines at start and
//! finish/failure, the tenant and user on the request span, and blocking repository work on
//! the blocking pool (never on the async workers) inside the same span.

use std::future::Future;

use alphapulse_domain::{ports::Actor, RepoError, TenantId, UserId};
use tenant_auth::TenantContext;
use tracing::Instrument;

use crate::error::{ApiError, ApiResult};

/// The domain actor of a request context.
pub fn actor(ctx: &TenantContext) -> Actor {
    Actor::user(TenantId(ctx.tenant_id), UserId(ctx.user_id))
}

/// Runs `fut` as the operation `op` of `ctx`, logging start and outcome.
pub async fn logged<T>(
    ctx: &TenantContext,
    op: &'static str,
    fut: impl Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let current = tracing::Span::current();
    current.record("tenant_id", tracing::field::display(ctx.tenant_id));
    current.record("user_id", tracing::field::display(ctx.user_id));
    let span = tracing::info_span!("op", operation = op, tenant_id = %ctx.tenant_id, user_id = %ctx.user_id);
    async move {
        tracing::info!(
            "[Tenant: {}] [User: {}] {op} started",
            ctx.tenant_id,
            ctx.user_id
        );
        let result = fut.await;
        match &result {
            Ok(_) => tracing::info!(
                "[Tenant: {}] [User: {}] {op} completed",
                ctx.tenant_id,
                ctx.user_id
            ),
            Err(err) => tracing::warn!(
                "[Tenant: {}] [User: {}] {op} failed: {err}",
                ctx.tenant_id,
                ctx.user_id
            ),
        }
        result
    }
    .instrument(span)
    .await
}

/// Runs blocking repository work on the blocking pool, keeping the current span.
///
/// # Errors
/// The repository's error mapped by [`ApiError::from`].
pub async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    F: FnOnce() -> Result<T, RepoError> + Send + 'static,
    T: Send + 'static,
{
    blocking_with(f, ApiError::from).await
}

/// Runs blocking work of any service on the blocking pool (never on the async workers),
/// keeping the current span, and maps its error with `map`.
///
/// # Errors
/// `map` of the work's error, or a 500 if the blocking task itself failed.
pub async fn blocking_with<T, E, F>(f: F, map: impl FnOnce(E) -> ApiError) -> ApiResult<T>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(f))
        .await?
        .map_err(map)
}
