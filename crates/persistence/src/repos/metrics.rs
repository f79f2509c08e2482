//! Metric series: time buckets of `portfolio_snapshots` and `risk_metrics`, aggregated in SQL
//! (`date_bin` buckets, `avg`/`min`/`max`/`sum`/`count`).
//!
//! Sources:
//! - `portfolio_value`: `total_value` of each snapshot;
//! - `drawdown`: `total_value / running peak - 1` of each snapshot (`<= 0`), the peak taken
//!   over every earlier snapshot, also those before the window;
//! - `exposure`: `positions_value / total_value` of each snapshot (snapshots worth 0 skipped);
//! - `sharpe_ratio`, `volatility`, `utilization`: `risk_metrics` rows with that `metric` and
//!   scope `portfolio`, by `calculated_at`.

use alphapulse_domain::{
    ports::{Actor, Aggregation, MetricPoint, MetricType, MetricsRepo, SeriesQuery},
    RepoError, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{
    pg::PgConnection,
    sql_query,
    sql_types::{BigInt, Double, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName, RunQueryDsl,
};

use crate::{error::Result, Db};

/// Buckets start at multiples of the interval from Monday 2000-01-03 00:00 UTC (so days start
/// at midnight UTC and weeks on Mondays).
const ORIGIN: &str = "TIMESTAMPTZ '2000-01-03 00:00:00+00'";

#[derive(Debug, QueryableByName)]
struct PointRow {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Double)]
    value: f64,
}

/// The `(at, value)` rows of a metric, as a SQL subquery with `$1` the tenant, `$2` the end of
/// the window (exclusive) and `$3` the risk metric's name.
fn values_sql(metric: MetricType) -> &'static str {
    match metric {
        MetricType::PortfolioValue => {
            "SELECT taken_at AS at, total_value::float8 AS value FROM portfolio_snapshots \
             WHERE tenant_id = $1 AND taken_at < $2 AND $3 <> ''"
        }
        MetricType::Exposure => {
            "SELECT taken_at AS at, (positions_value / total_value)::float8 AS value \
             FROM portfolio_snapshots WHERE tenant_id = $1 AND taken_at < $2 AND total_value <> 0 \
             AND $3 <> ''"
        }
        MetricType::Drawdown => {
            "SELECT at, CASE WHEN peak > 0 THEN (total / peak - 1)::float8 END AS value FROM ( \
               SELECT taken_at AS at, total_value AS total, \
                      max(total_value) OVER (ORDER BY taken_at, id) AS peak \
               FROM portfolio_snapshots WHERE tenant_id = $1 AND taken_at < $2 AND $3 <> '') d"
        }
        MetricType::SharpeRatio | MetricType::Volatility | MetricType::Utilization => {
            "SELECT calculated_at AS at, value FROM risk_metrics \
             WHERE tenant_id = $1 AND calculated_at < $2 AND metric = $3 AND scope = 'portfolio'"
        }
    }
}

fn aggregate_sql(aggregation: Aggregation) -> &'static str {
    match aggregation {
        Aggregation::Avg => "avg(value)",
        Aggregation::Min => "min(value)",
        Aggregation::Max => "max(value)",
        Aggregation::Sum => "sum(value)",
        Aggregation::Count => "count(value)::float8",
    }
}

/// The buckets of `query`, oldest first (the newest `max_points` of them).
///
/// # Errors
/// Database failures.
pub fn series(
    conn: &mut PgConnection,
    actor: &Actor,
    query: &SeriesQuery,
) -> Result<Vec<MetricPoint>> {
    let sql = format!(
        "SELECT at, value FROM ( \
           SELECT date_bin(make_interval(secs => $4), at, {ORIGIN}) AS at, {agg} AS value \
           FROM ({values}) v WHERE at >= $5 AND value IS NOT NULL \
           GROUP BY 1 ORDER BY 1 DESC LIMIT $6) b \
         ORDER BY at",
        agg = aggregate_sql(query.aggregation),
        values = values_sql(query.metric),
    );
    #[allow(clippy::cast_precision_loss)] // whole seconds of a bucket, far below 2^53
    let seconds = query.interval.seconds() as f64;
    let rows: Vec<PointRow> = sql_query(sql)
        .bind::<SqlUuid, _>(actor.tenant_id.as_uuid())
        .bind::<Timestamptz, _>(query.end)
        .bind::<Text, _>(query.metric.as_str())
        .bind::<Double, _>(seconds)
        .bind::<Timestamptz, _>(query.start)
        .bind::<BigInt, _>(i64::from(query.max_points))
        .load(conn)?;
    Ok(points(rows))
}

/// The newest value of `metric`.
///
/// # Errors
/// Database failures.
pub fn latest(
    conn: &mut PgConnection,
    actor: &Actor,
    metric: MetricType,
) -> Result<Option<MetricPoint>> {
    let sql = format!(
        "SELECT at, value FROM ({values}) v WHERE value IS NOT NULL ORDER BY at DESC LIMIT 1",
        values = values_sql(metric),
    );
    let rows: Vec<PointRow> = sql_query(sql)
        .bind::<SqlUuid, _>(actor.tenant_id.as_uuid())
        .bind::<Timestamptz, _>(far_future())
        .bind::<Text, _>(metric.as_str())
        .load(conn)?;
    Ok(points(rows).into_iter().next())
}

/// 9999-12-31T23:59:59Z: later than any stored row, within PostgreSQL's range.
fn far_future() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or_default()
}

/// Finite values only: JSON has no NaN or infinity.
fn points(rows: Vec<PointRow>) -> Vec<MetricPoint> {
    rows.into_iter()
        .filter(|r| r.value.is_finite())
        .map(|r| MetricPoint {
            timestamp: r.at,
            value: r.value,
        })
        .collect()
}

/// [`MetricsRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgMetricsRepo {
    db: Db,
}

impl PgMetricsRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl MetricsRepo for PgMetricsRepo {
    fn series(&self, actor: &Actor, query: &SeriesQuery) -> Result<Vec<MetricPoint>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| series(c, actor, query))?)
    }

    fn latest(&self, actor: &Actor, metric: MetricType) -> Result<Option<MetricPoint>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| latest(c, actor, metric))?)
    }
}
