//! The tenant's portfolio over time and its fills: `portfolio_snapshots` (written by the
//! snapshot job on an interval and by `POST /portfolio/reload`) and `trades` (written by
//! paper and hedge fills).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Actor;
use crate::{AuditNote, Market, Page, PageRequest, PositionSide, RepoError, Side, Symbol};

/// Who wrote a snapshot.
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
pub enum SnapshotSource {
    /// The periodic snapshot job.
    Job,
    /// `POST /api/v1/portfolio/reload`.
    Reload,
}

impl crate::TextEnum for SnapshotSource {
    const FIELD: &'static str = "source";
}

/// One position as it was valued in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldingValue {
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Long or short.
    pub side: PositionSide,
    /// Absolute quantity.
    pub quantity: Decimal,
    /// The price it was valued at.
    pub price: Decimal,
    /// Signed market value: spot `q·p`, futures `±q·p` (short negative).
    pub value: Decimal,
}

/// A snapshot to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPortfolioSnapshot {
    /// Cash plus positions value.
    pub total_value: Decimal,
    /// The account's cash.
    pub cash: Decimal,
    /// Spot value plus futures unrealised PnL.
    pub positions_value: Decimal,
    /// `Σ |value|` of every position.
    pub gross_exposure: Decimal,
    /// The positions.
    pub holdings: Vec<HoldingValue>,
    /// When the valuation was made.
    pub taken_at: DateTime<Utc>,
}

/// Where a snapshot goes.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotSlot {
    /// The job's snapshot of interval number `bucket` (`⌊unix time / interval⌋`): at most one
    /// per tenant and bucket, whichever process writes first.
    Interval {
        /// The interval number.
        bucket: i64,
    },
    /// An on-demand snapshot, audited with this note in its own transaction.
    OnDemand(AuditNote),
}

/// A stored snapshot (without its holdings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioSnapshot {
    /// Identifier.
    pub id: Uuid,
    /// Cash plus positions value.
    pub total_value: Decimal,
    /// Cash.
    pub cash: Decimal,
    /// Positions value.
    pub positions_value: Decimal,
    /// Gross exposure (`None` for rows written before it was recorded).
    pub gross_exposure: Option<Decimal>,
    /// Number of positions.
    pub positions: usize,
    /// Who wrote it.
    pub source: SnapshotSource,
    /// When the valuation was made.
    pub taken_at: DateTime<Utc>,
}

/// The tenant's portfolio snapshots.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PortfolioSnapshotRepo: Send + Sync {
    /// Writes a snapshot into `slot`: `None` when the interval's snapshot exists already
    /// (another process or an earlier run wrote it); an on-demand snapshot is always written,
    /// with its audit row in the same transaction.
    ///
    /// # Errors
    /// Storage failures.
    fn record(
        &self,
        actor: &Actor,
        snapshot: &NewPortfolioSnapshot,
        slot: &SnapshotSlot,
    ) -> Result<Option<PortfolioSnapshot>, RepoError>;

    /// The last snapshot of each UTC day taken at or after `since`, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    fn daily(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
    ) -> Result<Vec<PortfolioSnapshot>, RepoError>;

    /// A version stamp of the tenant's snapshots (newest `taken_at`, row count): changes
    /// whenever one is written, so caches of series built from them know to rebuild.
    ///
    /// # Errors
    /// Storage failures.
    fn version(&self, actor: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError>;
}

/// Filters of the trade list (validated: `start <= end`).
#[derive(Debug, Clone, PartialEq)]
pub struct TradeFilter {
    /// Only this symbol.
    pub symbol: Option<Symbol>,
    /// Executed at or after.
    pub start: DateTime<Utc>,
    /// Executed at or before.
    pub end: DateTime<Utc>,
}

/// One fill of the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Identifier.
    pub id: Uuid,
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Buy or sell.
    pub side: Side,
    /// Filled quantity.
    pub quantity: Decimal,
    /// Fill price.
    pub price: Decimal,
    /// Fee paid.
    pub fee: Decimal,
    /// Asset of the fee.
    pub fee_asset: Option<String>,
    /// Type of the order it filled (`market` when it has no stored order).
    pub order_type: String,
    /// Status of that order (`filled` when it has no stored order).
    pub status: String,
    /// PnL realised by the fill, when known.
    pub realized_pnl: Option<Decimal>,
    /// When it was executed.
    pub executed_at: DateTime<Utc>,
}

/// The tenant's fills.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TradeRepo: Send + Sync {
    /// A page of the tenant's trades in the filter's window, newest first (keyset on
    /// `(executed_at, id)`).
    ///
    /// # Errors
    /// A bad cursor ([`RepoError::Invalid`]); storage failures.
    fn list(
        &self,
        actor: &Actor,
        filter: &TradeFilter,
        page: &PageRequest,
    ) -> Result<Page<TradeRecord>, RepoError>;
}
