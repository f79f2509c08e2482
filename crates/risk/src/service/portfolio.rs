//! The portfolio (valuation, metrics, history), its snapshots and the trade list.

use std::{future::Future, sync::Arc};

use alphapulse_domain::{
    ports::{Actor, PortfolioSnapshot, SnapshotSlot, SnapshotSource, TradeFilter, TradeRecord},
    Market, Page, PageRequest, PositionSide, Principal, Side, Symbol,
};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::{
    book::Book,
    core::RiskCore,
    series::{PortfolioSeries, ReturnsSource, MIN_OBSERVATIONS},
    ServiceError,
};
use crate::ratios::{self, CRYPTO_PERIODS_PER_YEAR};

/// Days of returns behind the portfolio's metrics.
pub const PORTFOLIO_METRICS_DAYS: usize = 365;

/// Days of daily snapshots in `?include_history=true`.
pub const PORTFOLIO_HISTORY_DAYS: i64 = 90;

/// The default window of the trade list.
pub const DEFAULT_TRADE_WINDOW_DAYS: i64 = 7;

/// One position of the portfolio answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioPosition {
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Long or short.
    pub side: PositionSide,
    /// Absolute quantity.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Average entry price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub entry_price: Decimal,
    /// Latest price (`null` when none is known: the position is valued at its entry price).
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub current_price: Option<Decimal>,
    /// Signed market value (exposure): `q·p`, negative for a short.
    #[serde(with = "alphapulse_domain::decimal")]
    pub value: Decimal,
    /// Unrealised PnL against the entry price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub pnl: Decimal,
    /// `pnl / (quantity · entry_price) · 100`; `null` for a zero cost.
    pub pnl_percentage: Option<f64>,
}

/// Performance of the portfolio's daily returns; every ratio `null` when undefined or when
/// there are fewer than 30 returns (never NaN).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioMetrics {
    /// Annualised Sharpe ratio (risk-free 0, 365 periods a year).
    pub sharpe_ratio: Option<f64>,
    /// Annualised Sortino ratio (target 0).
    pub sortino_ratio: Option<f64>,
    /// Maximum drawdown, a positive fraction.
    pub max_drawdown: Option<f64>,
    /// Annualised volatility.
    pub volatility: Option<f64>,
    /// Compound return over the returns used (`observations` days).
    pub return_since_inception: Option<f64>,
    /// Where the returns came from.
    pub returns_source: ReturnsSource,
    /// Daily returns used.
    pub observations: usize,
}

/// One day of portfolio history (the day's last snapshot).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioHistoryPoint {
    /// When the snapshot was taken.
    pub timestamp: DateTime<Utc>,
    /// Net asset value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_value: Decimal,
    /// Cash.
    #[serde(with = "alphapulse_domain::decimal")]
    pub cash: Decimal,
    /// Spot values plus futures PnL.
    #[serde(with = "alphapulse_domain::decimal")]
    pub positions_value: Decimal,
}

/// The portfolio answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioView {
    /// Net asset value: cash + spot values + futures unrealised PnL.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_value: Decimal,
    /// The account's real cash (quote asset).
    #[serde(with = "alphapulse_domain::decimal")]
    pub cash: Decimal,
    /// Spot holdings, then futures positions.
    pub positions: Vec<PortfolioPosition>,
    /// Performance over the last 365 days of returns.
    pub metrics: PortfolioMetrics,
    /// Always `exchange`: the tenant's exchange account.
    #[cfg_attr(feature = "openapi", schema(example = "exchange"))]
    pub data_source: &'static str,
    /// When the account was read.
    pub fetched_at: DateTime<Utc>,
    /// The last 90 days of daily snapshots, oldest first (only with `include_history=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub history: Option<Vec<PortfolioHistoryPoint>>,
}

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotView {
    /// Identifier.
    pub id: Uuid,
    /// Net asset value.
    #[serde(with = "alphapulse_domain::decimal")]
    pub total_value: Decimal,
    /// Cash.
    #[serde(with = "alphapulse_domain::decimal")]
    pub cash: Decimal,
    /// Spot values plus futures PnL.
    #[serde(with = "alphapulse_domain::decimal")]
    pub positions_value: Decimal,
    /// `Σ |market value|`.
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub gross_exposure: Option<Decimal>,
    /// Number of positions.
    pub positions: usize,
    /// `job` or `reload`.
    pub source: SnapshotSource,
    /// When the valuation was made.
    pub taken_at: DateTime<Utc>,
}

impl From<PortfolioSnapshot> for SnapshotView {
    fn from(s: PortfolioSnapshot) -> Self {
        Self {
            id: s.id,
            total_value: s.total_value,
            cash: s.cash,
            positions_value: s.positions_value,
            gross_exposure: s.gross_exposure,
            positions: s.positions,
            source: s.source,
            taken_at: s.taken_at,
        }
    }
}

