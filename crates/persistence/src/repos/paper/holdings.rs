//! The paper account's holdings as the exchange port reads them: spot holdings (priced at the
//! latest closes by the `spot_holdings_priced` view), futures positions (marked by the
//! `futures_positions_marked` view) and the account view, each on a blocking connection and,
//! for the request path, on an async one ([`AsyncReads`]) with the same statements.

use alphapulse_domain::{
    ports::Actor, AccountView, FuturesPosition, Market, PositionSide, SpotBalance,
};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;

use super::{load, symbol_of, QUOTE};
use crate::{error::Result, schema::exchange_accounts, AsyncReads};

/// Spot holdings of the tenant.
///
/// # Errors
/// Database failures.
pub fn spot_holdings(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<SpotBalance>> {
    load(conn, actor, Market::Spot)?
        .into_iter()
        .map(|row| {
            let symbol = symbol_of(&row.symbol)?;
            let asset = symbol
                .as_str()
                .strip_suffix(QUOTE)
                .unwrap_or(symbol.as_str())
                .to_owned();
            Ok(SpotBalance {
                symbol,
                asset,
                quantity: row.quantity,
                avg_price: Some(row.entry_price),
            })
        })
        .collect()
}

/// A row of the `spot_holdings_priced` view: symbol, quantity, entry price, latest close.
type PricedRow = (String, Decimal, Decimal, Option<Decimal>);

/// The `spot_holdings_priced` query of one tenant, shared by the blocking and the async read
/// so both send the same statement.
macro_rules! spot_holdings_priced_query {
    ($tenant:expr) => {{
        use crate::schema::views::spot_holdings_priced as v;
        v::table
            .filter(v::tenant_id.eq($tenant))
            .order(v::symbol)
            .select((v::symbol, v::quantity, v::entry_price, v::close))
    }};
}

/// Spot holdings with the latest daily close of each symbol: one statement over the
/// `spot_holdings_priced` view (an index-backed probe of `market_candles` per holding). A
/// DSL query, so diesel prepares it once per connection and PostgreSQL reuses the plan.
///
/// # Errors
/// Database failures.
pub fn spot_holdings_priced(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Vec<(SpotBalance, Option<Decimal>)>> {
    let rows: Vec<PricedRow> = spot_holdings_priced_query!(actor.tenant_id.as_uuid()).load(conn)?;
    priced_balances(rows)
}

/// [`spot_holdings_priced`] on an async connection, in [`AsyncReads`]' pipelined read-only
/// transaction (no blocking thread, one round trip once the connection has prepared it: the
/// hot path of `GET /api/v1/positions/spot`).
///
/// # Errors
/// Database failures, [`crate::Error::Unavailable`] when no connection works.
pub async fn spot_holdings_priced_async(
    reads: &AsyncReads,
    actor: &Actor,
) -> Result<Vec<(SpotBalance, Option<Decimal>)>> {
    let rows: Vec<PricedRow> = reads
        .tenant(*actor)
        .load(spot_holdings_priced_query!(actor.tenant_id.as_uuid()))
        .await?;
    priced_balances(rows)
}

fn priced_balances(rows: Vec<PricedRow>) -> Result<Vec<(SpotBalance, Option<Decimal>)>> {
    rows.into_iter()
        .map(|(symbol, quantity, entry_price, close)| {
            let symbol = symbol_of(&symbol)?;
            let asset = symbol
                .as_str()
                .strip_suffix(QUOTE)
                .unwrap_or(symbol.as_str())
                .to_owned();
            Ok((
                SpotBalance {
                    symbol,
                    asset,
                    quantity,
                    avg_price: Some(entry_price),
                },
                close,
            ))
        })
        .collect()
}

/// Open futures positions of the tenant.
///
/// # Errors
/// Database failures.
pub fn futures_positions(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<FuturesPosition>> {
    load(conn, actor, Market::Futures)?
        .into_iter()
        .map(|row| {
            Ok(FuturesPosition {
                symbol: symbol_of(&row.symbol)?,
                side: position_side(&row.side),
                quantity: row.quantity,
                entry_price: row.entry_price,
                mark_price: None,
                leverage: row.leverage,
                liquidation_price: None,
            })
        })
        .collect()
}

/// A row of the `futures_positions_marked` view: symbol, side, quantity, entry price, leverage,
/// latest close (the paper mark).
type MarkedRow = (String, String, Decimal, Decimal, Decimal, Option<Decimal>);

/// The `futures_positions_marked` query of one tenant, shared by the blocking and the async
/// read so both send the same statement.
macro_rules! futures_positions_marked_query {
    ($tenant:expr) => {{
        use crate::schema::views::futures_positions_marked as v;
        v::table
            .filter(v::tenant_id.eq($tenant))
            .order(v::symbol)
            .select((
                v::symbol,
                v::side,
                v::quantity,
                v::entry_price,
                v::leverage,
                v::mark,
            ))
    }};
}

/// Open futures positions marked at the latest daily close of each symbol (`None` without
/// one): one statement over the `futures_positions_marked` view, the same marks
/// [`account_view`] and the paper exchange's `prices` give.
///
/// # Errors
/// Database failures.
pub fn futures_positions_marked(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Vec<FuturesPosition>> {
    let rows: Vec<MarkedRow> =
        futures_positions_marked_query!(actor.tenant_id.as_uuid()).load(conn)?;
    marked_positions(rows)
}

/// [`futures_positions_marked`] on an async connection (see [`spot_holdings_priced_async`]):
/// the request path of `GET /api/v1/positions/futures` and `/metrics`.
///
/// # Errors
/// Database failures, [`crate::Error::Unavailable`] when no connection works.
pub async fn futures_positions_marked_async(
    reads: &AsyncReads,
    actor: &Actor,
) -> Result<Vec<FuturesPosition>> {
    let rows: Vec<MarkedRow> = reads
        .tenant(*actor)
        .load(futures_positions_marked_query!(actor.tenant_id.as_uuid()))
        .await?;
    marked_positions(rows)
}

fn marked_positions(rows: Vec<MarkedRow>) -> Result<Vec<FuturesPosition>> {
    rows.into_iter()
        .map(|(symbol, side, quantity, entry_price, leverage, mark)| {
            Ok(FuturesPosition {
                symbol: symbol_of(&symbol)?,
                side: position_side(&side),
                quantity,
                entry_price,
                mark_price: mark,
                leverage,
                liquidation_price: None,
            })
        })
        .collect()
}

fn position_side(text: &str) -> PositionSide {
    if text == "short" {
        PositionSide::Short
    } else {
        PositionSide::Long
    }
}

/// The active account's cash (one row at most), shared by the blocking and the async read.
macro_rules! active_cash_query {
    ($tenant:expr) => {
        exchange_accounts::table
            .filter(exchange_accounts::tenant_id.eq($tenant))
            .filter(exchange_accounts::active.eq(true))
            .select(exchange_accounts::paper_cash)
            .limit(1)
    };
}

/// Holdings priced at the latest closes, futures marked at the latest closes, and the active
/// account's cash (zero without one), in the caller's transaction.
///
/// # Errors
/// Database failures.
pub fn account_view(conn: &mut PgConnection, actor: &Actor) -> Result<AccountView> {
    let spot = spot_holdings_priced(conn, actor)?;
    let futures = futures_positions_marked(conn, actor)?;
    let cash: Option<Decimal> = active_cash_query!(actor.tenant_id.as_uuid())
        .get_result(conn)
        .optional()?;
    Ok(AccountView {
        spot,
        futures,
        cash: cash.unwrap_or_default(),
    })
}

/// [`account_view`] on an async connection: the same three statements in one read-only
/// transaction ([`AsyncTenantRead::load3`](crate::AsyncTenantRead::load3): one round trip
/// once the connection has prepared them).
///
/// # Errors
/// Database failures, [`crate::Error::Unavailable`] when no connection works.
pub async fn account_view_async(reads: &AsyncReads, actor: &Actor) -> Result<AccountView> {
    let tenant = actor.tenant_id.as_uuid();
    let (spot, futures, cash): (Vec<PricedRow>, Vec<MarkedRow>, Vec<Decimal>) = reads
        .tenant(*actor)
        .load3(
            spot_holdings_priced_query!(tenant),
            futures_positions_marked_query!(tenant),
            active_cash_query!(tenant),
        )
        .await?;
    Ok(AccountView {
        spot: priced_balances(spot)?,
        futures: marked_positions(futures)?,
        cash: cash.into_iter().next().unwrap_or_default(),
    })
}
