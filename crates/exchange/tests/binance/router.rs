//! The router in front of live accounts: positions cached per tenant for a few seconds, orders
//! dropping them, new credentials picked up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, ExchangeAccount, ExchangeAccountRepo, MockExchangeAccountRepo,
        MockMarketDataRepo, MockPaperBook,
    },
    ExchangeClient, Market, OrderRequest, Side, Symbol, TenantId,
};
use alphapulse_exchange::{CredentialsCipher, ExchangeRouter, PaperExchange};
use rust_decimal::Decimal;
use wiremock::{
    matchers::{header, method, path},
    Mock, MockServer,
};

use crate::common::{blocking, ok_fixture, signed, venue, API_KEY, API_SECRET};

const KEY: [u8; 32] = [3; 32];

/// Each tenant's active account: a Binance account whose stored credentials can be replaced.
#[derive(Default, Clone)]
struct Accounts(Arc<Mutex<Vec<(TenantId, ExchangeAccount)>>>);

impl Accounts {
    fn set_live(&self, tenant: TenantId, api_key: &str, api_secret: &str) {
        let plain = serde_json::json!({"api_key": api_key, "api_secret": api_secret}).to_string();
        let sealed = CredentialsCipher::new(KEY)
            .encrypt(plain.as_bytes(), tenant.as_uuid().as_bytes())
            .unwrap();
        let account = ExchangeAccount {
            id: uuid::Uuid::from_u128(7),
            adapter: AdapterKind::Binance,
            label: "binance".into(),
            credentials_encrypted: Some(sealed),
            testnet: false,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: Decimal::ZERO,
            fee_rate: Decimal::ZERO,
            created_at: chrono::Utc::now(),
        };
        let mut all = self.0.lock().unwrap();
        all.retain(|(t, _)| *t != tenant);
        all.push((tenant, account));
    }

    fn repo(&self) -> Arc<dyn ExchangeAccountRepo> {
        let accounts = self.clone();
        let mut repo = MockExchangeAccountRepo::new();
        repo.expect_active().returning(move |actor| {
            let all = accounts.0.lock().unwrap();
            Ok(all
                .iter()
                .find(|(t, _)| *t == actor.tenant_id)
                .map(|(_, a)| a.clone()))
        });
        Arc::new(repo)
    }
}

/// A router whose live accounts are on `uri`; the paper exchange must not be used.
fn router(accounts: &Accounts, uri: &str) -> ExchangeRouter {
    let repo = accounts.repo();
    let paper = PaperExchange::new(
        Arc::new(MockPaperBook::new()),
        Arc::new(MockMarketDataRepo::new()),
        repo.clone(),
    );
    ExchangeRouter::new(repo, paper, Some(CredentialsCipher::new(KEY)), venue(uri))
}

fn live_tenant(accounts: &Accounts) -> Actor {
    let actor = Actor::system(TenantId::new_random());
    accounts.set_live(actor.tenant_id, API_KEY, API_SECRET);
    actor
}

