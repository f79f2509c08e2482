//! `GET /api/v1/metrics/...`: the tenant's metric series (time buckets of its portfolio
//! snapshots and stored risk metrics, aggregated by the database) and, for admins, the
//! server's cache and database pool statistics.
//!
//! `/metrics/cache` and `/metrics/database` are matched before `/metrics/{metric_type}`:
//! resources are registered in path order (`Routes::register`), and a static segment sorts
//! before `{`, so the static paths come first (a test checks it).

use std::collections::BTreeMap;

use actix_web::web;
use alphapulse_domain::{
    ports::{Aggregation, BucketInterval, CacheStat, DatabaseHealth, MetricType, PoolStats},
    Permission, TextEnum,
};
use alphapulse_operations::SeriesRequest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(
            Access::Requires(Permission::ManageSettings),
            get_cache_metrics
        ))
        .add(route!(
            Access::Requires(Permission::ManageSettings),
            get_database_metrics
        ))
        .add(route!(Access::READ, get_metric_series))
        .add(route!(Access::READ, get_latest_metric));
}

fn metric_type(text: &str) -> ApiResult<MetricType> {
    MetricType::parse_field(text).map_err(|_| {
        ApiError::NotFound(format!(
            "Metric type {text:?} (valid types: {})",
            MetricType::ALL
                .iter()
                .map(MetricType::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// One bucket of a series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricPointResponse {
    /// Start of the bucket.
    pub timestamp: DateTime<Utc>,
    /// The aggregate of the bucket's values.
    pub value: f64,
    /// `metric_type`, `aggregation`, `interval`.
    pub labels: BTreeMap<String, String>,
}

/// Window, aggregation and bucket width of a series.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// Start (RFC 3339; default: 24 hours before `end_time`).
    pub start_time: Option<DateTime<Utc>>,
    /// End, exclusive (RFC 3339; default: now; not before `start_time`).
    pub end_time: Option<DateTime<Utc>>,
    /// How a bucket's values are combined (default `avg`).
    #[param(value_type = Option<Aggregation>, inline)]
    pub aggregation: Option<String>,
    /// Bucket width (default `1h`).
    #[param(value_type = Option<BucketInterval>, inline)]
    pub interval: Option<String>,
}

/// The buckets of a metric that hold values, oldest first (at most 5000, the newest).
/// Sources: `portfolio_value`, `drawdown` (from the running peak) and `exposure`
/// (positions / total value) from the portfolio snapshots; `sharpe_ratio`, `volatility` and
/// `utilization` from the stored risk metrics.
#[utoipa::path(get, path = "/api/v1/metrics/{metric_type}", tag = "metrics",
    params(("metric_type" = inline(MetricType), Path, description = "The metric"), SeriesQuery),
    responses(
        (status = 200, body = Vec<MetricPointResponse>),
        (status = 404, description = "Unknown metric type (the valid ones are listed)", body = crate::error::ErrorBody),
        (status = 422, description = "start_time after end_time, or an unknown aggregation or interval (the valid ones are listed)", body = crate::error::ErrorBody)
    ))]
pub async fn get_metric_series(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<SeriesQuery>,
) -> ApiResult<web::Json<Vec<MetricPointResponse>>> {
    let metric = metric_type(&path)?;
    let (query, service) = (query.into_inner(), state.metrics.clone());
    let request = SeriesRequest {
        metric,
        start: query.start_time,
        end: query.end_time,
        aggregation: query
            .aggregation
            .as_deref()
            .map(Aggregation::parse_field)
            .transpose()?,
        interval: query
            .interval
            .as_deref()
            .map(BucketInterval::parse_field)
            .transpose()?,
    };
    let (resolved, points) = caller.run(move |p| service.series(p, &request)).await?;
    let labels: BTreeMap<String, String> = [
        ("metric_type", resolved.metric.as_str()),
        ("aggregation", resolved.aggregation.as_str()),
        ("interval", resolved.interval.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Ok(web::Json(
        points
            .into_iter()
            .map(|p| MetricPointResponse {
                timestamp: p.timestamp,
                value: p.value,
                labels: labels.clone(),
            })
            .collect(),
    ))
}

/// The newest value of a metric.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LatestMetric {
    /// When it was recorded (`null`: no value yet).
    pub timestamp: Option<DateTime<Utc>>,
    /// The value (`null`: no value yet).
    pub value: Option<f64>,
    /// `metric_type`.
    pub labels: BTreeMap<String, String>,
}

/// The newest value of a metric (`null`s when it has none yet).
#[utoipa::path(get, path = "/api/v1/metrics/{metric_type}/latest", tag = "metrics",
    params(("metric_type" = inline(MetricType), Path, description = "The metric")),
    responses(
        (status = 200, body = LatestMetric),
        (status = 404, description = "Unknown metric type (the valid ones are listed)", body = crate::error::ErrorBody)
    ))]
pub async fn get_latest_metric(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<LatestMetric>> {
    let metric = metric_type(&path)?;
    let service = state.metrics.clone();
    let latest = caller.run(move |p| service.latest(p, metric)).await?;
    Ok(web::Json(LatestMetric {
        timestamp: latest.map(|p| p.timestamp),
        value: latest.map(|p| p.value),
        labels: BTreeMap::from([("metric_type".to_owned(), metric.as_str().to_owned())]),
    }))
}

/// One cache with its hit rate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CacheReport {
    /// Entries, capacity and counters.
    #[serde(flatten)]
    pub stat: CacheStat,
    /// `hits / (hits + misses)`, where counted and asked.
    pub hit_rate: Option<f64>,
}

/// The server's caches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CacheMetrics {
    /// `active`.
    pub status: String,
    /// Each cache.
    pub caches: Vec<CacheReport>,
    /// When.
    pub timestamp: DateTime<Utc>,
}

