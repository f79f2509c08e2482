//! Metric series of a tenant: time buckets of its portfolio snapshots and stored risk metrics,
//! aggregated by the database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::RepoError;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal, $case:literal, { $($(#[$vmeta:meta])* $variant:ident $(= $text:literal)?),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            strum::Display, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
            strum::VariantNames,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = $case)]
        #[strum(serialize_all = $case)]
        pub enum $name {
            $($(#[$vmeta])* $(#[serde(rename = $text)] #[strum(serialize = $text)])? $variant),+
        }

        impl crate::TextEnum for $name {
            const FIELD: &'static str = $field;
        }
    };
}

text_enum!(
    /// What a series measures.
    MetricType, "metric_type", "snake_case", {
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
);

impl MetricType {
    /// Whether the series comes from `portfolio_snapshots` (else from `risk_metrics`).
    pub fn from_snapshots(self) -> bool {
        matches!(self, Self::PortfolioValue | Self::Drawdown | Self::Exposure)
    }
}

text_enum!(
    /// How the values of one bucket are combined.
    Aggregation, "aggregation", "lowercase", {
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
);

text_enum!(
    /// Width of a time bucket.
    BucketInterval, "interval", "lowercase", {
        /// 5 minutes.
        M5 = "5m",
        /// 15 minutes.
        M15 = "15m",
        /// 1 hour.
        H1 = "1h",
        /// 4 hours.
        H4 = "4h",
        /// 1 day (UTC).
        D1 = "1d",
        /// 1 week (from Monday 00:00 UTC).
        W1 = "1w",
    }
);

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
