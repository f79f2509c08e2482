//! Prometheus metrics of the HTTP edge, through the `metrics` facade (the binary installs the
//! recorder and serves `/metrics` on its own listener, `ALPHAPULSE_METRICS_BIND`; without a
//! recorder, e.g. in tests, recording is a no-op).
//!
//! Series (the names the operators' dashboards and alerts use):
//! - `http_requests_total{method, route, status}` and
//!   `api_request_duration_seconds{method, route, status}` (histogram), by route template;
//! - `api_auth_failures_total{reason}`;
//! - `api_cross_tenant_access_attempts{tenant}`: 404s of authenticated callers on object
//!   routes (`{id}`): another tenant's id, or one that exists nowhere (never told apart);
//! - `api_quota_rejections_total{tenant, limit="daily"|"burst"}`;
//! - `api_principal_cache_total{result="hit"|"miss"}`.
//!
//! Tenant labels are bounded: the first `cap` tenants seen get their id as label, every other
//! tenant is counted under `other`, so a flood of tenants cannot blow up the series count.

use std::{
    collections::HashSet,
    sync::{Mutex, PoisonError},
    time::Instant,
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use alphapulse_domain::TenantId;
use tenant_auth::AuthError;

/// Default number of tenants with a label of their own.
pub const DEFAULT_TENANT_LABELS: usize = 100;

/// Which tenants get a label of their own (the first `cap` seen); the rest are `other`.
#[derive(Debug)]
pub struct TenantLabels {
    cap: usize,
    seen: Mutex<HashSet<TenantId>>,
}

impl TenantLabels {
    /// Labels for at most `cap` tenants.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The label of `tenant`.
    pub fn label(&self, tenant: TenantId) -> String {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(&tenant) || (seen.len() < self.cap && seen.insert(tenant)) {
            tenant.to_string()
        } else {
            "other".to_owned()
        }
    }
}

/// The middleware recording the request counter and duration histogram of every answer.
///
/// # Errors
/// Only the inner service's.
pub async fn record_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("api_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// A short, stable reason for an authentication failure.
pub fn auth_failure_reason(err: &AuthError) -> &'static str {
    match err {
        AuthError::MissingToken => "missing_token",
        AuthError::Malformed => "malformed",
        AuthError::AlgorithmNotAllowed => "algorithm",
        AuthError::InvalidSignature => "signature",
        AuthError::Expired => "expired",
        AuthError::NotYetValid => "not_yet_valid",
        AuthError::WrongIssuer => "issuer",
        AuthError::WrongAudience => "audience",
        AuthError::UnknownKey => "unknown_key",
        AuthError::MissingClaim(_) | AuthError::InvalidClaim(_) => "claims",
        AuthError::Unauthorized(_) => "principal",
        AuthError::Forbidden(_) => "tenant_inactive",
        AuthError::Unavailable(_) => "unavailable",
        _ => "other",
    }
}

/// Counts an authentication failure.
pub fn auth_failed(reason: &'static str) {
    metrics::counter!("api_auth_failures_total", "reason" => reason).increment(1);
}

/// Counts a 404 of an authenticated caller on an object route.
pub fn cross_tenant_attempt(tenant: String) {
    metrics::counter!("api_cross_tenant_access_attempts", "tenant" => tenant).increment(1);
}

/// Counts a quota (`daily`) or burst (`burst`) rejection.
pub fn quota_rejected(tenant: String, limit: &'static str) {
    metrics::counter!("api_quota_rejections_total", "tenant" => tenant, "limit" => limit)
        .increment(1);
}

/// Counts a principal-cache lookup.
pub fn principal_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("api_principal_cache_total", "result" => result).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_tenants_get_a_label_of_their_own() {
        let labels = TenantLabels::new(2);
        let (a, b, c) = (
            TenantId::new_random(),
            TenantId::new_random(),
            TenantId::new_random(),
        );
        assert_eq!(labels.label(a), a.to_string());
        assert_eq!(labels.label(b), b.to_string());
        assert_eq!(labels.label(c), "other");
        assert_eq!(labels.label(a), a.to_string(), "a keeps its label");
        assert_eq!(TenantLabels::new(0).label(a), "other");
    }
}
