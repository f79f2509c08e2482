//! `market_candles`: shared daily market data. Tenants read it in their own scope (the
//! tenant role has SELECT only); imports run in the platform scope.

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{Actor, MarketDataRepo},
    Candle, RepoError, Symbol,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::PgConnection, prelude::*, upsert::excluded};
use rust_decimal::Decimal;

use crate::{error::Result, schema::market_candles, Db, Error};

/// The only interval stored today.
pub const DAILY: &str = "1d";

#[derive(Debug, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = market_candles, check_for_backend(diesel::pg::Pg))]
struct CandleRow {
    symbol: String,
    interval: String,
    open_time: DateTime<Utc>,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
}

impl CandleRow {
    fn into_candle(self) -> Result<Candle> {
        Ok(Candle {
            symbol: Symbol::parse(&self.symbol).map_err(|e| Error::Corrupt {
                table: "market_candles",
                message: e.to_string(),
            })?,
            open_time: self.open_time,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        })
    }
}

/// The last `limit` daily candles of `symbol`, oldest first.
///
/// # Errors
/// Database failures.
pub fn daily_candles(conn: &mut PgConnection, symbol: &Symbol, limit: u32) -> Result<Vec<Candle>> {
    let mut rows: Vec<CandleRow> = market_candles::table
        .filter(market_candles::symbol.eq(symbol.as_str()))
        .filter(market_candles::interval.eq(DAILY))
        .order(market_candles::open_time.desc())
        .limit(i64::from(limit))
        .select(CandleRow::as_select())
        .load(conn)?;
    rows.reverse();
    rows.into_iter().map(CandleRow::into_candle).collect()
}

/// The daily closes of `symbols` since `since`, oldest first per symbol (one query).
///
/// # Errors
/// Database failures; a stored symbol that is not valid (corrupt row).
pub fn daily_closes(
    conn: &mut PgConnection,
    symbols: &[Symbol],
    since: NaiveDate,
) -> Result<BTreeMap<Symbol, Vec<(NaiveDate, Decimal)>>> {
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    let start = since.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let rows: Vec<(String, DateTime<Utc>, Decimal)> = market_candles::table
        .filter(market_candles::symbol.eq_any(&names))
        .filter(market_candles::interval.eq(DAILY))
        .filter(market_candles::open_time.ge(start))
        .order((market_candles::symbol, market_candles::open_time))
        .select((
            market_candles::symbol,
            market_candles::open_time,
            market_candles::close,
        ))
        .load(conn)?;
    let mut out: BTreeMap<Symbol, Vec<(NaiveDate, Decimal)>> = BTreeMap::new();
    for (symbol, at, close) in rows {
        let symbol = Symbol::parse(&symbol).map_err(|e| Error::Corrupt {
            table: "market_candles",
            message: e.to_string(),
        })?;
        out.entry(symbol)
            .or_default()
            .push((at.date_naive(), close));
    }
    Ok(out)
}

