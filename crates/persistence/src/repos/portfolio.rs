//! `portfolio_snapshots` (the snapshot job's one row per tenant and interval, and on-demand
//! snapshots with their audit row) and the `trades` list (joined to `orders` for the order's
//! type and status).

use alphapulse_domain::{
    ports::{
        Actor, NewPortfolioSnapshot, PortfolioSnapshot, PortfolioSnapshotRepo, SnapshotSlot,
        SnapshotSource, TradeFilter, TradeRecord, TradeRepo,
    },
    Market, Page, PageRequest, RepoError, Side, Symbol, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{audit, cursor};
use crate::{
    error::Result,
    schema::{orders, portfolio_snapshots as snaps, trades},
    Db, Error,
};

#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = snaps, check_for_backend(diesel::pg::Pg))]
struct SnapshotRow {
    id: Uuid,
    total_value: Decimal,
    cash: Decimal,
    positions_value: Decimal,
    gross_exposure: Option<Decimal>,
    holdings: serde_json::Value,
    source: String,
    taken_at: DateTime<Utc>,
}

fn corrupt(table: &'static str) -> impl Fn(alphapulse_domain::ValidationError) -> Error {
    move |e| Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

impl SnapshotRow {
    fn into_snapshot(self) -> Result<PortfolioSnapshot> {
        Ok(PortfolioSnapshot {
            id: self.id,
            total_value: self.total_value,
            cash: self.cash,
            positions_value: self.positions_value,
            gross_exposure: self.gross_exposure,
            positions: self.holdings.as_array().map_or(0, Vec::len),
            source: SnapshotSource::parse_field(&self.source)
                .map_err(corrupt("portfolio_snapshots"))?,
            taken_at: self.taken_at,
        })
    }
}

/// Writes a snapshot into its slot; `None` when the interval's row exists already.
///
/// # Errors
/// Database failures.
pub fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    s: &NewPortfolioSnapshot,
    slot: &SnapshotSlot,
) -> Result<Option<PortfolioSnapshot>> {
    let holdings = serde_json::to_value(&s.holdings).map_err(|e| Error::Corrupt {
        table: "portfolio_snapshots",
        message: e.to_string(),
    })?;
    let (source, bucket) = match slot {
        SnapshotSlot::Interval { bucket } => (SnapshotSource::Job, Some(*bucket)),
        SnapshotSlot::OnDemand(_) => (SnapshotSource::Reload, None),
    };
    let row: Option<SnapshotRow> = diesel::insert_into(snaps::table)
        .values((
            snaps::tenant_id.eq(actor.tenant_id.as_uuid()),
            snaps::total_value.eq(s.total_value),
            snaps::cash.eq(s.cash),
            snaps::positions_value.eq(s.positions_value),
            snaps::gross_exposure.eq(Some(s.gross_exposure)),
            snaps::holdings.eq(&holdings),
            snaps::source.eq(source.as_str()),
            snaps::bucket.eq(bucket),
            snaps::taken_at.eq(s.taken_at),
        ))
        // The job's guarantee: one row per tenant and interval, whoever writes first.
        .on_conflict((snaps::tenant_id, snaps::bucket))
        .do_nothing()
        .returning(SnapshotRow::as_returning())
        .get_result(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let snapshot = row.into_snapshot()?;
    if let SnapshotSlot::OnDemand(note) = slot {
        audit::append(
            conn,
            &note.success(
                actor.tenant_id,
                format!("portfolio_snapshot:{}", snapshot.id),
            ),
        )?;
    }
    Ok(Some(snapshot))
}

/// The last snapshot of each UTC day since `since`, oldest first.
///
/// # Errors
/// Database failures.
pub fn daily(
    conn: &mut PgConnection,
    actor: &Actor,
    since: DateTime<Utc>,
) -> Result<Vec<PortfolioSnapshot>> {
    let rows: Vec<SnapshotRow> = diesel::sql_query(
        "SELECT DISTINCT ON ((taken_at AT TIME ZONE 'UTC')::date) \
             id, total_value, cash, positions_value, gross_exposure, holdings, source, taken_at \
         FROM portfolio_snapshots WHERE tenant_id = $1 AND taken_at >= $2 \
         ORDER BY (taken_at AT TIME ZONE 'UTC')::date, taken_at DESC, id DESC",
    )
    .bind::<diesel::sql_types::Uuid, _>(actor.tenant_id.as_uuid())
    .bind::<diesel::sql_types::Timestamptz, _>(since)
    .load(conn)?;
    rows.into_iter().map(SnapshotRow::into_snapshot).collect()
}

/// Newest `taken_at` and row count of the tenant's snapshots.
///
/// # Errors
/// Database failures.
pub fn version(conn: &mut PgConnection, actor: &Actor) -> Result<(Option<DateTime<Utc>>, i64)> {
    use diesel::dsl::{count_star, max};
    Ok(snaps::table
        .filter(snaps::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select((max(snaps::taken_at), count_star()))
        .first(conn)?)
}

/// [`PortfolioSnapshotRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgPortfolioSnapshotRepo {
    db: Db,
}

impl PgPortfolioSnapshotRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl PortfolioSnapshotRepo for PgPortfolioSnapshotRepo {
    fn record(
        &self,
        actor: &Actor,
        snapshot: &NewPortfolioSnapshot,
        slot: &SnapshotSlot,
    ) -> Result<Option<PortfolioSnapshot>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| record(c, actor, snapshot, slot))?)
    }

    fn daily(
        &self,
        actor: &Actor,
        since: DateTime<Utc>,
    ) -> Result<Vec<PortfolioSnapshot>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| daily(c, actor, since))?)
    }

    fn version(&self, actor: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| version(c, actor))?)
    }
}

