//! The regime service against mocked ports: the freshness window driven by a manual clock,
//! one fit per data version, a single flight for concurrent requests (one fit, one history
//! write) and failures shared by the waiters of a fit but never cached.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc, Arc, Barrier, Mutex,
    },
    thread,
};

use alphapulse_domain::{
    ports::{
        Actor, ManualClock, MarketDataRepo, MockMarketDataRepo, MockRegimeStore, RegimeConfig,
        RegimeDay,
    },
    Candle, RepoError, Symbol, TenantId,
};
use alphapulse_regime::{
    service::{default_config, RegimeService, RegimeServiceError, FRESH_FOR},
    synthetic, ModelConfig,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

fn candles() -> Vec<Candle> {
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let start = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
    synthetic::regime_switching_walk(7, &symbol, 500, 30_000.0, start).0
}

fn fast() -> ModelConfig {
    ModelConfig {
        restarts: 2,
        ..ModelConfig::default()
    }
}

fn small_config() -> RegimeConfig {
    RegimeConfig {
        n_states: 3,
        lookback_days: 365,
        ..default_config()
    }
}

fn count(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

#[test]
fn fits_once_per_data_version_and_checks_the_version_only_after_the_freshness_window() {
    let data = candles();
    let version = Arc::new(Mutex::new((None::<DateTime<Utc>>, 500_i64)));
    let (version_reads, loads, records) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut market = MockMarketDataRepo::new();
    let (v, reads) = (version.clone(), version_reads.clone());
    market.expect_version().returning(move |_| {
        reads.fetch_add(1, Ordering::SeqCst);
        Ok(*v.lock().unwrap())
    });
    let loaded = loads.clone();
    market.expect_daily_candles().returning(move |_, _, _| {
        loaded.fetch_add(1, Ordering::SeqCst);
        Ok(data.clone())
    });
    let mut store = MockRegimeStore::new();
    store
        .expect_config()
        .returning(|_| Ok(Some(small_config())));
    let recorded = records.clone();
    store
        .expect_record()
        .withf(|_, days, changes| days.len() == 365 && !changes.is_empty())
        .returning(move |_, _, changes| {
            recorded.fetch_add(1, Ordering::SeqCst);
            Ok(changes.len())
        });
    let clock = Arc::new(ManualClock::new(noon()));
    let service =
        RegimeService::new(Arc::new(market), Arc::new(store), fast()).with_clock(clock.clone());
    let actor = Actor::system(TenantId::new_random());
    let step = |what: &str, expected: (usize, usize, usize)| {
        assert_eq!(
            (count(&version_reads), count(&loads), count(&records)),
            expected,
            "{what}: (version reads, candle loads, history writes)"
        );
    };

    // t = 0: cold, one fit.
    let first = service.current(&actor).unwrap();
    step("cold", (1, 1, 1));
    assert_eq!(first.snapshot.n_states, 3);
    assert_eq!(first.trained_at, noon(), "trained_at comes from the clock");

    // t = 4 s: inside the window, served without asking the database anything.
    clock.advance(Duration::seconds(4));
    let second = service.current(&actor).unwrap();
    assert!(Arc::ptr_eq(&first, &second), "served from the cache");
    step("fresh", (1, 1, 1));

    // t = 5 s: the window (FRESH_FOR) has passed; the version is read again, is unchanged, and
    // the same snapshot is served without a refit.
    assert_eq!(FRESH_FOR, std::time::Duration::from_secs(5));
    clock.advance(Duration::seconds(1));
    let third = service.current(&actor).unwrap();
    assert!(Arc::ptr_eq(&first, &third), "same version: no refit");
    step("stale, same version", (2, 1, 1));

    // t = 9 s: 4 s after that check, fresh again.
    clock.advance(Duration::seconds(4));
    service.current(&actor).unwrap();
    step("fresh after the renewed check", (2, 1, 1));

    // t = 10 s: a new candle arrived; the next check refits once.
    *version.lock().unwrap() = (Some(noon()), 501);
    clock.advance(Duration::seconds(1));
    let fourth = service.current(&actor).unwrap();
    assert!(!Arc::ptr_eq(&first, &fourth), "new version: new fit");
    assert_eq!(fourth.trained_at, noon() + Duration::seconds(10));
    step("new version", (3, 2, 2));
    let fifth = service.current(&actor).unwrap();
    assert!(Arc::ptr_eq(&fourth, &fifth));
    step("fresh after the refit", (3, 2, 2));
}

#[test]
fn a_new_configuration_refits() {
    let data = candles();
    let mut market = MockMarketDataRepo::new();
    market.expect_version().returning(|_| Ok((None, 500)));
    market
        .expect_daily_candles()
        .times(2)
        .returning(move |_, _, _| Ok(data.clone()));
    let mut store = MockRegimeStore::new();
    let updated = Arc::new(Mutex::new(DateTime::<Utc>::UNIX_EPOCH));
    let u = updated.clone();
    store.expect_config().returning(move |_| {
        Ok(Some(RegimeConfig {
            updated_at: *u.lock().unwrap(),
            ..small_config()
        }))
    });
    store.expect_record().times(2).returning(|_, _, _| Ok(0));
    let clock = Arc::new(ManualClock::new(noon()));
    let service =
        RegimeService::new(Arc::new(market), Arc::new(store), fast()).with_clock(clock.clone());
    let actor = Actor::system(TenantId::new_random());
    let before = service.current(&actor).unwrap();
    *updated.lock().unwrap() = noon();
    clock.advance(Duration::seconds(6));
    let after = service.current(&actor).unwrap();
    assert!(!Arc::ptr_eq(&before, &after));
}

#[test]
fn new_market_data_refits() {
    let data = candles();
    let mut market = MockMarketDataRepo::new();
    let mut version = 0;
    market.expect_version().returning(move |_| {
        version += 1;
        Ok((None, version))
    });
    market
        .expect_daily_candles()
        .times(2)
        .returning(move |_, _, _| Ok(data.clone()));
    let mut store = MockRegimeStore::new();
    store.expect_config().returning(|_| Ok(None));
    store.expect_record().times(2).returning(|_, _, _| Ok(0));
    let service = RegimeService::new(Arc::new(market), Arc::new(store), fast())
        .with_freshness(std::time::Duration::ZERO);
    let actor = Actor::system(TenantId::new_random());
    service.current(&actor).unwrap();
    service.current(&actor).unwrap();
}

#[test]
fn no_candles_is_no_data() {
    let mut market = MockMarketDataRepo::new();
    market.expect_version().returning(|_| Ok((None, 0)));
    market
        .expect_daily_candles()
        .returning(|_, _, _| Ok(vec![]));
    let mut store = MockRegimeStore::new();
    store.expect_config().returning(|_| Ok(None));
    let service = RegimeService::new(Arc::new(market), Arc::new(store), fast());
    let err = service
        .current(&Actor::system(TenantId::new_random()))
        .unwrap_err();
    assert!(matches!(err, RegimeServiceError::NoData), "{err}");
}

/// The bug this guards: 48 simultaneous cold `GET /regime/history` each fitted the model and
/// raced to insert the same history rows (409 on `regime_history_tenant_id_day_key`).
#[test]
fn concurrent_cold_requests_fit_once_and_write_history_once() {
    const THREADS: usize = 16;
    let data = candles();
    let mut market = MockMarketDataRepo::new();
    market.expect_version().returning(|_| Ok((None, 500)));
    market
        .expect_daily_candles()
        .times(1)
        .returning(move |_, _, _| Ok(data.clone()));
    let mut store = MockRegimeStore::new();
    store
        .expect_config()
        .returning(|_| Ok(Some(small_config())));
    store
        .expect_record()
        .times(1)
        .withf(|_, days, changes| days.len() == 365 && !changes.is_empty())
        .returning(|_, _, changes| Ok(changes.len()));
    store
        .expect_history()
        .times(THREADS / 2)
        .returning(|_, _| Ok(Vec::<RegimeDay>::new()));
    let service = Arc::new(RegimeService::new(
        Arc::new(market),
        Arc::new(store),
        fast(),
    ));
    let actor = Actor::system(TenantId::new_random());
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (service, start) = (service.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                // Half through `history` (the endpoint of the bug), half through `current`.
                if i % 2 == 0 {
                    service.history(&actor, 30).unwrap();
                }
                service.current(&actor).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        results.iter().all(|r| Arc::ptr_eq(r, &results[0])),
        "every caller shares the one fit"
    );
    // `times(1)` on candles and record: the mocks panic on a second fit or history write, and
    // verify the single call when the service drops them.
    drop(results);
    drop(service);
}

const OUTAGE: &str = "candle store down";

/// Market data whose first candle load blocks until released and then fails; later loads
/// succeed.
struct GatedMarket {
    data: Vec<Candle>,
    version_reads: AtomicUsize,
    loads: AtomicUsize,
    released: AtomicBool,
    /// A load started while the first one was still running.
    overlapped: AtomicBool,
    started: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl MarketDataRepo for GatedMarket {
    fn daily_candles(&self, _: &Actor, _: &Symbol, _: u32) -> Result<Vec<Candle>, RepoError> {
        if self.loads.fetch_add(1, Ordering::SeqCst) == 0 {
            self.started.lock().unwrap().send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
            return Err(RepoError::Unavailable(OUTAGE.into()));
        }
        if !self.released.load(Ordering::SeqCst) {
            self.overlapped.store(true, Ordering::SeqCst);
        }
        Ok(self.data.clone())
    }

    fn latest_closes(
        &self,
        _: &Actor,
        _: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, RepoError> {
        Ok(BTreeMap::new())
    }

    fn daily_closes(
        &self,
        _: &Actor,
        _: &[Symbol],
        _: chrono::NaiveDate,
    ) -> Result<BTreeMap<Symbol, Vec<(chrono::NaiveDate, Decimal)>>, RepoError> {
        // The regime service reads candles, not closes.
        Err(RepoError::Internal("not used by the regime service".into()))
    }

    fn version(&self, _: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError> {
        self.version_reads.fetch_add(1, Ordering::SeqCst);
        Ok((None, 500))
    }

    fn import(&self, _: &[Candle]) -> Result<usize, RepoError> {
        Ok(0)
    }
}

/// One attempt: a leader starts the fit and blocks in it; waiters join; the fit fails.
/// `None` when a waiter only reached the flight after it had failed (then it fits on its own
/// and the attempt proves nothing).
fn failed_flight_attempt(waiters: usize) -> Option<()> {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let market = Arc::new(GatedMarket {
        data: candles(),
        version_reads: AtomicUsize::new(0),
        loads: AtomicUsize::new(0),
        released: AtomicBool::new(false),
        overlapped: AtomicBool::new(false),
        started: Mutex::new(started_tx),
        release: Mutex::new(release_rx),
    });
    let mut store = MockRegimeStore::new();
    store
        .expect_config()
        .returning(|_| Ok(Some(small_config())));
    store.expect_record().returning(|_, _, _| Ok(0));
    let service = Arc::new(RegimeService::new(market.clone(), Arc::new(store), fast()));
    let actor = Actor::system(TenantId::new_random());
    let call = |service: &Arc<RegimeService>| {
        let service = service.clone();
        thread::spawn(move || service.current(&actor))
    };

    let leader = call(&service);
    started_rx.recv().unwrap();
    let others: Vec<_> = (0..waiters).map(|_| call(&service)).collect();
    // Every waiter has read the data version, the last step before joining the flight; give
    // them a moment to join it. (If one is late, the attempt is retried, never failed.)
    while market.version_reads.load(Ordering::SeqCst) < 1 + waiters {
        thread::yield_now();
    }
    thread::sleep(std::time::Duration::from_millis(50));
    market.released.store(true, Ordering::SeqCst);
    release_tx.send(()).unwrap();

    let is_outage = |r: &Result<_, RegimeServiceError>| matches!(r, Err(RegimeServiceError::Repo(RepoError::Unavailable(m))) if m == OUTAGE);
    let led = leader.join().unwrap();
    assert!(is_outage(&led), "the leader gets its own failure");
    let results: Vec<_> = others.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        !market.overlapped.load(Ordering::SeqCst),
        "a second fit of the same tenant and version started while the first was running"
    );
    if market.loads.load(Ordering::SeqCst) > 1 {
        return None;
    }
    for r in &results {
        assert!(
            is_outage(r),
            "a waiter gets the flight's error, got {:?}",
            r.as_ref().map(|_| ())
        );
    }
    // The failure was not cached: the next request fits again, and succeeds.
    service.current(&actor).unwrap();
    assert_eq!(market.loads.load(Ordering::SeqCst), 2);
    Some(())
}

#[test]
fn waiters_of_a_failed_fit_share_its_error_and_the_failure_is_not_cached() {
    for _ in 0..20 {
        if failed_flight_attempt(4).is_some() {
            return;
        }
    }
    panic!("in 20 attempts, some waiter always reached the fit only after it had failed");
}
