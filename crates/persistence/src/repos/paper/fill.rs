//! Changes to the paper ledger: a fill (order, trade, position and cash in one transaction,
//! idempotent per client order id) and a position set directly (demo data, tests).

use alphapulse_domain::{
    ports::Actor, FuturesPosition, Market, OrderAck, OrderRequest, PositionSide, Side, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{PositionRow, QUOTE};
use crate::{
    error::Result,
    schema::{exchange_accounts, orders, positions, trades},
    Error,
};

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

/// Fills a market order (see [`alphapulse_domain::ports::PaperBook::fill`]).
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
