//! The paper exchange's ledger in the tenant's own tables: `orders`, `trades`, `positions`
//! and the account's cash, changed together in one transaction per fill.
//!
//! Spot positions are one `long` row per symbol with the average acquisition price. Futures
//! positions are net: one row per symbol whose side is the sign of the net quantity; a fill
//! against the position reduces it (realising PnL at the entry price) and one that crosses
//! zero opens the remainder at the fill price.

use alphapulse_domain::{
    ports::{AccountViewFuture, Actor, MarkedPositionsFuture, PaperBook, PricedHoldingsFuture},
    AccountView, FuturesPosition, Market, OrderAck, OrderRequest, PositionSide, RepoError, Side,
    SpotBalance, Symbol, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    error::Result,
    schema::{exchange_accounts, orders, positions, trades},
    AsyncReads, Db, Error,
};

/// The quote asset every symbol is priced in.
pub const QUOTE: &str = "USDT";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = positions, check_for_backend(diesel::pg::Pg))]
struct PositionRow {
    symbol: String,
    side: String,
    quantity: Decimal,
    entry_price: Decimal,
    leverage: Decimal,
}

fn symbol_of(text: &str) -> Result<Symbol> {
    Symbol::parse(text).map_err(|e| Error::Corrupt {
        table: "positions",
        message: e.to_string(),
    })
}

