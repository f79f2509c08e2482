//! USD-M futures: positions, balances, mark prices, orders.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use alphapulse_domain::{ExchangeClient, Market, OrderRequest, PositionSide, Side, Symbol};
use rust_decimal::Decimal;
use wiremock::{
    matchers::{method, path, query_param, query_param_is_missing},
    Mock, MockServer,
};

use crate::common::{actor, blocking, exchange, ok_fixture, signed, unsigned};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn close_eth(reduce_only: bool) -> OrderRequest {
    OrderRequest {
        client_order_id: "ap-close-eth-1".to_owned(),
        symbol: sym("ETHUSDT"),
        market: Market::Futures,
        side: Side::Sell,
        quantity: d("1.250"),
        reduce_only,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn position_risk_becomes_open_positions() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fapi/v2/positionRisk"))
        .and(signed)
        .respond_with(ok_fixture("futures_position_risk.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let positions = blocking(move || exchange(&uri).futures_positions(&actor()))
        .await
        .unwrap();

    assert_eq!(positions.len(), 2, "the zero BTCUSDT row is dropped");
    let eth = &positions[0];
    assert_eq!(eth.symbol, sym("ETHUSDT"));
    assert_eq!(eth.side, PositionSide::Long);
    assert_eq!(eth.quantity.to_string(), "1.250");
    assert_eq!(eth.entry_price, d("3400.12"));
    assert_eq!(eth.mark_price, Some(d("3521.1")));
    assert_eq!(eth.leverage, d("5"));
    assert_eq!(eth.liquidation_price, Some(d("2755.81427215")));

    let sol = &positions[1];
    assert_eq!(sol.symbol, sym("SOLUSDT"));
    assert_eq!(sol.side, PositionSide::Short);
    assert_eq!(sol.quantity, d("30"));
    assert_eq!(sol.entry_price, d("145.3"));
    assert_eq!(sol.leverage, d("20"));
    assert_eq!(sol.liquidation_price, None, "\"0\" means none");
}

#[tokio::test(flavor = "multi_thread")]
async fn balances_drop_empty_assets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fapi/v2/balance"))
        .and(signed)
        .respond_with(ok_fixture("futures_balance.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let balances = blocking(move || exchange(&uri).futures().balances())
        .await
        .unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].asset, "USDT");
    assert_eq!(balances[0].balance.to_string(), "122607.35137903");
    assert_eq!(balances[0].available_balance, d("23.72469206"));
    assert_eq!(balances[0].cross_unrealized_pnl, Decimal::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn mark_prices_from_premium_index() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fapi/v1/premiumIndex"))
        .and(unsigned)
        .respond_with(ok_fixture("futures_premium_index.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let prices = blocking(move || {
        exchange(&uri).prices(&actor(), Market::Futures, &[sym("BTCUSDT"), sym("XRPUSDT")])
    })
    .await
    .unwrap();
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[&sym("BTCUSDT")].to_string(), "11793.63104562");
}

#[tokio::test(flavor = "multi_thread")]
async fn reduce_only_market_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/fapi/v1/order"))
        .and(query_param("symbol", "ETHUSDT"))
        .and(query_param("side", "SELL"))
        .and(query_param("type", "MARKET"))
        .and(query_param("quantity", "1.25"))
        .and(query_param("reduceOnly", "true"))
        .and(query_param("newClientOrderId", "ap-close-eth-1"))
        .and(query_param("newOrderRespType", "RESULT"))
        .and(signed)
        .respond_with(ok_fixture("futures_order_result.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let ack = blocking(move || exchange(&uri).place_order(&actor(), &close_eth(true)))
        .await
        .unwrap();
    assert_eq!(ack.client_order_id, "ap-close-eth-1");
    assert_eq!(ack.exchange_order_id, "22542179");
    assert_eq!(ack.status, "filled");
    assert_eq!(ack.filled_quantity, d("1.25"));
    assert_eq!(ack.avg_price, Some(d("3521")));
    assert_eq!(ack.fee, Decimal::ZERO);
    assert_eq!(ack.created_at.timestamp_millis(), 1_566_818_724_722);
}

#[tokio::test(flavor = "multi_thread")]
async fn order_without_reduce_only_omits_the_flag() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/fapi/v1/order"))
        .and(query_param_is_missing("reduceOnly"))
        .and(signed)
        .respond_with(ok_fixture("futures_order_result.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    blocking(move || {
        exchange(&uri)
            .futures()
            .place_market_order(&close_eth(false))
    })
    .await
    .unwrap();
}
