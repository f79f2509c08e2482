//! Liveness and readiness probes and the OpenAPI document: public, no token.

use actix_web::{http::header, web, HttpResponse};
use serde::Serialize;

use std::sync::OnceLock;

use crate::{
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::Public, health))
        .add(route!(Access::Public, ready))
        .add(route!(Access::Public, openapi_json));
}

/// A probe's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProbeStatus {
    /// `ok`, `ready` or `unavailable`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Why not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

/// `GET /health`: the process is alive.
#[utoipa::path(get, path = "/health", tag = "probes",
    responses((status = 200, description = "Process alive", body = ProbeStatus)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(ProbeStatus {
        status: "ok",
        detail: None,
    })
}

/// `GET /ready`: 200 when the database answers, else 503 with `Retry-After`.
#[utoipa::path(get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "Database answers", body = ProbeStatus),
        (status = 503, description = "Database unavailable", body = ProbeStatus)
    ))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let readiness = state.readiness.clone();
    match web::block(move || readiness.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(ProbeStatus {
            status: "ready",
            detail: None,
        }),
        outcome => {
            match outcome {
                Ok(Err(err)) => tracing::warn!(error = %err, "readiness check failed"),
                _ => tracing::error!("readiness check panicked"),
            }
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(ProbeStatus {
                    status: "unavailable",
                    detail: Some("Database unavailable"),
                })
        }
    }
}

/// `GET /openapi.json`: the document, rendered once.
#[utoipa::path(get, path = "/openapi.json", tag = "probes",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> HttpResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let body = DOC.get_or_init(|| {
        crate::openapi::document(&crate::routes::all())
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}