fn load(conn: &mut PgConnection, actor: &Actor, market: Market) -> Result<Vec<PositionRow>> {
    Ok(positions::table
        .filter(positions::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(positions::market.eq(market.as_str()))
        .filter(positions::quantity.gt(Decimal::ZERO))
        .order(positions::symbol)
        .select(PositionRow::as_select())
        .load(conn)?)
}

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
/// Database failures, [`Error::Unavailable`] when no connection works.
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
/// Database failures, [`Error::Unavailable`] when no connection works.
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
/// Database failures, [`Error::Unavailable`] when no connection works.
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

/// Replaces the tenant's position in `symbol` of `market` (quantity 0 removes it).
///
/// # Errors
/// Database failures.
pub fn set_position(
    conn: &mut PgConnection,
    actor: &Actor,
    market: Market,
    p: &FuturesPosition,
) -> Result<()> {
    let tenant = actor.tenant_id.as_uuid();
    diesel::delete(
        positions::table
            .filter(positions::tenant_id.eq(tenant))
            .filter(positions::market.eq(market.as_str()))
            .filter(positions::symbol.eq(p.symbol.as_str())),
    )
    .execute(conn)?;
    if p.quantity > Decimal::ZERO {
        diesel::insert_into(positions::table)
            .values((
                positions::tenant_id.eq(tenant),
                positions::symbol.eq(p.symbol.as_str()),
                positions::market.eq(market.as_str()),
                positions::side.eq(p.side.as_str()),
                positions::quantity.eq(p.quantity),
                positions::entry_price.eq(p.entry_price),
                positions::leverage.eq(p.leverage.max(Decimal::ONE)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

type OrderFacts = (Uuid, String, Decimal, Option<Decimal>, DateTime<Utc>);

fn existing_ack(
    conn: &mut PgConnection,
    actor: &Actor,
    client_order_id: &str,
) -> Result<Option<OrderAck>> {
    let found: Option<OrderFacts> = orders::table
        .filter(orders::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(orders::client_order_id.eq(client_order_id))
        .select((
            orders::id,
            orders::status,
            orders::filled_quantity,
            orders::price,
            orders::created_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, status, filled, price, created_at)) = found else {
        return Ok(None);
    };
    let fee: Option<Decimal> = trades::table
        .filter(trades::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(trades::order_id.eq(id))
        .select(diesel::dsl::sum(trades::fee))
        .first(conn)?;
    Ok(Some(OrderAck {
        client_order_id: client_order_id.to_owned(),
        exchange_order_id: id.to_string(),
        status,
        filled_quantity: filled,
        avg_price: price,
        fee: fee.unwrap_or_default(),
        created_at,
    }))
}

/// Signed net quantity of a position row (long +, short -).
fn signed(row: &PositionRow) -> Decimal {
    if row.side == "short" {
        -row.quantity
    } else {
        row.quantity
    }
}

/// Fills a market order (see [`PaperBook::fill`]).
///
/// # Errors
/// [`Error::Conflict`] for insufficient cash or holdings, or a reduce-only order that would
/// increase or flip the position; nothing is written then.
pub fn fill(
    conn: &mut PgConnection,
    actor: &Actor,
    order: &OrderRequest,
    price: Decimal,
    fee_rate: Decimal,
    at: DateTime<Utc>,
) -> Result<OrderAck> {
    let tenant = actor.tenant_id.as_uuid();
    // Lock the account row first: fills of one tenant are serialised, so a concurrent retry
    // of the same client order id waits here and then finds the first fill.
    let cash: Decimal = exchange_accounts::table
        .filter(exchange_accounts::tenant_id.eq(tenant))
        .filter(exchange_accounts::active.eq(true))
        .select(exchange_accounts::paper_cash)
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("exchange account"))?;
    if let Some(ack) = existing_ack(conn, actor, &order.client_order_id)? {
        return Ok(ack);
    }
    if order.quantity <= Decimal::ZERO || price <= Decimal::ZERO {
        return Err(alphapulse_domain::ValidationError::new("quantity", "must be positive").into());
    }
    let notional = order.quantity * price;
    let fee = (notional * fee_rate).round_dp(8);
    let current: Option<PositionRow> = positions::table
        .filter(positions::tenant_id.eq(tenant))
        .filter(positions::market.eq(order.market.as_str()))
        .filter(positions::symbol.eq(order.symbol.as_str()))
        .select(PositionRow::as_select())
        .first(conn)
        .optional()?;
    let leverage = current.as_ref().map_or(Decimal::ONE, |p| p.leverage);
    let (new_signed, new_entry, realized, cash_delta) = match order.market {
        Market::Spot => {
            let (q0, avg0) = current
                .as_ref()
                .map_or((Decimal::ZERO, Decimal::ZERO), |p| {
                    (p.quantity, p.entry_price)
                });
            match order.side {
                Side::Buy => {
                    let q = q0 + order.quantity;
                    (
                        (q),
                        (q0 * avg0 + notional) / q,
                        Decimal::ZERO,
                        -(notional + fee),
                    )
                }
                Side::Sell => {
                    if order.quantity > q0 {
                        return Err(Error::Conflict(format!(
                            "insufficient {} holdings",
                            order.symbol
                        )));
                    }
                    (
                        q0 - order.quantity,
                        avg0,
                        (price - avg0) * order.quantity,
                        notional - fee,
                    )
                }
            }
        }
        Market::Futures => {
            let s0 = current.as_ref().map_or(Decimal::ZERO, signed);
            let e0 = current.as_ref().map_or(Decimal::ZERO, |p| p.entry_price);
            let delta = match order.side {
                Side::Buy => order.quantity,
                Side::Sell => -order.quantity,
            };
            let s1 = s0 + delta;
            if order.reduce_only
                && (s0.is_zero()
                    || s0.is_sign_positive() == delta.is_sign_positive()
                    || s1.abs() > s0.abs()
                    || (s1 != Decimal::ZERO && s1.is_sign_positive() != s0.is_sign_positive()))
            {
                return Err(Error::Conflict(
                    "reduce-only order would not reduce the position".into(),
                ));
            }
            if s0.is_zero() || s0.is_sign_positive() == delta.is_sign_positive() {
                let entry = (s0.abs() * e0 + order.quantity * price) / s1.abs();
                (s1, entry, Decimal::ZERO, -fee)
            } else {
                let closed = order.quantity.min(s0.abs());
                let pnl = if s0.is_sign_positive() {
                    (price - e0) * closed
                } else {
                    (e0 - price) * closed
                };
                let entry = if s1.is_zero() {
                    Decimal::ZERO
                } else if s1.is_sign_positive() == s0.is_sign_positive() {
                    e0
                } else {
                    price
                };
                (s1, entry, pnl, pnl - fee)
            }
        }
    };
    // Spot buys must be covered; futures losses may not exceed the cash either.
    if cash + cash_delta < Decimal::ZERO {
        return Err(Error::Conflict("insufficient USDT balance".into()));
    }
    diesel::update(
        exchange_accounts::table
            .filter(exchange_accounts::tenant_id.eq(tenant))
            .filter(exchange_accounts::active.eq(true)),
    )
    .set((
        exchange_accounts::paper_cash.eq(cash + cash_delta),
        exchange_accounts::updated_at.eq(at),
    ))
    .execute(conn)?;

    let order_id: Uuid = diesel::insert_into(orders::table)
        .values((
            orders::tenant_id.eq(tenant),
            orders::client_order_id.eq(&order.client_order_id),
            orders::symbol.eq(order.symbol.as_str()),
            orders::market.eq(order.market.as_str()),
            orders::side.eq(order.side.as_str()),
            orders::order_type.eq("market"),
            orders::quantity.eq(order.quantity),
            orders::price.eq(price),
            orders::filled_quantity.eq(order.quantity),
            orders::status.eq("filled"),
            orders::reduce_only.eq(order.reduce_only),
            orders::created_by.eq(actor.user_id.map(|u| u.as_uuid())),
            orders::created_at.eq(at),
            orders::updated_at.eq(at),
        ))
        .returning(orders::id)
        .get_result(conn)?;
    diesel::update(
        orders::table
            .filter(orders::tenant_id.eq(tenant))
            .filter(orders::id.eq(order_id)),
    )
    .set(orders::exchange_order_id.eq(order_id.to_string()))
    .execute(conn)?;
    diesel::insert_into(trades::table)
        .values((
            trades::tenant_id.eq(tenant),
            trades::order_id.eq(order_id),
            trades::symbol.eq(order.symbol.as_str()),
            trades::market.eq(order.market.as_str()),
            trades::side.eq(order.side.as_str()),
            trades::quantity.eq(order.quantity),
            trades::price.eq(price),
            trades::fee.eq(fee),
            trades::fee_asset.eq(QUOTE),
            trades::realized_pnl.eq(realized),
            trades::executed_at.eq(at),
        ))
        .execute(conn)?;
    let side = if new_signed.is_sign_negative() && !new_signed.is_zero() {
        PositionSide::Short
    } else {
        PositionSide::Long
    };
    set_position(
        conn,
        actor,
        order.market,
        &FuturesPosition {
            symbol: order.symbol.clone(),
            side,
            quantity: new_signed.abs(),
            entry_price: new_entry.round_dp(12),
            mark_price: None,
            leverage,
            liquidation_price: None,
        },
    )?;
    Ok(OrderAck {
        client_order_id: order.client_order_id.clone(),
        exchange_order_id: order_id.to_string(),
        status: "filled".to_owned(),
        filled_quantity: order.quantity,
        avg_price: Some(price),
        fee,
        created_at: at,
    })
}

/// [`PaperBook`] over PostgreSQL: every call in the tenant's scope.
#[derive(Debug, Clone)]
pub struct PgPaperBook {
    db: Db,
    reads: Option<AsyncReads>,
}

impl PgPaperBook {
    /// A book over `db`.
    pub fn new(db: Db) -> Self {
        Self { db, reads: None }
    }

    /// Serves the hot read ([`PaperBook::spot_holdings_priced_nonblocking`]) over `reads`.
    pub fn with_async_reads(mut self, reads: AsyncReads) -> Self {
        self.reads = Some(reads);
        self
    }
}

impl PaperBook for PgPaperBook {
    fn spot_holdings_priced(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| spot_holdings_priced(c, actor))?)
    }

    fn spot_holdings_priced_nonblocking(&self, actor: &Actor) -> Option<PricedHoldingsFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(spot_holdings_priced_async(&reads, &actor).await?)
        }))
    }

    fn spot_holdings(&self, actor: &Actor) -> Result<Vec<SpotBalance>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| spot_holdings(c, actor))?)
    }

    fn futures_positions(&self, actor: &Actor) -> Result<Vec<FuturesPosition>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| futures_positions(c, actor))?)
    }

    fn futures_positions_marked_nonblocking(&self, actor: &Actor) -> Option<MarkedPositionsFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(futures_positions_marked_async(&reads, &actor).await?)
        }))
    }

    fn account_view_nonblocking(&self, actor: &Actor) -> Option<AccountViewFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(async move {
            Ok(account_view_async(&reads, &actor).await?)
        }))
    }

    fn account_view(&self, actor: &Actor) -> Result<AccountView, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| account_view(c, actor))?)
    }

    fn fill(
        &self,
        actor: &Actor,
        order: &OrderRequest,
        price: Decimal,
        fee_rate: Decimal,
        at: DateTime<Utc>,
    ) -> Result<OrderAck, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| fill(c, actor, order, price, fee_rate, at))?)
    }

    fn set_position(
        &self,
        actor: &Actor,
        market: Market,
        position: &FuturesPosition,
    ) -> Result<(), RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| set_position(c, actor, market, position))?)
    }
}
