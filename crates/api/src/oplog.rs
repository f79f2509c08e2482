//! The outcome line of every authenticated operation:
//! `[Tenant: <id>] [User: <id>] <operation> completed` (or `failed: <reason>`), written
//! after the handler answered, in the request's span. The start line is written by the
//! [`crate::caller::Caller`] extractor, which also leaves the [`Operation`] this reads.

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    HttpMessage,
};

use crate::caller::Operation;

/// The middleware function (`actix_web::middleware::from_fn(oplog::log_outcome)`).
///
/// # Errors
/// Only the inner service's.
pub async fn log_outcome(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let op = res.request().extensions().get::<Operation>().cloned();
    if let Some(op) = op {
        let (tenant, user, name) = (op.tenant_id, op.user_id, op.name);
        match res.response().error() {
            None if !res.status().is_client_error() && !res.status().is_server_error() => {
                tracing::info!("[Tenant: {tenant}] [User: {user}] {name} completed");
            }
            None => tracing::warn!(
                "[Tenant: {tenant}] [User: {user}] {name} failed: {}",
                res.status()
            ),
            Some(err) => tracing::warn!("[Tenant: {tenant}] [User: {user}] {name} failed: {err}"),
        }
    }
    Ok(res)
}