/// The last `limit` daily candles of each of `symbols`, oldest first, in one statement (one
/// index-backed probe per symbol); symbols without data are absent.
///
/// # Errors
/// Database failures.
pub fn daily_candles_many(
    conn: &mut PgConnection,
    symbols: &[Symbol],
    limit: u32,
) -> Result<BTreeMap<Symbol, Vec<Candle>>> {
    if symbols.is_empty() || limit == 0 {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    let rows: Vec<CandleRow> = diesel::sql_query(
        "SELECT c.symbol, c.interval, c.open_time, c.open, c.high, c.low, c.close, c.volume \
         FROM unnest($1::text[]) AS s(symbol) \
         JOIN LATERAL (SELECT m.* FROM market_candles m \
             WHERE m.symbol = s.symbol AND m.interval = '1d' \
             ORDER BY m.open_time DESC LIMIT $2) c ON true \
         ORDER BY c.symbol, c.open_time",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&names)
    .bind::<diesel::sql_types::BigInt, _>(i64::from(limit))
    .load(conn)?;
    let mut out: BTreeMap<Symbol, Vec<Candle>> = BTreeMap::new();
    for row in rows {
        let candle = row.into_candle()?;
        out.entry(candle.symbol.clone()).or_default().push(candle);
    }
    Ok(out)
}

/// The latest close per symbol.
///
/// # Errors
/// Database failures.
pub fn latest_closes(
    conn: &mut PgConnection,
    symbols: &[Symbol],
) -> Result<BTreeMap<Symbol, Decimal>> {
    #[derive(QueryableByName)]
    struct Close {
        #[diesel(sql_type = diesel::sql_types::Text)]
        symbol: String,
        #[diesel(sql_type = diesel::sql_types::Numeric)]
        close: Decimal,
    }
    if symbols.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    // One index-backed probe per symbol (primary key: symbol, interval, open_time).
    let rows: Vec<Close> = diesel::sql_query(
        "SELECT s.symbol, c.close FROM unnest($1::text[]) AS s(symbol) \
         JOIN LATERAL (SELECT m.close FROM market_candles m \
             WHERE m.symbol = s.symbol AND m.interval = '1d' \
             ORDER BY m.open_time DESC LIMIT 1) c ON true",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&names)
    .load(conn)?;
    let mut out = BTreeMap::new();
    for row in rows {
        if let Ok(symbol) = Symbol::parse(&row.symbol) {
            out.insert(symbol, row.close);
        }
    }
    Ok(out)
}

/// Newest candle time and row count.
///
/// # Errors
/// Database failures.
pub fn version(conn: &mut PgConnection) -> Result<(Option<DateTime<Utc>>, i64)> {
    use diesel::dsl::{count_star, max};
    Ok(market_candles::table
        .select((max(market_candles::open_time), count_star()))
        .first(conn)?)
}

/// Inserts or replaces candles (by symbol, interval and open time).
///
/// # Errors
/// [`Error::Invalid`] for inconsistent OHLC values (check constraints).
pub fn upsert(conn: &mut PgConnection, candles: &[Candle]) -> Result<usize> {
    let mut written = 0;
    for chunk in candles.chunks(1000) {
        let rows: Vec<CandleRow> = chunk
            .iter()
            .map(|c| CandleRow {
                symbol: c.symbol.as_str().to_owned(),
                interval: DAILY.to_owned(),
                open_time: c.open_time,
                open: c.open,
                high: c.high,
                low: c.low,
                close: c.close,
                volume: c.volume,
            })
            .collect();
        written += diesel::insert_into(market_candles::table)
            .values(&rows)
            .on_conflict((
                market_candles::symbol,
                market_candles::interval,
                market_candles::open_time,
            ))
            .do_update()
            .set((
                market_candles::open.eq(excluded(market_candles::open)),
                market_candles::high.eq(excluded(market_candles::high)),
                market_candles::low.eq(excluded(market_candles::low)),
                market_candles::close.eq(excluded(market_candles::close)),
                market_candles::volume.eq(excluded(market_candles::volume)),
            ))
            .execute(conn)?;
    }
    Ok(written)
}

/// [`MarketDataRepo`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgMarketDataRepo {
    db: Db,
}

impl PgMarketDataRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl MarketDataRepo for PgMarketDataRepo {
    fn daily_candles(
        &self,
        actor: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| daily_candles(c, symbol, limit))?)
    }

    fn daily_closes(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
        since: NaiveDate,
    ) -> Result<BTreeMap<Symbol, Vec<(NaiveDate, Decimal)>>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| daily_closes(c, symbols, since))?)
    }

    fn daily_candles_many(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
        limit: u32,
    ) -> Result<BTreeMap<Symbol, Vec<Candle>>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| daily_candles_many(c, symbols, limit))?)
    }

    fn latest_closes(
        &self,
        actor: &Actor,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| latest_closes(c, symbols))?)
    }

    fn version(&self, actor: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError> {
        Ok(self.db.tenant(*actor).run(version)?)
    }

    fn import(&self, candles: &[Candle]) -> Result<usize, RepoError> {
        Ok(self.db.platform().run(|c| upsert(c, candles))?)
    }
}
