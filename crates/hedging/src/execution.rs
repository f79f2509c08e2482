//! Turning recommendations into futures market orders and placing them one by one through
//! the tenant's exchange client. A failure of one order is reported on that order and the
//! others still go ahead: nothing is hidden.
//!
//! Client order ids are derived from the caller's idempotency key when there is one, so a
//! retried request produces the same ids and the venue (or the paper ledger) refuses to fill
//! them twice.

use alphapulse_domain::{
    ports::Actor, ExchangeClient, Market, OrderRequest, PositionSide, Side, Symbol,
};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{analysis::HedgeAction, FuturesPositionView, Recommendation};

/// The outcome of one order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderOutcome {
    /// Client order id (derived from the idempotency key).
    pub client_order_id: String,
    /// Contract.
    pub symbol: Symbol,
    /// `buy` or `sell`.
    pub side: Side,
    /// Base quantity.
    #[serde(with = "alphapulse_domain::decimal")]
    pub quantity: Decimal,
    /// Reduce-only (closing or reducing a short).
    pub reduce_only: bool,
    /// `planned` (dry run), `filled`, `new`, ... or `failed`.
    pub status: String,
    /// Average fill price.
    #[serde(with = "alphapulse_domain::decimal::option")]
    pub fill_price: Option<Decimal>,
    /// Fee paid.
    #[serde(with = "alphapulse_domain::decimal::option")]
    pub fee: Option<Decimal>,
    /// The venue's id.
    pub exchange_order_id: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A prefix for client order ids: from the idempotency key (stable across retries) or random.
pub fn order_id_prefix(idempotency_key: Option<&str>, scope: &str) -> String {
    match idempotency_key {
        Some(key) => {
            let digest = Sha256::digest(format!("{scope}\0{key}").as_bytes());
            let hex = hex::encode(&digest[..10]);
            format!("h{hex}")
        }
        None => format!("r{}", &uuid::Uuid::new_v4().simple().to_string()[..20]),
    }
}

/// Orders that carry out `recommendations` (futures market orders).
pub fn plan(recommendations: &[Recommendation], prefix: &str) -> Vec<OrderRequest> {
    recommendations
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (side, reduce_only) = match r.action {
                HedgeAction::OpenShort | HedgeAction::IncreaseShort => (Side::Sell, false),
                HedgeAction::ReduceShort | HedgeAction::Close => (Side::Buy, true),
            };
            OrderRequest {
                client_order_id: format!("{prefix}-{i}"),
                symbol: r.symbol.clone(),
                market: Market::Futures,
                side,
                quantity: r.quantity,
                reduce_only,
            }
        })
        .collect()
}

/// Reduce-only orders that close every short futures position (the hedges).
pub fn plan_close(futures: &[FuturesPositionView], prefix: &str) -> Vec<OrderRequest> {
    futures
        .iter()
        .filter(|f| f.side == PositionSide::Short && f.quantity > Decimal::ZERO)
        .enumerate()
        .map(|(i, f)| OrderRequest {
            client_order_id: format!("{prefix}-{i}"),
            symbol: f.symbol.clone(),
            market: Market::Futures,
            side: Side::Buy,
            quantity: f.quantity,
            reduce_only: true,
        })
        .collect()
}

/// The planned orders as outcomes, placing nothing (dry run).
pub fn dry_run(orders: &[OrderRequest]) -> Vec<OrderOutcome> {
    orders
        .iter()
        .map(|o| outcome(o, "planned".into(), None))
        .collect()
}

fn outcome(order: &OrderRequest, status: String, error: Option<String>) -> OrderOutcome {
    OrderOutcome {
        client_order_id: order.client_order_id.clone(),
        symbol: order.symbol.clone(),
        side: order.side,
        quantity: order.quantity,
        reduce_only: order.reduce_only,
        status,
        fill_price: None,
        fee: None,
        exchange_order_id: None,
        error,
    }
}

