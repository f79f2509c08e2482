//! The venue's back-off: after a 429 or 418 every client of the same venue fails fast, without a
//! request, until the deadline of the injected clock passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alphapulse_domain::{
    ports::{Clock, ManualClock},
    ExchangeClient, ExchangeError, Market, OrderRequest, Side, Symbol,
};
use alphapulse_exchange::{BinanceConfig, BinanceCredentials, BinanceExchange, BinanceVenue};
use chrono::{Duration, SubsecRound, Utc};
use rust_decimal::Decimal;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::{actor, blocking, credentials, ok_fixture};

/// A venue on a manual clock standing at the current whole second (signatures still use the
/// system clock), spot on `spot` and futures on `futures`.
fn venue(spot: &str, futures: &str) -> (BinanceVenue, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
    let venue =
        BinanceVenue::with_clock(BinanceConfig::with_base_urls(spot, futures), clock.clone());
    (venue, clock)
}

/// Another tenant's account at the same venue.
fn other_tenant(venue: &BinanceVenue) -> BinanceExchange {
    BinanceExchange::new(&BinanceCredentials::new("other-key", "other-secret"), venue).unwrap()
}

fn rate_limited(secs: u64) -> ExchangeError {
    ExchangeError::RateLimited {
        retry_after_secs: secs,
    }
}

fn buy(client_order_id: &str) -> OrderRequest {
    OrderRequest {
        client_order_id: client_order_id.to_owned(),
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        market: Market::Spot,
        side: Side::Buy,
        quantity: Decimal::ONE,
        reduce_only: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_holds_every_client_of_the_venue_until_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .set_body_json(serde_json::json!({"code": -1003, "msg": "Too many requests."})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let (venue, clock) = venue(&uri, &uri);

    let (first, held, candles, clients) = blocking(move || {
        let tenant_a = BinanceExchange::new(&credentials(), &venue).unwrap();
        let tenant_b = other_tenant(&venue);
        let first = tenant_a.spot_balances(&actor());
        let held = tenant_b.spot_balances(&actor());
        let candles = tenant_b.daily_candles(&actor(), &Symbol::parse("BTCUSDT").unwrap(), 3);
        (first, held, candles, (tenant_a, tenant_b, venue))
    })
    .await;
    assert_eq!(first.unwrap_err(), rate_limited(7));
    assert_eq!(
        held.unwrap_err(),
        rate_limited(7),
        "another tenant, no request"
    );
    assert_eq!(candles.unwrap_err(), rate_limited(7), "public data too");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    clock.advance(Duration::milliseconds(6_500));
    let (tenant_a, tenant_b, venue) = clients;
    let (held, tenant_b) = blocking(move || (tenant_b.spot_balances(&actor()), tenant_b)).await;
    assert_eq!(held.unwrap_err(), rate_limited(1), "rounded up");
    assert!(venue.backing_off_until(&uri).is_some());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(header("X-MBX-APIKEY", "other-key"))
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    clock.advance(Duration::milliseconds(500));
    let balances = blocking(move || {
        let balances = tenant_b.spot_balances(&actor());
        drop((tenant_a, tenant_b, venue));
        balances
    })
    .await;
    assert_eq!(balances.unwrap().len(), 3, "the deadline has passed");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ban_holds_only_its_host() {
    let spot = MockServer::start().await;
    let futures = MockServer::start().await;
    let (venue, clock) = venue(&spot.uri(), &futures.uri());
    let until = clock.now() + Duration::seconds(120);
    let message = format!(
        "Way too many requests; IP(203.0.113.9) banned until {}. Please use the websocket for live updates to avoid bans.",
        until.timestamp_millis()
    );
    Mock::given(method("GET"))
        .and(path("/api/v3/ticker/price"))
        .respond_with(
            ResponseTemplate::new(418)
                .set_body_json(serde_json::json!({"code": -1003, "msg": message})),
        )
        .expect(1)
        .mount(&spot)
        .await;
    Mock::given(method("GET"))
        .and(path("/fapi/v2/positionRisk"))
        .respond_with(ok_fixture("futures_position_risk.json"))
        .expect(1)
        .mount(&futures)
        .await;
    let btc = [Symbol::parse("BTCUSDT").unwrap()];

    let (banned, held, positions) = blocking(move || {
        let exchange = BinanceExchange::new(&credentials(), &venue).unwrap();
        let banned = exchange.prices(&actor(), Market::Spot, &btc);
        let held = other_tenant(&venue).prices(&actor(), Market::Spot, &btc);
        let positions = exchange.futures_positions(&actor());
        (banned, held, positions)
    })
    .await;
    assert_eq!(
        banned.unwrap_err(),
        rate_limited(120),
        "the message's ban time"
    );
    assert_eq!(held.unwrap_err(), rate_limited(120));
    assert_eq!(spot.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        positions.unwrap().len(),
        2,
        "the futures host is not banned"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_count_limit_holds_only_that_accounts_orders() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .and(header("X-MBX-APIKEY", crate::common::API_KEY))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
            "code": -1015,
            "msg": "Too many new orders; current limit is 50 orders per 10 SECOND."
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v3/order"))
        .and(header("X-MBX-APIKEY", "other-key"))
        .respond_with(ok_fixture("spot_order_full.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let (venue, _clock) = venue(&uri, &uri);

    let (limited, held, reads, other) = blocking(move || {
        let spammer = BinanceExchange::new(&credentials(), &venue).unwrap();
        let limited = spammer.place_order(&actor(), &buy("ap-1"));
        let held = spammer.place_order(&actor(), &buy("ap-2"));
        let reads = spammer.spot_balances(&actor());
        let other = other_tenant(&venue).place_order(&actor(), &buy("ap-3"));
        (limited, held, reads, other)
    })
    .await;
    assert_eq!(limited.unwrap_err(), rate_limited(1));
    assert_eq!(held.unwrap_err(), rate_limited(1), "held without a request");
    assert!(reads.is_ok(), "reads are weighed per address, not held");
    assert_eq!(other.unwrap().exchange_order_id, "28");
}