/// The answer of `POST /api/v1/portfolio/reload`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reloaded {
    /// `completed`.
    #[cfg_attr(feature = "openapi", schema(example = "completed"))]
    pub status: &'static str,
    /// When the account was read.
    pub timestamp: DateTime<Utc>,
    /// The snapshot written.
    pub snapshot: SnapshotView,
}

/// One trade of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TradeView {
    /// Identifier.
    pub id: Uuid,
    /// Instrument.
    pub symbol: Symbol,
    /// Spot or futures.
    pub market: Market,
    /// Buy or sell.
    pub side: Side,
    /// Filled quantity.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Fill price.
    #[serde(with = "alphapulse_domain::decimal")]
    pub price: Decimal,
    /// Fee paid.
    #[serde(with = "alphapulse_domain::decimal")]
    pub fees: Decimal,
    /// Asset of the fee.
    pub fee_asset: Option<String>,
    /// `market` or `limit`.
    pub order_type: String,
    /// The order's status (`filled`, `partially_filled`, ...).
    pub status: String,
    /// PnL the fill realised.
    #[serde(with = "alphapulse_domain::decimal::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub realized_pnl: Option<Decimal>,
    /// Execution time.
    pub timestamp: DateTime<Utc>,
}

impl From<TradeRecord> for TradeView {
    fn from(t: TradeRecord) -> Self {
        Self {
            id: t.id,
            symbol: t.symbol,
            market: t.market,
            side: t.side,
            quantity: t.quantity,
            price: t.price,
            fees: t.fee,
            fee_asset: t.fee_asset,
            order_type: t.order_type,
            status: t.status,
            realized_pnl: t.realized_pnl,
            timestamp: t.executed_at,
        }
    }
}

/// The trade list's filters as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeQuery {
    /// Only this symbol.
    pub symbol: Option<String>,
    /// Executed at or after (default: `end_time` − 7 days).
    pub start_time: Option<DateTime<Utc>>,
    /// Executed at or before (default: now).
    pub end_time: Option<DateTime<Utc>>,
}

/// Portfolio valuation, snapshots and trades.
#[derive(Debug, Clone)]
pub struct PortfolioService {
    core: Arc<RiskCore>,
}

/// The portfolio answer for `book`.
fn view_of(
    book: &Book,
    metrics: PortfolioMetrics,
    history: Option<Vec<PortfolioHistoryPoint>>,
) -> PortfolioView {
    PortfolioView {
        total_value: book.total_value(),
        cash: book.cash,
        positions: book
            .positions
            .iter()
            .map(|p| PortfolioPosition {
                symbol: p.symbol.clone(),
                market: p.market,
                side: p.side,
                quantity: p.quantity,
                entry_price: p.entry_price,
                current_price: p.price,
                value: p.market_value(),
                pnl: p.pnl(),
                pnl_percentage: p.pnl_fraction().map(|f| f * 100.0),
            })
            .collect(),
        metrics,
        data_source: "exchange",
        fetched_at: book.fetched_at,
        history,
    }
}

/// The performance block of a series (nulls below [`MIN_OBSERVATIONS`]).
pub(crate) fn metrics_of(series: &PortfolioSeries) -> PortfolioMetrics {
    let perf = (series.observations() >= MIN_OBSERVATIONS)
        .then(|| ratios::performance(&series.returns, CRYPTO_PERIODS_PER_YEAR).ok())
        .flatten();
    PortfolioMetrics {
        sharpe_ratio: perf.and_then(|p| p.sharpe_ratio),
        sortino_ratio: perf.and_then(|p| p.sortino_ratio),
        max_drawdown: perf.map(|p| p.max_drawdown),
        volatility: perf.map(|p| p.volatility),
        return_since_inception: perf.map(|p| p.return_since_inception),
        returns_source: series.source,
        observations: series.observations(),
    }
}

impl PortfolioService {
    /// The service over the shared core.
    pub fn new(core: Arc<RiskCore>) -> Self {
        Self { core }
    }

