//! Liveness and readiness probes: public, no token.

use actix_web::{
    http::{header, Method},
    web, HttpResponse,
};
use serde_json::json;

use crate::{routing::Routes, AppState};

/// Registers the probes.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .add(Method::GET, "/health", health)
        .add(Method::GET, "/ready", ready);
}

/// `GET /health`: the process is alive.
#[utoipa::path(get, path = "/health", tag = "probes", security(), responses((status = 200, description = "Process alive")))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the database answers, else 503 with `Retry-After`.
#[utoipa::path(get, path = "/ready", tag = "probes", security(), responses((status = 200, description = "Database answers"), (status = 503, description = "Database unavailable")))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let Some(db) = state.db.clone() else {
        return HttpResponse::Ok().json(json!({"status": "ready"}));
    };
    match web::block(move || db.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(json!({"detail": "Database unavailable", "status": "unavailable"}))
        }
        Err(err) => {
            tracing::error!(error = %err, "readiness check panicked");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(json!({"detail": "Database unavailable", "status": "unavailable"}))
        }
    }
}
