//! AlphaPulse HTTP API on actix-web: routes, extraction, error mapping and the OpenAPI
//! document. It holds no use case and builds no repository: the binary composes the
//! services ([`Services`]) and hands them over; a handler extracts, calls one service method
//! and maps the answer to a DTO.
//!
//! - [`routing`]: each route declared once (`#[utoipa::path]` + [`route!`] with its
//!   [`routing::Access`]); the router, the OpenAPI document and the route table come from it;
//! - [`caller::Caller`]: the authenticated, authorised caller (a handler that takes it cannot
//!   run unauthenticated or without the route's permission);
//! - [`error::ApiError`]: every service error mapped to a status in one place;
//! - [`web`]: the server-rendered web console (`/console`), over the same services and
//!   permissions, with cookie sessions; declared in the same route table, kept out of the
//!   OpenAPI document.

pub mod caller;
pub mod client;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod oplog;
pub mod page;
pub mod request_id;
pub mod routes;
pub mod routing;
pub mod state;
pub mod web;

pub use error::{ApiError, ApiResult};
pub use routing::{Access, RouteInfo};
pub use state::{AppState, HttpSettings, Services};

use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    middleware::from_fn,
    App, HttpResponse,
};

/// Registers every route of the API and the extractor settings.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    extract::configure(cfg);
    routes::all().register(cfg);
}

/// Every declared route.
pub fn route_table() -> Vec<RouteInfo> {
    routes::all().table()
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::document(&routes::all())
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
        .app_data(actix_web::web::Data::new(state.authenticator.clone()))
        .app_data(actix_web::web::Data::new(state))
        .configure(configure)
        .default_service(actix_web::web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("Route".to_owned()))
        }))
        .wrap(from_fn(oplog::log_outcome))
        .wrap(from_fn(metrics::record_requests))
        .wrap(request_id::RequestId)
}