async fn position_risk_expected(server: &MockServer, times: u64) {
    Mock::given(method("GET"))
        .and(path("/fapi/v2/positionRisk"))
        .and(signed)
        .respond_with(ok_fixture("futures_position_risk.json"))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn live_positions_are_read_once_per_tenant_within_the_window() {
    let server = MockServer::start().await;
    position_risk_expected(&server, 2).await;
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ticker/price"))
        .respond_with(ok_fixture("spot_ticker_price.json"))
        .expect(1)
        .mount(&server)
        .await;
    let accounts = Accounts::default();
    let (a, b) = (live_tenant(&accounts), live_tenant(&accounts));
    let router = router(&accounts, &server.uri());

    blocking(move || {
        let first = router.futures_positions(&a).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(
            router.futures_positions(&a).unwrap(),
            first,
            "from the cache"
        );
        assert_eq!(
            router.futures_positions(&b).unwrap().len(),
            2,
            "b's own read"
        );
        let spot = router.spot_valued(&a).unwrap();
        assert_eq!(router.spot_valued(&a).unwrap(), spot, "from the cache");
        drop(router);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_drops_the_cached_positions() {
    let server = MockServer::start().await;
    position_risk_expected(&server, 2).await;
    Mock::given(method("POST"))
        .and(path("/fapi/v1/order"))
        .and(signed)
        .respond_with(ok_fixture("futures_order_result.json"))
        .expect(1)
        .mount(&server)
        .await;
    let accounts = Accounts::default();
    let actor = live_tenant(&accounts);
    let router = router(&accounts, &server.uri());
    let close = OrderRequest {
        client_order_id: "ap-close-eth-1".to_owned(),
        symbol: Symbol::parse("ETHUSDT").unwrap(),
        market: Market::Futures,
        side: Side::Sell,
        quantity: Decimal::new(125, 2),
        reduce_only: true,
    };

    blocking(move || {
        router.futures_positions(&actor).unwrap();
        router.place_order(&actor, &close).unwrap();
        router.futures_positions(&actor).unwrap();
        drop(router);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn new_credentials_are_used_once_the_account_is_read_again() {
    let server = MockServer::start().await;
    for key in [API_KEY, "rotated-key"] {
        Mock::given(method("GET"))
            .and(path("/fapi/v2/positionRisk"))
            .and(header("X-MBX-APIKEY", key))
            .respond_with(ok_fixture("futures_position_risk.json"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let accounts = Accounts::default();
    let actor = live_tenant(&accounts);
    let router = router(&accounts, &server.uri());

    blocking(move || {
        router.futures_positions(&actor).unwrap();
        accounts.set_live(actor.tenant_id, "rotated-key", "rotated-secret");
        router.forget_tenant(actor.tenant_id);
        router.futures_positions(&actor).unwrap();
        drop(router);
    })
    .await;
}

/// Key pair the venue does not accept (yet): it answers -2015 to it.
const NEW_KEY: &str = "NewKeyNotYetEnabled0000000000000000000000000000000000000000000000";
const NEW_SECRET: &str = "NewSecret0000000000000000000000000000000000000000000000000000000";

impl Accounts {
    /// The tenant's account after a rotation from (API_KEY, API_SECRET) to the new pair,
    /// with the old pair valid until `until`.
    fn set_rotated(&self, tenant: TenantId, until: chrono::DateTime<chrono::Utc>) {
        let seal = |key: &str, secret: &str| {
            let plain = serde_json::json!({"api_key": key, "api_secret": secret}).to_string();
            CredentialsCipher::new(KEY)
                .encrypt(plain.as_bytes(), tenant.as_uuid().as_bytes())
                .unwrap()
        };
        let account = ExchangeAccount {
            id: uuid::Uuid::from_u128(8),
            adapter: AdapterKind::Binance,
            label: "binance".into(),
            credentials_encrypted: Some(seal(NEW_KEY, NEW_SECRET)),
            testnet: false,
            previous_credentials_encrypted: Some(seal(API_KEY, API_SECRET)),
            previous_valid_until: Some(until),
            paper_cash: Decimal::ZERO,
            fee_rate: Decimal::ZERO,
            created_at: chrono::Utc::now(),
        };
        let mut all = self.0.lock().unwrap();
        all.retain(|(t, _)| *t != tenant);
        all.push((tenant, account));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_pair_still_signs_during_the_grace_period_and_not_after() {
    use alphapulse_domain::ports::ManualClock;
    use alphapulse_exchange::{BinanceConfig, BinanceVenue};
    use chrono::{Duration, TimeZone, Utc};

    let server = MockServer::start().await;
    // The venue accepts only the old pair (signed by API_SECRET: `signed` checks it) ...
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(signed)
        .respond_with(ok_fixture("spot_account.json"))
        .expect(2)
        .mount(&server)
        .await;
    // ... and refuses the new one as Binance refuses an unknown key.
    Mock::given(method("GET"))
        .and(path("/api/v3/account"))
        .and(header("X-MBX-APIKEY", NEW_KEY))
        .respond_with(crate::common::json_fixture(
            401,
            "error_rejected_mbx_key.json",
        ))
        .expect(3)
        .mount(&server)
        .await;
    let rotated_at = Utc.with_ymd_and_hms(2025, 12, 3, 12, 0, 0).unwrap();
    let until = rotated_at + Duration::minutes(5);
    let clock = Arc::new(ManualClock::new(rotated_at));
    let accounts = Accounts::default();
    let actor = Actor::system(TenantId::new_random());
    accounts.set_rotated(actor.tenant_id, until);
    let repo = accounts.repo();
    let paper = PaperExchange::new(
        Arc::new(MockPaperBook::new()),
        Arc::new(MockMarketDataRepo::new()),
        repo.clone(),
    );
    let venue = BinanceVenue::with_clock(
        BinanceConfig::with_base_urls(server.uri(), server.uri()),
        clock.clone(),
    );
    let router = ExchangeRouter::new(repo, paper, Some(CredentialsCipher::new(KEY)), venue);

    blocking(move || {
        // Right after the rotation, and one second before the end of the grace period: the new
        // pair is refused, the old one signs.
        assert!(!router.spot_balances(&actor).unwrap().is_empty());
        clock.set(until - Duration::seconds(1));
        assert!(!router.spot_balances(&actor).unwrap().is_empty());
        // At the end of the grace period the old pair stops signing, on the cached client too.
        clock.set(until);
        assert!(matches!(
            router.spot_balances(&actor),
            Err(alphapulse_domain::ExchangeError::Auth(_))
        ));
        drop(router);
    })
    .await;
}