    /// The tenant's portfolio now, with metrics over the last [`PORTFOLIO_METRICS_DAYS`] of
    /// returns and, when asked, the last [`PORTFOLIO_HISTORY_DAYS`] of daily snapshots.
    ///
    /// A held symbol without enough market data leaves the metrics `null`
    /// (`observations` says how many returns there were); it does not fail the valuation.
    ///
    /// # Errors
    /// The exchange's and storage failures.
    pub fn portfolio(
        &self,
        actor: &Actor,
        include_history: bool,
    ) -> Result<PortfolioView, ServiceError> {
        let book = self.core.book(actor)?;
        let metrics = match self.core.series(actor, &book, PORTFOLIO_METRICS_DAYS) {
            Ok(series) => metrics_of(&series),
            Err(ServiceError::TooFewObservations { have, .. }) => PortfolioMetrics {
                sharpe_ratio: None,
                sortino_ratio: None,
                max_drawdown: None,
                volatility: None,
                return_since_inception: None,
                returns_source: ReturnsSource::Holdings,
                observations: have,
            },
            Err(e) => return Err(e),
        };
        let history = if include_history {
            let since = self.core.now() - Duration::days(PORTFOLIO_HISTORY_DAYS);
            Some(
                self.core
                    .ports
                    .snapshots
                    .daily(actor, since)?
                    .into_iter()
                    .map(|s| PortfolioHistoryPoint {
                        timestamp: s.taken_at,
                        total_value: s.total_value,
                        cash: s.cash,
                        positions_value: s.positions_value,
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(view_of(&book, metrics, history))
    }

    /// [`PortfolioService::portfolio`] without blocking a thread, for the common case: no
    /// history asked for, the book readable so (see [`RiskCore::book_nonblocking`]) and its
    /// series cached under fresh versions. The future answers `None` when the series is not
    /// cached (call [`PortfolioService::portfolio`] on a blocking thread, which computes and
    /// caches it); `None` at once when the book cannot be read so or history is asked for.
    pub fn portfolio_nonblocking(
        &self,
        actor: &Actor,
        include_history: bool,
    ) -> Option<impl Future<Output = Result<Option<PortfolioView>, ServiceError>> + Send + 'static>
    {
        if include_history {
            return None;
        }
        let book = self.core.book_nonblocking(actor)?;
        let (core, actor) = (self.core.clone(), *actor);
        Some(async move {
            let book = book.await?;
            Ok(core
                .cached_series(&actor, &book, PORTFOLIO_METRICS_DAYS)
                .map(|series| view_of(&book, metrics_of(&series), None)))
        })
    }

    /// Re-reads the tenant's exchange account and writes a snapshot now (audited as
    /// `portfolio.reload`).
    ///
    /// # Errors
    /// The exchange's and storage failures.
    pub fn reload(&self, principal: &Principal) -> Result<Reloaded, ServiceError> {
        let actor = principal.actor();
        let book = self.core.book(&actor)?;
        let snapshot = book.snapshot();
        let note = principal.note(
            "portfolio.reload",
            serde_json::json!({
                "total_value": snapshot.total_value.normalize().to_string(),
                "positions": snapshot.holdings.len(),
            }),
        );
        let stored = self
            .core
            .ports
            .snapshots
            .record(&actor, &snapshot, &SnapshotSlot::OnDemand(note))?
            .ok_or(alphapulse_domain::RepoError::Internal(
                "an on-demand snapshot was not written".to_owned(),
            ))?;
        self.core.forget_snapshots(actor.tenant_id);
        tracing::info!(snapshot_id = %stored.id, "portfolio snapshot written on demand");
        Ok(Reloaded {
            status: "completed",
            timestamp: book.fetched_at,
            snapshot: stored.into(),
        })
    }

    /// The snapshot job's snapshot of interval `bucket` for the tenant: `None` when that
    /// interval's snapshot exists already (another process wrote it).
    ///
    /// # Errors
    /// The exchange's and storage failures.
    pub fn job_snapshot(
        &self,
        actor: &Actor,
        bucket: i64,
    ) -> Result<Option<PortfolioSnapshot>, ServiceError> {
        let book: Book = self.core.book(actor)?;
        let written = self.core.ports.snapshots.record(
            actor,
            &book.snapshot(),
            &SnapshotSlot::Interval { bucket },
        )?;
        self.core.forget_snapshots(actor.tenant_id);
        Ok(written)
    }

    /// A page of the tenant's trades, newest first.
    ///
    /// # Errors
    /// 422 for a bad symbol, `start_time` after `end_time` or a bad cursor; storage failures.
    pub fn trades(
        &self,
        actor: &Actor,
        query: TradeQuery,
        page: &PageRequest,
    ) -> Result<Page<TradeView>, ServiceError> {
        let symbol = query.symbol.as_deref().map(Symbol::parse).transpose()?;
        let end = query.end_time.unwrap_or_else(|| self.core.now());
        let start = query.start_time.unwrap_or_else(|| {
            end.checked_sub_signed(Duration::days(DEFAULT_TRADE_WINDOW_DAYS))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        });
        if start > end {
            return Err(ServiceError::invalid(
                "start_time",
                "must not be after end_time (end_time defaults to now)",
            ));
        }
        let page = self
            .core
            .ports
            .trades
            .list(actor, &TradeFilter { symbol, start, end }, page)?;
        Ok(Page {
            items: page.items.into_iter().map(TradeView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