type TradeRow = (
    Uuid,
    String,
    String,
    String,
    Decimal,
    Decimal,
    Decimal,
    Option<String>,
    Option<Decimal>,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
);

fn trade_of(row: TradeRow) -> Result<TradeRecord> {
    let (id, symbol, market, side, quantity, price, fee, fee_asset, pnl, at, kind, status) = row;
    Ok(TradeRecord {
        id,
        symbol: Symbol::parse(&symbol).map_err(corrupt("trades"))?,
        market: Market::parse_field(&market).map_err(corrupt("trades"))?,
        side: Side::parse_field(&side).map_err(corrupt("trades"))?,
        quantity,
        price,
        fee,
        fee_asset,
        order_type: kind.unwrap_or_else(|| "market".to_owned()),
        status: status.unwrap_or_else(|| "filled".to_owned()),
        realized_pnl: pnl,
        executed_at: at,
    })
}

/// A page of the tenant's trades in the window, newest first.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor; database failures.
pub fn list_trades(
    conn: &mut PgConnection,
    actor: &Actor,
    filter: &TradeFilter,
    page: &PageRequest,
) -> Result<Page<TradeRecord>> {
    let tenant = actor.tenant_id.as_uuid();
    let mut query = trades::table
        .left_join(
            orders::table.on(orders::tenant_id
                .eq(trades::tenant_id)
                .and(orders::id.nullable().eq(trades::order_id))),
        )
        .filter(trades::tenant_id.eq(tenant))
        .filter(trades::executed_at.ge(filter.start))
        .filter(trades::executed_at.le(filter.end))
        .select((
            trades::id,
            trades::symbol,
            trades::market,
            trades::side,
            trades::quantity,
            trades::price,
            trades::fee,
            trades::fee_asset,
            trades::realized_pnl,
            trades::executed_at,
            orders::order_type.nullable(),
            orders::status.nullable(),
        ))
        .into_boxed();
    if let Some(symbol) = &filter.symbol {
        query = query.filter(trades::symbol.eq(symbol.as_str().to_owned()));
    }
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            trades::executed_at
                .lt(at)
                .or(trades::executed_at.eq(at).and(trades::id.lt(id))),
        );
    }
    let mut rows: Vec<TradeRow> = query
        .order((trades::executed_at.desc(), trades::id.desc()))
        .limit(i64::from(page.limit()) + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.9, r.0));
    Ok(Page {
        items: rows.into_iter().map(trade_of).collect::<Result<_>>()?,
        next_cursor,
    })
}

/// [`TradeRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgTradeRepo {
    db: Db,
}

impl PgTradeRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl TradeRepo for PgTradeRepo {
    fn list(
        &self,
        actor: &Actor,
        filter: &TradeFilter,
        page: &PageRequest,
    ) -> Result<Page<TradeRecord>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| list_trades(c, actor, filter, page))?)
    }
}
