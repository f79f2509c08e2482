//! Spot: balances, ticker prices, klines, orders.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{str::FromStr, sync::Arc};

use alphapulse_domain::{ExchangeClient, Market, OrderRequest, Side, Symbol};
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer,
};

use crate::common::{actor, blocking, exchange, ok_fixture, signed, unsigned};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

pub fn sell_10_btc() -> OrderRequest {
    OrderRequest {
        client_order_id: "ap-3f9c2d1e".to_owned(),
        symbol: sym("BTCUSDT"),
        market: Market::Spot,
        side: Side::Sell,
        quantity: d("10.000"),
        reduce_only: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn balances_sum_free_and_locked_and_drop_zero_and_quote() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let balances = blocking(move || exchange(&uri).spot_balances(&actor()))
        .await
        .unwrap();

    let summary: Vec<(&str, &str, String)> = balances
        .iter()
        .map(|b| (b.symbol.as_str(), b.asset.as_str(), b.quantity.to_string()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("BTCUSDT", "BTC", "0.75000000".to_owned()),
            ("ETHUSDT", "ETH", "3.10000000".to_owned()),
            ("BNBUSDT", "BNB", "0.00010000".to_owned()),
        ]
    );
    assert!(balances.iter().all(|b| b.avg_price.is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn ticker_prices_of_the_requested_symbols() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ticker/price"))
        .and(unsigned)
        .respond_with(ok_fixture("spot_ticker_price.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let prices = blocking(move || {
        exchange(&uri).prices(
            &actor(),
            Market::Spot,
            &[sym("ETHUSDT"), sym("BTCUSDT"), sym("NOPEUSDT")],
        )
    })
    .await
    .unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[&sym("BTCUSDT")].to_string(), "67012.34000000");
    assert_eq!(prices[&sym("ETHUSDT")], d("3521.1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_symbols_asks_nothing() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let uri = server.uri();
    let (spot, futures, candles) = blocking(move || {
        let exchange = exchange(&uri);
        (
            exchange.prices(&actor(), Market::Spot, &[]),
            exchange.prices(&actor(), Market::Futures, &[]),
            exchange.daily_candles(&actor(), &sym("BTCUSDT"), 0),
        )
    })
    .await;
    assert!(spot.unwrap().is_empty());
    assert!(futures.unwrap().is_empty());
    assert!(candles.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn klines_become_daily_candles_oldest_first_with_exact_decimals() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/klines"))
        .and(query_param("symbol", "LTCBTC"))
        .and(query_param("interval", "1d"))
        .and(query_param("limit", "3"))
        .and(unsigned)
        .respond_with(ok_fixture("spot_klines.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let candles = blocking(move || exchange(&uri).daily_candles(&actor(), &sym("LTCBTC"), 3))
        .await
        .unwrap();

    assert_eq!(candles.len(), 3);
    let first = &candles[0];
    assert_eq!(first.symbol, sym("LTCBTC"));
    assert_eq!(
        first.open_time,
        Utc.with_ymd_and_hms(2017, 7, 3, 0, 0, 0).unwrap()
    );
    assert_eq!(first.open.to_string(), "0.01634790");
    assert_eq!(first.high.to_string(), "0.80000000");
    assert_eq!(first.low.to_string(), "0.01575800");
    assert_eq!(first.close.to_string(), "0.01577100");
    assert_eq!(first.volume.to_string(), "148976.11427815");
    assert_eq!(candles[2].close.to_string(), "0.01750001");
    assert_eq!(candles[2].volume.to_string(), "120000.00000001");
    assert!(candles.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert_eq!(
        candles[1].open_time - candles[0].open_time,
        chrono::Duration::days(1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn klines_out_of_order_are_sorted_and_limit_is_capped() {
    let server = MockServer::start().await;
    let mut rows: Vec<serde_json::Value> =
        serde_json::from_str(&crate::common::fixture("spot_klines.json")).unwrap();
    rows.reverse();
    Mock::given(method("GET"))
        .and(path("/api/v3/klines"))
        .and(query_param("limit", "1000"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(rows))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let candles = blocking(move || exchange(&uri).spot().daily_candles(&sym("LTCBTC"), 5_000))
        .await
        .unwrap();
    assert!(candles.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert_eq!(candles[0].open.to_string(), "0.01634790");
}

#[tokio::test(flavor = "multi_thread")]
async fn market_order_ack_averages_fills_and_sums_commission() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .and(query_param("symbol", "BTCUSDT"))
        .and(query_param("side", "SELL"))
        .and(query_param("type", "MARKET"))
        .and(query_param("quantity", "10"))
        .and(query_param("newClientOrderId", "ap-3f9c2d1e"))
        .and(query_param("newOrderRespType", "FULL"))
        .and(signed)
        .respond_with(ok_fixture("spot_order_full.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let client: Arc<dyn ExchangeClient> = Arc::new(blocking(move || exchange(&uri)).await);
    let ack = {
        let client = Arc::clone(&client);
        blocking(move || client.place_order(&actor(), &sell_10_btc()))
            .await
            .unwrap()
    };
    blocking(move || drop(client)).await;

    assert_eq!(ack.client_order_id, "ap-3f9c2d1e");
    assert_eq!(ack.exchange_order_id, "28");
    assert_eq!(ack.status, "filled");
    assert_eq!(ack.filled_quantity, d("10"));
    // (4000*1 + 3999*5 + 3998*2 + 3997*1 + 3995*1) / 10
    assert_eq!(ack.avg_price, Some(d("3998.3")));
    // 4 + 19.995 + 7.996 + 3.997 + 3.995
    assert_eq!(ack.fee, d("39.983"));
    assert_eq!(ack.created_at.timestamp_millis(), 1_507_725_176_595);
}

#[tokio::test(flavor = "multi_thread")]
async fn futures_order_is_not_sent_to_spot() {
    let uri = "http://127.0.0.1:9".to_owned();
    let result = blocking(move || {
        let mut order = sell_10_btc();
        order.market = Market::Futures;
        exchange(&uri).spot().place_market_order(&order)
    })
    .await;
    assert!(matches!(
        result,
        Err(alphapulse_domain::ExchangeError::Other(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn cash_is_the_spot_usdt_balance_plus_the_futures_usdt_wallet() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fapi/v2/balance"))
        .and(signed)
        .respond_with(ok_fixture("futures_balance.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let cash = blocking(move || exchange(&uri).cash(&actor()))
        .await
        .unwrap();
    // Spot USDT 10250.12345678 free + 100 locked; futures USDT wallet 122607.35137903.
    assert_eq!(cash, d("132957.47483581"));
}
