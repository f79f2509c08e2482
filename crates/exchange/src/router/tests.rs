//! Routing and the account cache, without a network: paper accounts and live accounts that
//! fail before any request. Live reads against a mock venue are in `tests/binance/router.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Barrier,
};

use alphapulse_domain::{
    ports::{MockExchangeAccountRepo, MockMarketDataRepo, MockPaperBook},
    RepoError,
};

use super::*;
use crate::BinanceConfig;

fn account(adapter: AdapterKind, credentials_encrypted: Option<String>) -> ExchangeAccount {
    ExchangeAccount {
        id: uuid::Uuid::nil(),
        adapter,
        label: "main".into(),
        credentials_encrypted,
        testnet: false,
        previous_credentials_encrypted: None,
        previous_valid_until: None,
        paper_cash: Decimal::ONE,
        fee_rate: Decimal::ZERO,
        created_at: chrono::Utc::now(),
    }
}

fn paper_book(positions_reads: usize) -> MockPaperBook {
    let mut book = MockPaperBook::new();
    book.expect_futures_positions()
        .times(positions_reads)
        .returning(|_| Ok(Vec::new()));
    book
}

/// A router over `accounts`; the venue is unreachable (port 9 refuses), so no test here may
/// reach it.
fn router(
    accounts: MockExchangeAccountRepo,
    book: MockPaperBook,
    cipher: Option<CredentialsCipher>,
) -> ExchangeRouter {
    let accounts: Arc<dyn ExchangeAccountRepo> = Arc::new(accounts);
    let paper = PaperExchange::new(
        Arc::new(book),
        Arc::new(MockMarketDataRepo::new()),
        accounts.clone(),
    );
    // The config alone makes the router's own venue.
    let config = BinanceConfig::with_base_urls("http://127.0.0.1:9", "http://127.0.0.1:9");
    ExchangeRouter::new(accounts, paper, cipher, config)
}

fn actor() -> Actor {
    Actor::system(TenantId::new_random())
}

#[test]
fn paper_reads_are_not_cached_but_the_account_lookup_is() {
    let mut accounts = MockExchangeAccountRepo::new();
    accounts
        .expect_active()
        .times(1)
        .returning(|_| Ok(Some(account(AdapterKind::Paper, None))));
    let router = router(accounts, paper_book(3), None);
    let actor = actor();
    for _ in 0..3 {
        assert!(router.futures_positions(&actor).unwrap().is_empty());
    }
}

#[test]
fn tenants_without_an_account_trade_on_paper() {
    let mut accounts = MockExchangeAccountRepo::new();
    accounts.expect_active().times(2).returning(|_| Ok(None));
    let router = router(accounts, paper_book(2), None);
    router.futures_positions(&actor()).unwrap();
    router.futures_positions(&actor()).unwrap();
}

#[test]
fn concurrent_first_use_looks_the_account_up_once() {
    let mut accounts = MockExchangeAccountRepo::new();
    accounts.expect_active().times(1).returning(|_| {
        // Keep the lookup in flight while the other threads arrive.
        std::thread::sleep(std::time::Duration::from_millis(50));
        Ok(Some(account(AdapterKind::Paper, None)))
    });
    let threads = 8;
    let router = router(accounts, paper_book(threads), None);
    let actor = actor();
    let start = Barrier::new(threads);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                start.wait();
                router.futures_positions(&actor).unwrap();
            });
        }
    });
}

#[test]
fn lookup_failures_are_not_cached() {
    let mut accounts = MockExchangeAccountRepo::new();
    let calls = AtomicUsize::new(0);
    accounts.expect_active().times(2).returning(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(RepoError::Unavailable("pool timed out".into()))
        } else {
            Ok(None)
        }
    });
    let router = router(accounts, paper_book(1), None);
    let actor = actor();
    assert!(matches!(
        router.futures_positions(&actor),
        Err(ExchangeError::Unavailable(_))
    ));
    router.futures_positions(&actor).unwrap();
}

#[test]
fn forget_tenant_reads_the_account_again() {
    let mut accounts = MockExchangeAccountRepo::new();
    accounts.expect_active().times(2).returning(|_| Ok(None));
    let router = router(accounts, paper_book(3), None);
    let actor = actor();
    router.futures_positions(&actor).unwrap();
    router.futures_positions(&actor).unwrap();
    router.forget_tenant(actor.tenant_id);
    router.futures_positions(&actor).unwrap();
}