/// Places every order, in order; each outcome says what happened to it.
pub fn place_all(
    exchange: &dyn ExchangeClient,
    actor: &Actor,
    orders: &[OrderRequest],
) -> Vec<OrderOutcome> {
    orders
        .iter()
        .map(|order| match exchange.place_order(actor, order) {
            Ok(ack) => OrderOutcome {
                status: ack.status,
                fill_price: ack.avg_price,
                fee: Some(ack.fee),
                exchange_order_id: Some(ack.exchange_order_id),
                ..outcome(order, String::new(), None)
            },
            Err(err) => {
                tracing::warn!(client_order_id = %order.client_order_id, error = %err, "hedge order failed");
                outcome(order, "failed".into(), Some(err.to_string()))
            }
        })
        .collect()
}

/// `executed` when every order went through, `failed` when none did, `partial` otherwise
/// (`nothing_to_do` for no orders).
pub fn overall_status(outcomes: &[OrderOutcome]) -> &'static str {
    let failed = outcomes.iter().filter(|o| o.status == "failed").count();
    match (outcomes.len(), failed) {
        (0, _) => "nothing_to_do",
        (_, 0) => "executed",
        (n, f) if f == n => "failed",
        _ => "partial",
    }
}

#[cfg(test)]
mod tests {
    use alphapulse_domain::{exchange::MockExchangeClient, ExchangeError, OrderAck, TenantId};
    use rust_decimal_macros::dec;

    use super::*;

    fn rec(symbol: &str, action: HedgeAction, qty: Decimal) -> Recommendation {
        Recommendation {
            symbol: Symbol::parse(symbol).unwrap(),
            action,
            quantity: qty,
            reason: String::new(),
        }
    }

    #[test]
    fn ids_are_stable_for_a_key_and_sides_follow_the_action() {
        let a = order_id_prefix(Some("key-1"), "hedging.execute");
        assert_eq!(a, order_id_prefix(Some("key-1"), "hedging.execute"));
        assert_ne!(a, order_id_prefix(Some("key-2"), "hedging.execute"));
        assert_ne!(a, order_id_prefix(Some("key-1"), "hedging.close"));
        assert!(
            a.len() + 3 <= 36,
            "Binance limits client order ids to 36 chars"
        );
        let orders = plan(
            &[
                rec("BTCUSDT", HedgeAction::OpenShort, dec!(1)),
                rec("ETHUSDT", HedgeAction::Close, dec!(2)),
            ],
            &a,
        );
        assert_eq!((orders[0].side, orders[0].reduce_only), (Side::Sell, false));
        assert_eq!((orders[1].side, orders[1].reduce_only), (Side::Buy, true));
        assert_eq!(orders[1].client_order_id, format!("{a}-1"));
    }

    #[test]
    fn a_failed_order_is_reported_and_the_rest_still_placed() {
        let mut ex = MockExchangeClient::new();
        ex.expect_place_order().times(2).returning(|_, o| {
            if o.symbol.as_str() == "ETHUSDT" {
                return Err(ExchangeError::Rejected {
                    code: -2019,
                    message: "Margin is insufficient".into(),
                });
            }
            Ok(OrderAck {
                client_order_id: o.client_order_id.clone(),
                exchange_order_id: "42".into(),
                status: "filled".into(),
                filled_quantity: o.quantity,
                avg_price: Some(dec!(100)),
                fee: dec!(0.1),
                created_at: chrono::Utc::now(),
            })
        });
        let orders = plan(
            &[
                rec("ETHUSDT", HedgeAction::OpenShort, dec!(1)),
                rec("BTCUSDT", HedgeAction::OpenShort, dec!(1)),
            ],
            "p",
        );
        let out = place_all(&ex, &Actor::system(TenantId::new_random()), &orders);
        assert_eq!(out[0].status, "failed");
        assert!(out[0].error.as_deref().unwrap().contains("-2019"));
        assert_eq!(
            (out[1].status.as_str(), out[1].fill_price),
            ("filled", Some(dec!(100)))
        );
        assert_eq!(overall_status(&out), "partial");
        assert_eq!(overall_status(&dry_run(&orders)), "executed");
        assert_eq!(overall_status(&[]), "nothing_to_do");
    }
}
