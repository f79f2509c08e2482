//! Error mapping end to end: status codes, venue codes, transport failures, and no secret in any
//! message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alphapulse_domain::{ExchangeClient, ExchangeError, Market, OrderRequest, Side, Symbol};
use alphapulse_exchange::{BinanceConfig, BinanceExchange, BinanceVenue};
use rust_decimal::Decimal;
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::{actor, blocking, credentials, exchange, json_fixture, API_SECRET};

fn buy() -> OrderRequest {
    OrderRequest {
        client_order_id: "ap-buy-1".to_owned(),
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        market: Market::Spot,
        side: Side::Buy,
        quantity: Decimal::ONE,
        reduce_only: false,
    }
}

fn assert_no_secret(err: &ExchangeError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(API_SECRET), "{text}");
    assert!(!text.contains("signature"), "{text}");
}

async fn balances_answered_with(response: ResponseTemplate) -> ExchangeError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .respond_with(response)
        .mount(&server)
        .await;
    let uri = server.uri();
    let err = blocking(move || exchange(&uri).spot_balances(&actor()))
        .await
        .unwrap_err();
    assert_no_secret(&err);
    err
}

#[tokio::test(flavor = "multi_thread")]
async fn http_429_uses_retry_after() {
    let err = balances_answered_with(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "7")
            .set_body_json(serde_json::json!({"code": -1003, "msg": "Too many requests."})),
    )
    .await;
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_secs: 7
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_418_is_rate_limited() {
    let err =
        balances_answered_with(ResponseTemplate::new(418).insert_header("Retry-After", "120"))
            .await;
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_secs: 120
        }
    );
    let err = balances_answered_with(ResponseTemplate::new(418)).await;
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            retry_after_secs: 60
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_key_is_auth() {
    let err = balances_answered_with(json_fixture(401, "error_rejected_mbx_key.json")).await;
    assert_eq!(
        err,
        ExchangeError::Auth(
            "Invalid API-key, IP, or permissions for action. (code -2015)".to_owned()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn insufficient_balance_is_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .respond_with(json_fixture(400, "error_insufficient_balance.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let err = blocking(move || exchange(&uri).place_order(&actor(), &buy()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ExchangeError::Rejected {
            code: -2010,
            message: "Account has insufficient balance for requested action.".to_owned()
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_503_is_unavailable() {
    let err =
        balances_answered_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
            .await;
    assert!(matches!(err, ExchangeError::Unavailable(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unparsable_success_is_other() {
    let err = balances_answered_with(
        ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html"),
    )
    .await;
    assert!(matches!(err, ExchangeError::Other(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused_is_unavailable() {
    // A port bound but never listening: connecting is refused, and while `reserved` lives no
    // other socket can bind it (no SO_REUSEADDR), so nothing else can answer in between.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let uri = format!("http://{}", reserved.local_addr().unwrap());
    let err = blocking(move || exchange(&uri).spot_balances(&actor()))
        .await
        .unwrap_err();
    assert!(matches!(err, ExchangeError::Unavailable(_)), "{err:?}");
    assert!(
        err.to_string().contains("Connection refused"),
        "refused, not another failure: {err}"
    );
    assert_no_secret(&err);
    drop(reserved);
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_is_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let uri = server.uri();
    let err = blocking(move || {
        let mut config = BinanceConfig::with_base_urls(&uri, &uri);
        config.timeout = Duration::from_millis(300);
        BinanceExchange::new(&credentials(), &BinanceVenue::new(config))
            .unwrap()
            .place_order(&actor(), &buy())
    })
    .await
    .unwrap_err();
    assert!(matches!(err, ExchangeError::Unavailable(_)), "{err:?}");
    assert_no_secret(&err);
}
