//! Liveness and readiness probes: public, no token.

use actix_web::{get, http::header, web, HttpResponse};
use serde_json::json;

use crate::AppState;

/// `GET /health`: the process is alive.
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the database answers, else 503 with `Retry-After`.
#[get("/ready")]
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

