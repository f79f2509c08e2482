//! AlphaPulse HTTP API on actix-web.
//!
//! [`app`] builds the whole application (routes, middleware, JSON error handlers) from an
//! [`AppState`]; the binary serves it and tests call it in process. Every route except the
//! public allow-list ([`PUBLIC_ROUTES`]) takes a [`tenant_auth::TenantContext`], so it cannot
//! run unauthenticated.

pub mod error;
pub mod health;
pub mod openapi;
pub mod ops;
pub mod password;
pub mod principal;
pub mod request_id;
pub mod routes;
pub mod routing;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, AuthConfig, ExchangeSettings, Ports, SetupError};

use routing::{RouteInfo, Routes};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    web, App,
};

/// Routes reachable without a token (method, path).
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("POST", "/token"),
    ("POST", "/api/v1/auth/token"),
];

/// JSON and form extractor settings: malformed bodies are 400, bad fields 422, both with
/// `detail`.
fn extractor_config(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(256 * 1024)
            .error_handler(|err, _req| {
                use actix_web::error::JsonPayloadError;
                let api = match &err {
                    JsonPayloadError::Deserialize(de) if de.is_data() => {
                        ApiError::invalid("body", de.to_string())
                    }
                    JsonPayloadError::ContentType => {
                        ApiError::BadRequest("Content-Type must be application/json".to_owned())
                    }
                    other => ApiError::BadRequest(format!("Malformed JSON: {other}")),
                };
                api.into()
            }),
    )
    .app_data(
        web::FormConfig::default()
            .limit(16 * 1024)
            .error_handler(|err, _req| {
                ApiError::BadRequest(format!("Malformed form: {err}")).into()
            }),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _req| ApiError::invalid("query", err.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _req| ApiError::NotFound(format!("Resource ({err})")).into()),
    );
}

fn register(routes: &mut Routes<'_>) {
    health::configure(routes);
    openapi::configure(routes);
    routes::auth::configure(routes);
    routes::tenants::configure(routes);
    routes::users::configure(routes);
    routes::positions::configure(routes);
    routes::regime::configure(routes);
    routes::ensemble::configure(routes);
    routes::hedging::configure(routes);
}

/// Registers every route of the API (and the extractor settings); returns the route table.
pub fn configure(cfg: &mut web::ServiceConfig) -> Vec<RouteInfo> {
    extractor_config(cfg);
    let mut routes = Routes::new(cfg);
    register(&mut routes);
    routes.into_table()
}

/// Every registered route, read from the same registration code the app runs.
pub fn route_table() -> Vec<RouteInfo> {
    let mut table = Vec::new();
    let _app = App::new().configure(|cfg| table = configure(cfg));
    table
}

/// The complete application for `state`.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Response = ServiceResponse<impl MessageBody>,
        Config = (),
        InitError = (),
        Error = actix_web::Error,
    >,
> {
    App::new()
        .app_data(web::Data::new(state.authenticator.clone()))
        .app_data(web::Data::new(state))
        .configure(|cfg| {
            configure(cfg);
        })
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(ApiError::NotFound("Route".to_owned()))
        }))
        .wrap(request_id::RequestId)
}
