//! The signature and what every signed request carries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_exchange::{binance::sign::Signer, BinanceCredentials};
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, Request,
};

use crate::common::{blocking, exchange, ok_fixture};

/// The `POST /api/v3/order` SIGNED-endpoint example of Binance's spot API documentation.
#[test]
fn binance_documentation_signature_vector() {
    let credentials = BinanceCredentials::new(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    );
    let signer = Signer::new(&credentials, 5_000).unwrap();
    assert_eq!(
        signer.sign(
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        ),
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_requests_carry_key_header_timestamp_recv_window_and_signature() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(header("X-MBX-APIKEY", crate::common::API_KEY))
        .and(query_param("recvWindow", "5000"))
        .and(|r: &Request| r.url.query_pairs().any(|(k, _)| k == "timestamp"))
        .and(|r: &Request| {
            r.url.query_pairs().any(|(k, v)| {
                k == "signature"
                    && v.len() == 64
                    && v.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            })
        })
        .and(crate::common::signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    blocking(move || exchange(&uri).spot().balances())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_posts_put_every_parameter_under_the_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .and(crate::common::signed)
        // the signature is the last parameter and covers the order's own parameters
        .and(|r: &Request| {
            let query = r.url.query().unwrap_or_default();
            query.starts_with("symbol=BTCUSDT&side=SELL&type=MARKET&quantity=10&newClientOrderId=")
                && query
                    .rsplit('&')
                    .next()
                    .is_some_and(|last| last.starts_with("signature="))
        })
        .respond_with(ok_fixture("spot_order_full.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    blocking(move || {
        exchange(&uri)
            .spot()
            .place_market_order(&crate::spot::sell_10_btc())
    })
    .await
    .unwrap();
}

/// Negative control for the `signed` matcher: a request signed with another secret is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_signed_with_another_secret_does_not_verify() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(crate::common::signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(0)
        .mount(&server)
        .await;
    let uri = server.uri();
    let result = blocking(move || {
        let credentials = BinanceCredentials::new(crate::common::API_KEY, "another-secret");
        alphapulse_exchange::BinanceSpot::new(&credentials, &crate::common::venue(&uri))
            .unwrap()
            .balances()
    })
    .await;
    // wiremock answers 404 with an empty body when no mock matches
    assert!(result.is_err());
}
