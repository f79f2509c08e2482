//! Metric series of a tenant: time buckets of its portfolio snapshots and stored risk metrics,
//! aggregated by the database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::RepoError;

/// What a series measures.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MetricType {
    /// `portfolio_snapshots.total_value` (quote units).
    PortfolioValue,
    /// Stored risk metric `sharpe_ratio`.
    SharpeRatio,
    /// Stored risk metric `volatility` (annualised).
    Volatility,
    /// Drawdown of each snapshot's total value from its running peak (<= 0).
    Drawdown,
    /// `positions_value / total_value` of each snapshot.
    Exposure,
    /// Stored risk metric `utilization` (risk budget used, 0..1).
    Utilization,
}

impl crate::TextEnum for MetricType {
    const FIELD: &'static str = "metric_type";
}

/// How the values of one bucket are combined.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Aggregation {
    /// Mean.
    Avg,
    /// Smallest.
    Min,
    /// Largest.
    Max,
    /// Sum.
    Sum,
    /// Number of values.
    Count,
}

impl crate::TextEnum for Aggregation {
    const FIELD: &'static str = "aggregation";
}

/// Width of a time bucket.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BucketInterval {
    /// 5 minutes.
    #[serde(rename = "5m")]
    #[strum(serialize = "5m")]
    M5,
    /// 15 minutes.
    #[serde(rename = "15m")]
    #[strum(serialize = "15m")]
    M15,
    /// 1 hour.
    #[serde(rename = "1h")]
    #[strum(serialize = "1h")]
    H1,
    /// 4 hours.
    #[serde(rename = "4h")]
    #[strum(serialize = "4h")]
    H4,
    /// 1 day (UTC).
    #[serde(rename = "1d")]
    #[strum(serialize = "1d")]
    D1,
    /// 1 week (from Monday 00:00 UTC).
    #[serde(rename = "1w")]
    #[strum(serialize = "1w")]
    W1,
}

impl crate::TextEnum for BucketInterval {
    const FIELD: &'static str = "interval";
}

impl BucketInterval {
    /// The width in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::M5 => 300,
            Self::M15 => 900,
            Self::H1 => 3_600,
            Self::H4 => 14_400,
            Self::D1 => 86_400,
            Self::W1 => 604_800,
        }
    }
}

/// One aggregated bucket (or one stored value, for `latest`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Start of the bucket (or when the value was recorded).
    pub timestamp: DateTime<Utc>,
    /// The aggregate; finite.
    pub value: f64,
}

/// What series to read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesQuery {
    /// The metric.
    pub metric: MetricType,
    /// The aggregation per bucket.
    pub aggregation: Aggregation,
    /// The bucket width.
    pub interval: BucketInterval,
    /// Values recorded at or after.
    pub start: DateTime<Utc>,
    /// Values recorded before.
    pub end: DateTime<Utc>,
    /// Most buckets returned (the newest ones).
    pub max_points: u32,
}

/// The tenant's stored metrics.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait MetricsRepo: Send + Sync {
    /// The buckets of `query` that hold values, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn series(&self, actor: &Actor, query: &SeriesQuery) -> Result<Vec<MetricPoint>, RepoError>;

    /// The newest value of `metric`, if any.
    ///
    /// # Errors
    /// Storage failures.
    fn latest(&self, actor: &Actor, metric: MetricType) -> Result<Option<MetricPoint>, RepoError>;
}