/// The error of a futures positions read by a tenant whose active account is a Binance account
/// with `sealed(tenant)` as its stored credentials.
fn live_error(
    cipher: Option<CredentialsCipher>,
    sealed: impl Fn(TenantId) -> Option<String>,
) -> ExchangeError {
    let actor = actor();
    let sealed = sealed(actor.tenant_id);
    let mut accounts = MockExchangeAccountRepo::new();
    accounts
        .expect_active()
        .returning(move |_| Ok(Some(account(AdapterKind::Binance, sealed.clone()))));
    router(accounts, MockPaperBook::new(), cipher)
        .futures_positions(&actor)
        .unwrap_err()
}

fn key() -> CredentialsCipher {
    CredentialsCipher::new([1; 32])
}

fn sealed_for(tenant: TenantId, plain: &[u8]) -> String {
    key().encrypt(plain, tenant.as_uuid().as_bytes()).unwrap()
}

#[test]
fn live_accounts_need_a_key_and_readable_credentials() {
    let auth = |m: &str| ExchangeError::Auth(m.into());
    let valid = |t| Some(sealed_for(t, br#"{"api_key":"k","api_secret":"s"}"#));
    assert_eq!(
        live_error(None, valid),
        auth("no credentials key configured")
    );
    assert_eq!(
        live_error(Some(key()), |_| None),
        auth("account has no credentials")
    );
    assert_eq!(
        live_error(Some(key()), |_| Some(sealed_for(
            TenantId::new_random(),
            b"{}"
        ))),
        auth("stored credentials cannot be decrypted"),
        "sealed for another tenant"
    );
    assert_eq!(
        live_error(Some(CredentialsCipher::new([2; 32])), valid),
        auth("stored credentials cannot be decrypted"),
        "another key"
    );
    assert_eq!(
        live_error(Some(key()), |t| Some(sealed_for(t, br#"{"api_key":"k"}"#))),
        auth("stored credentials are malformed")
    );
}

#[test]
fn debug_prints_no_secret() {
    let router = router(
        MockExchangeAccountRepo::new(),
        MockPaperBook::new(),
        Some(CredentialsCipher::new([0xAB; 32])),
    );
    let debug = format!("{router:?}");
    assert!(debug.starts_with("ExchangeRouter"), "{debug}");
    assert!(!debug.contains("171"), "{debug}");
}

/// The non-blocking spot read is offered only when it needs no blocking work: the tenant's
/// account already cached and not a live venue. Otherwise the caller takes the blocking path
/// (which also fills the cache).
#[test]
fn nonblocking_reads_only_for_cached_paper_accounts() {
    let priced = || {
        let mut book = MockPaperBook::new();
        book.expect_spot_holdings_priced_nonblocking()
            .returning(|_| Some(Box::pin(async { Ok(Vec::new()) })));
        book.expect_futures_positions_marked_nonblocking()
            .returning(|_| Some(Box::pin(async { Err(RepoError::NotFound("account")) })));
        book.expect_spot_holdings_priced()
            .returning(|_| Ok(Vec::new()));
        book
    };
    let paper = actor();
    let mut accounts = MockExchangeAccountRepo::new();
    accounts
        .expect_active()
        .times(1)
        .returning(|_| Ok(Some(account(AdapterKind::Paper, None))));
    let paper_router = router(accounts, priced(), None);
    assert!(
        paper_router.spot_valued_nonblocking(&paper).is_none(),
        "account not cached yet: a blocking lookup would be needed"
    );
    assert!(paper_router.futures_marked_nonblocking(&paper).is_none());
    paper_router.spot_valued(&paper).unwrap();
    let read = paper_router
        .spot_valued_nonblocking(&paper)
        .expect("cached paper account");
    let answer = block_on(read);
    assert!(answer.unwrap().is_empty());
    // The book's failure arrives as the exchange's (a missing account: NoAccount).
    let futures = paper_router
        .futures_marked_nonblocking(&paper)
        .expect("cached paper account");
    assert!(matches!(block_on(futures), Err(ExchangeError::NoAccount)));

    let mut accounts = MockExchangeAccountRepo::new();
    accounts
        .expect_active()
        .times(1)
        .returning(|_| Ok(Some(account(AdapterKind::Binance, Some("sealed".into())))));
    let live_router = router(accounts, priced(), Some(key()));
    let live = actor();
    let _ = live_router.spot_valued(&live); // fills the cache; the venue itself is unreachable
    assert!(
        live_router.spot_valued_nonblocking(&live).is_none(),
        "a live venue is a blocking HTTP client"
    );
    assert!(live_router.futures_marked_nonblocking(&live).is_none());
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
