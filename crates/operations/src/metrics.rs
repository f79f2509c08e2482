//! Metric series and the process's cache and pool statistics.

use std::sync::Arc;

use alphapulse_domain::{
    ports::{
        Aggregation, BucketInterval, CacheStat, CacheStatsSource, Clock, DatabaseHealth,
        DatabaseStats, MetricPoint, MetricType, MetricsRepo, PoolStats, SeriesQuery,
    },
    Principal, ValidationError,
};
use chrono::{DateTime, Duration, Utc};

use crate::{clamp_window, OpsResult};

/// The default window of a series: the last 24 hours.
pub const DEFAULT_WINDOW_HOURS: i64 = 24;
/// Most buckets a series answers (the newest ones).
pub const MAX_POINTS: u32 = 5_000;

/// What a series request asks (all optional but the metric).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRequest {
    /// The metric.
    pub metric: MetricType,
    /// Start (default: `end` - 24 h).
    pub start: Option<DateTime<Utc>>,
    /// End (default: now).
    pub end: Option<DateTime<Utc>>,
    /// Aggregation (default `avg`).
    pub aggregation: Option<Aggregation>,
    /// Bucket width (default `1h`).
    pub interval: Option<BucketInterval>,
}

/// The series and statistics services.
#[derive(Clone)]
pub struct MetricsService {
    repo: Arc<dyn MetricsRepo>,
    caches: Vec<Arc<dyn CacheStatsSource>>,
    database: Arc<dyn DatabaseStats>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MetricsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsService")
            .field("caches", &self.caches.len())
            .finish_non_exhaustive()
    }
}

impl MetricsService {
    /// The service over the stored metrics, the process's caches and its database.
    pub fn new(
        repo: Arc<dyn MetricsRepo>,
        caches: Vec<Arc<dyn CacheStatsSource>>,
        database: Arc<dyn DatabaseStats>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repo,
            caches,
            database,
            clock,
        }
    }

    /// The resolved query of `request` (defaults applied, window checked).
    ///
    /// # Errors
    /// `start_time` after `end_time` (422).
    pub fn query(&self, request: &SeriesRequest) -> OpsResult<SeriesQuery> {
        let end = request.end.unwrap_or_else(|| self.clock.now());
        let start = request
            .start
            .unwrap_or_else(|| end - Duration::hours(DEFAULT_WINDOW_HOURS));
        if start > end {
            return Err(ValidationError::new("start_time", "must not be after end_time").into());
        }
        Ok(SeriesQuery {
            metric: request.metric,
            aggregation: request.aggregation.unwrap_or(Aggregation::Avg),
            interval: request.interval.unwrap_or(BucketInterval::H1),
            start: clamp_window(start),
            end: clamp_window(end),
            max_points: MAX_POINTS,
        })
    }

    /// The buckets of the caller's tenant's series, oldest first.
    ///
    /// # Errors
    /// As [`MetricsService::query`]; storage failures.
    pub fn series(
        &self,
        caller: &Principal,
        request: &SeriesRequest,
    ) -> OpsResult<(SeriesQuery, Vec<MetricPoint>)> {
        let query = self.query(request)?;
        let points = self.repo.series(&caller.actor(), &query)?;
        Ok((query, points))
    }

    /// The newest value of `metric` for the caller's tenant.
    ///
    /// # Errors
    /// Storage failures.
    pub fn latest(&self, caller: &Principal, metric: MetricType) -> OpsResult<Option<MetricPoint>> {
        Ok(self.repo.latest(&caller.actor(), metric)?)
    }

    /// Every cache of the process that reports (the token verifier's is added by the API).
    pub fn caches(&self) -> Vec<CacheStat> {
        self.caches.iter().flat_map(|c| c.cache_stats()).collect()
    }

    /// The pool's state and counters.
    pub fn pool(&self) -> PoolStats {
        self.database.pool_stats()
    }

    /// A database round trip (never fails; an unreachable database is reported).
    pub fn database(&self) -> DatabaseHealth {
        self.database.health()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{
        ports::{ManualClock, MockDatabaseStats, MockMetricsRepo},
        Role, TenantId, UserId,
    };
    use chrono::TimeZone;

    use super::*;

    struct Fixed(Vec<CacheStat>);
    impl CacheStatsSource for Fixed {
        fn cache_stats(&self) -> Vec<CacheStat> {
            self.0.clone()
        }
    }

    fn service(repo: MockMetricsRepo, now: DateTime<Utc>) -> MetricsService {
        let stat = CacheStat {
            name: "c".into(),
            entries: 3,
            capacity: 10,
            hits: Some(3),
            misses: Some(1),
        };
        MetricsService::new(
            Arc::new(repo),
            vec![Arc::new(Fixed(vec![stat]))],
            Arc::new(MockDatabaseStats::new()),
            Arc::new(ManualClock::new(now)),
        )
    }

    fn caller() -> Principal {
        Principal {
            tenant_id: TenantId::new_random(),
            user_id: UserId::new_random(),
            role: Role::Viewer,
            request_id: None,
            client_request_id: None,
        }
    }

    #[test]
    fn defaults_are_the_last_day_in_hourly_averages() {
        let now = Utc.with_ymd_and_hms(2025, 12, 3, 12, 0, 0).unwrap();
        let mut repo = MockMetricsRepo::new();
        repo.expect_series()
            .withf(move |_, q| {
                q.start == now - Duration::hours(24)
                    && q.end == now
                    && q.aggregation == Aggregation::Avg
                    && q.interval == BucketInterval::H1
                    && q.max_points == MAX_POINTS
            })
            .returning(|_, _| Ok(Vec::new()));
        let request = SeriesRequest {
            metric: MetricType::PortfolioValue,
            start: None,
            end: None,
            aggregation: None,
            interval: None,
        };
        let (_, points) = service(repo, now).series(&caller(), &request).unwrap();
        assert!(points.is_empty());
    }

    #[test]
    fn start_after_end_is_refused_and_caches_report_hit_rates() {
        let now = Utc.with_ymd_and_hms(2025, 12, 3, 12, 0, 0).unwrap();
        let service = service(MockMetricsRepo::new(), now);
        let request = SeriesRequest {
            metric: MetricType::Drawdown,
            start: Some(now),
            end: Some(now - Duration::seconds(1)),
            aggregation: Some(Aggregation::Max),
            interval: Some(BucketInterval::D1),
        };
        assert!(matches!(
            service.series(&caller(), &request),
            Err(crate::OpsError::Invalid(v)) if v.field == "start_time"
        ));
        let caches = service.caches();
        assert_eq!(caches.len(), 1);
        assert_eq!(caches[0].hit_rate(), Some(0.75));
    }
}
