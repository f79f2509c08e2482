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
    let db = state.db.clone();
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

#[cfg(test)]
mod tests {
    use actix_web::{test, App};
    use alphapulse_persistence::testing::TestDb;

    use super::*;

    #[actix_web::test]
    async fn health_and_ready_answer() {
        let mut t = TestDb::new();
        let state = AppState { db: t.db() };
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(state))
                .configure(crate::configure),
        )
        .await;
        let resp = test::call_service(&app, test::TestRequest::get().uri("/health").to_request()).await;
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = test::read_body_json(resp).await;
        assert_eq!(body["status"], "ok");
        let resp = test::call_service(&app, test::TestRequest::get().uri("/ready").to_request()).await;
        assert_eq!(resp.status(), 200);
    }

    #[actix_web::test]
    async fn ready_is_503_when_the_database_is_gone() {
        // A pool that can never connect: port 1 on loopback refuses.
        let config = alphapulse_persistence::PoolConfig {
            max_size: 1,
            min_idle: Some(0),
            connection_timeout: std::time::Duration::from_millis(300),
            statement_timeout: None,
        };
        let db = alphapulse_persistence::Db::connect("postgres://x:y@127.0.0.1:1/none", &config).unwrap();
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(AppState { db }))
                .configure(crate::configure),
        )
        .await;
        let resp = test::call_service(&app, test::TestRequest::get().uri("/ready").to_request()).await;
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers().get("retry-after").unwrap(), "1");
    }
}
