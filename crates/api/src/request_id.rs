//! `x-request-id`: echoed when the client sends one (if sane), generated otherwise; set on the
//! request (so extractors see it), on every response, on the request's tracing span, and in a
//! task-local so error bodies can quote it.
//!
//! The server also gives every request an id of its own, whatever the client sent: a client
//! can choose the id it sees echoed, never the one audit rows record ([`server`]).

use std::future::{ready, Ready};

use actix_web::{
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{HeaderName, HeaderValue},
    Error,
};
use futures_util::future::LocalBoxFuture;
use tracing::Instrument;

/// The header name.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The ids of one request.
#[derive(Debug, Clone)]
struct Ids {
    /// Echoed in `x-request-id` and quoted in error bodies (the client's, when it sent one).
    echoed: String,
    /// The server's own (audit rows).
    server: String,
}

tokio::task_local! {
    static REQUEST_ID: Ids;
}

/// The id of the request being served, as echoed to the client (empty outside a request).
pub fn current() -> String {
    REQUEST_ID
        .try_with(|ids| ids.echoed.clone())
        .unwrap_or_default()
}

/// The server's own id of the request being served (empty outside a request).
pub fn server() -> String {
    REQUEST_ID
        .try_with(|ids| ids.server.clone())
        .unwrap_or_default()
}

/// The id the client sent, when it differs from the server's (for audit details).
pub fn client() -> Option<String> {
    REQUEST_ID
        .try_with(|ids| (ids.echoed != ids.server).then(|| ids.echoed.clone()))
        .ok()
        .flatten()
}

fn acceptable(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The middleware (wrap it outermost).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestId;

impl<S, B> Transform<S, ServiceRequest> for RequestId
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestIdMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdMiddleware { service }))
    }
}

/// The middleware's service.
#[derive(Debug)]
pub struct RequestIdMiddleware<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestIdMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let server = uuid::Uuid::new_v4().to_string();
        let id = req
            .headers()
            .get(&HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| acceptable(v))
            .map_or_else(|| server.clone(), str::to_owned);
        let value =
            HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        req.headers_mut().insert(HEADER, value.clone());
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            server_request_id = %server,
            method = %req.method(),
            path = %req.path(),
            tenant_id = tracing::field::Empty,
            user_id = tracing::field::Empty,
        );
        let ids = Ids { echoed: id, server };
        let fut = REQUEST_ID.scope(ids, self.service.call(req).instrument(span));
        Box::pin(async move {
            let mut res = fut.await?;
            res.headers_mut().insert(HEADER, value);
            Ok(res)
        })
    }
}
