//! Trading actions that stopped midway: a retry with the same `Idempotency-Key`, once the
//! first attempt's claim is stale, places the stored plan again with the same client order
//! ids, so what went out is reported with its first fill and nothing is placed twice.

use std::time::Duration;

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, IdempotencyBegin, IdempotencyRepo, PaperBook},
    Market, OrderRequest, PositionSide, Role, Side, Symbol,
};
use alphapulse_hedging::{execution::order_id_prefix, idempotency::request_hash};
use alphapulse_persistence::{PgIdempotencyRepo, PgPaperBook};
use diesel::RunQueryDsl;
use rust_decimal::Decimal;
use serde_json::json;

use super::common::{trading::*, *};

#[actix_web::test]
async fn a_retry_after_a_stopped_attempt_reconciles_instead_of_placing_twice() {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (tenant, _) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000")],
        &[("BTCUSDT", PositionSide::Short, "0.1", "30000")],
        &[("BTCUSDT", 1.0)],
    );
    let (_, trader) = app.user_with_token(tenant, "trader@acme.example", Role::Trader);
    let actor = Actor::system(tenant);
    let (key, scope) = ("k-stopped", "hedging.execute");

    // The first attempt: claimed the key, stored its plan (sell 1.9 BTC more: 2 held, 0.1
    // short), placed the order, and died before answering.
    let keys = PgIdempotencyRepo::new(app.repos.db.clone());
    let hash = request_hash(&json!({"target_hedge_ratio": 1.0, "dry_run": false}));
    let claim = keys
        .begin(&actor, scope, key, &hash, Duration::from_secs(300))
        .unwrap();
    assert_eq!(claim, IdempotencyBegin::Started);
    let order = OrderRequest {
        client_order_id: format!("{}-0", order_id_prefix(Some(key), scope)),
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        market: Market::Futures,
        side: Side::Sell,
        quantity: "1.9".parse().unwrap(),
        reduce_only: false,
    };
    keys.record_plan(&actor, scope, key, &serde_json::to_value([&order]).unwrap())
        .unwrap();
    let book = PgPaperBook::new(app.repos.db.clone());
    let first = book
        .fill(
            &actor,
            &order,
            Decimal::from(40_000),
            "0.001".parse().unwrap(),
            chrono::Utc::now(),
        )
        .unwrap();
    let retry = || {
        TestRequest::post()
            .uri("/api/v1/hedging/execute")
            .insert_header(bearer(&trader))
            .insert_header(("idempotency-key", key))
            .set_json(json!({"target_hedge_ratio": 1.0}))
    };

    // While the claim is fresh, a retry is told the first attempt is still running.
    let early = app.send(retry()).await;
    assert_eq!(early.status, 409, "{:?}", early.body);
    assert!(early.detail().contains("still in progress"));

    // Once it is stale, the retry takes over and reconciles.
    let mut conn = app.repos.db.owner_connection().unwrap();
    diesel::sql_query(
        "UPDATE idempotency_keys SET created_at = now() - interval '1 hour' WHERE key = 'k-stopped'",
    )
    .execute(&mut conn)
    .unwrap();
    let res = app.send(retry()).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["status"], "executed");
    let orders = res.body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["client_order_id"], order.client_order_id.as_str());
    assert_eq!(
        orders[0]["exchange_order_id"],
        first.exchange_order_id.as_str(),
        "reported with the first attempt's fill"
    );
    // Placed once: 0.1 + 1.9 short, not 0.1 + 1.9 + 1.9.
    let short: Decimal = book
        .futures_positions(&actor)
        .unwrap()
        .into_iter()
        .filter(|p| p.side == PositionSide::Short)
        .map(|p| p.quantity)
        .sum();
    assert_eq!(short, Decimal::from(2));
    // And the key is finished now: a further retry replays the answer.
    let again = app.send(retry()).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, res.body);
}
