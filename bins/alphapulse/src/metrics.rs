//! The Prometheus endpoint: the `metrics` recorder the libraries record into, served as text
//! at `GET /metrics` on its own listener (`ALPHAPULSE_METRICS_BIND`, default
//! `127.0.0.1:9464`), off the API port, so scraping never competes with the API's routes and
//! the metrics are never exposed where the API is.

use std::net::SocketAddr;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{Context, Result};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request-duration buckets, seconds: sub-millisecond to ten seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder.
///
/// # Errors
/// A recorder is installed already.
pub fn install() -> Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("api_request_duration_seconds".to_owned()),
            DURATION_BUCKETS,
        )
        .context("configuring the duration buckets")?
        .install_recorder()
        .context("installing the metrics recorder")
}

/// The metrics listener (start it inside the server's runtime); its bound address.
///
/// # Errors
/// The address cannot be bound.
pub fn serve(
    bind: SocketAddr,
    handle: PrometheusHandle,
) -> Result<(actix_web::dev::Server, SocketAddr)> {
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let text = handle.render();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(text)
                }
            }),
        )
    })
    .workers(1)
    // `serve` stops it after the API (its own signal handling).
    .disable_signals()
    .bind(bind)
    .with_context(|| format!("binding the metrics listener {bind} (ALPHAPULSE_METRICS_BIND)"))?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .context("the metrics listener has no address")?;
    Ok((server.run(), addr))
}