/// Sizes and hit rates of the server's caches (token signatures, principal verdicts, regime
/// snapshots and fits, exchange accounts, clients and positions). Process-wide, no tenant data.
#[utoipa::path(get, path = "/api/v1/metrics/cache", tag = "metrics",
    responses((status = 200, body = CacheMetrics)))]
pub async fn get_cache_metrics(
    _caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<CacheMetrics>> {
    let verifier = state.authenticator.verifier().cache_stats();
    let mut caches = vec![CacheStat {
        name: "token_signatures".to_owned(),
        entries: verifier.entries as u64,
        capacity: verifier.capacity as u64,
        hits: Some(verifier.hits),
        misses: Some(verifier.misses),
    }];
    caches.extend(state.metrics.caches());
    Ok(web::Json(CacheMetrics {
        status: "active".to_owned(),
        caches: caches
            .into_iter()
            .map(|stat| CacheReport {
                hit_rate: stat.hit_rate(),
                stat,
            })
            .collect(),
        timestamp: Utc::now(),
    }))
}

/// The database pool and server.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatabaseMetrics {
    /// `active`, or `unavailable` when the database does not answer.
    pub status: String,
    /// Pool size, idle connections, checkouts, waits, timeouts.
    pub pool: PoolStats,
    /// A round trip to the server.
    pub database: DatabaseHealth,
    /// When.
    pub timestamp: DateTime<Utc>,
}

/// The connection pool's size, idle connections, waits and timeouts, and a database round
/// trip.
#[utoipa::path(get, path = "/api/v1/metrics/database", tag = "metrics",
    responses((status = 200, body = DatabaseMetrics)))]
pub async fn get_database_metrics(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<DatabaseMetrics>> {
    let service = state.metrics.clone();
    let (pool, database) = caller
        .run(move |_| Ok::<_, ApiError>((service.pool(), service.database())))
        .await?;
    Ok(web::Json(DatabaseMetrics {
        status: if database.reachable {
            "active"
        } else {
            "unavailable"
        }
        .to_owned(),
        pool,
        database,
        timestamp: Utc::now(),
    }))
}
