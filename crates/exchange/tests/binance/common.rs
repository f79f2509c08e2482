//! Shared set-up: credentials, the mock server, fixtures, matchers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use alphapulse_domain::{ports::Actor, TenantId};
use alphapulse_exchange::{
    binance::sign::{Signer, DEFAULT_RECV_WINDOW_MS},
    BinanceConfig, BinanceCredentials, BinanceExchange, BinanceVenue,
};
use wiremock::{Request, ResponseTemplate};

pub const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
pub const API_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

pub fn credentials() -> BinanceCredentials {
    BinanceCredentials::new(API_KEY, API_SECRET)
}

/// A venue of its own (no back-off shared with other tests) with spot and futures both on the
/// mock server.
pub fn venue(base_url: &str) -> BinanceVenue {
    BinanceVenue::new(BinanceConfig::with_base_urls(base_url, base_url))
}

/// Spot and futures both on the mock server. Build it on a blocking thread.
pub fn exchange(base_url: &str) -> BinanceExchange {
    BinanceExchange::new(&credentials(), &venue(base_url)).unwrap()
}

pub fn actor() -> Actor {
    Actor::system(TenantId::new_random())
}

/// Runs blocking client code off the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// 200 with a fixture as JSON body.
pub fn ok_fixture(name: &str) -> ResponseTemplate {
    json_fixture(200, name)
}

pub fn json_fixture(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

/// Matches requests signed the way Binance verifies them: the key header, `recvWindow`, a
/// recent `timestamp`, and a `signature` (last) that is the HMAC of everything before it.
pub fn signed(request: &Request) -> bool {
    let key_ok = request
        .headers
        .get("x-mbx-apikey")
        .is_some_and(|v| v.as_bytes() == API_KEY.as_bytes());
    let Some(query) = request.url.query() else {
        return false;
    };
    let Some((payload, signature)) = query.rsplit_once("&signature=") else {
        return false;
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_str(payload).unwrap();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let recv_window_ok = get("recvWindow").as_deref() == Some("5000");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let timestamp_ok = get("timestamp")
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t <= now && now - t < 60_000);
    let signer = Signer::new(&credentials(), DEFAULT_RECV_WINDOW_MS).unwrap();
    key_ok && recv_window_ok && timestamp_ok && signer.sign(payload) == signature
}

/// Matches requests that carry no API key and no signature (public market data).
pub fn unsigned(request: &Request) -> bool {
    !request.headers.contains_key("x-mbx-apikey")
        && !request
            .url
            .query_pairs()
            .any(|(k, _)| k == "signature" || k == "timestamp")
}
