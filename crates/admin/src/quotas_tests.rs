//! The quota against a shared in-memory count (two "processes" over one store), a manual
//! clock, and a burst bucket too slow to refill during a test.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Mutex,
};

use alphapulse_domain::{
    ports::{ManualClock, MockAlertRepo, MockTenantRepo},
    Slug, Tenant, TenantStatus,
};
use chrono::TimeZone;

use super::*;

/// The database's `api_usage_daily`, in memory (shared by the two limiters of a test).
#[derive(Default)]
struct Store {
    rows: Mutex<HashMap<(TenantId, NaiveDate), u64>>,
    down: AtomicBool,
}

impl UsageRepo for Store {
    fn add_calls(
        &self,
        day: NaiveDate,
        calls: &[(TenantId, u64)],
    ) -> Result<Vec<(TenantId, u64)>, RepoError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("down".into()));
        }
        let mut rows = self.rows.lock().unwrap();
        Ok(calls
            .iter()
            .map(|(t, n)| {
                let total = rows.entry((*t, day)).or_default();
                *total += n;
                (*t, *total)
            })
            .collect())
    }

    fn total(&self, day: NaiveDate, tenant: TenantId) -> Result<u64, RepoError> {
        Ok(*self.rows.lock().unwrap().get(&(tenant, day)).unwrap_or(&0))
    }
}

fn tenant_row(id: TenantId, max_calls: i32, tier: SubscriptionTier) -> Tenant {
    Tenant {
        id,
        name: "t".into(),
        slug: Slug::parse("tenant").unwrap(),
        subscription_tier: tier,
        status: TenantStatus::Active,
        max_users: 5,
        max_api_calls_per_day: max_calls,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        metadata: serde_json::json!({}),
    }
}

fn roomy() -> BurstLimits {
    let big = Bucket::new(1_000_000, 1_000_000);
    BurstLimits {
        starter: big,
        pro: big,
        enterprise: big,
    }
}

fn limiter(store: &Arc<Store>, clock: &Arc<ManualClock>, max_calls: i32) -> Quotas {
    let mut tenants = MockTenantRepo::new();
    tenants
        .expect_get()
        .returning(move |id| Ok(tenant_row(id, max_calls, SubscriptionTier::Starter)));
    Quotas::new(store.clone(), Arc::new(tenants), clock.clone(), roomy())
}

fn noon() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap(),
    ))
}

#[test]
fn requests_are_admitted_up_to_the_limit_then_refused_until_the_day_turns() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let q = limiter(&store, &clock, 3);
    let t = TenantId::new_random();
    assert_eq!(q.admit(t), None, "limits not loaded yet");
    q.load(t).unwrap();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        match q.admit(t) {
            Some(Admission::Allowed(s)) => remaining.push(s.remaining),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(remaining, [2, 1, 0]);
    let Some(Admission::OverQuota(state)) = q.admit(t) else {
        panic!("the fourth call of a 3-call quota must be refused");
    };
    // Noon: twelve hours to the next UTC day.
    assert_eq!(
        (state.limit, state.remaining, state.reset_secs),
        (3, 0, 12 * 3600)
    );
    clock.advance(chrono::Duration::hours(12));
    assert!(
        matches!(q.admit(t), Some(Admission::Allowed(_))),
        "a new day"
    );
}

#[test]
fn two_processes_share_one_count_through_the_store() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let (a, b) = (limiter(&store, &clock, 10), limiter(&store, &clock, 10));
    let t = TenantId::new_random();
    a.load(t).unwrap();
    b.load(t).unwrap();
    for _ in 0..4 {
        assert!(matches!(a.admit(t), Some(Admission::Allowed(_))));
    }
    for _ in 0..3 {
        assert!(matches!(b.admit(t), Some(Admission::Allowed(_))));
    }
    a.flush().unwrap();
    b.flush().unwrap();
    a.flush().unwrap();
    // 7 used in all: each process now knows it (a read b's count back on its second flush,
    // with nothing new of its own to add).
    assert_eq!(store.total(clock.now().date_naive(), t).unwrap(), 7);
    let remaining = |q: &Quotas| match q.admit(t) {
        Some(Admission::Allowed(s)) => s.remaining,
        other => panic!("{other:?}"),
    };
    // Each admits one more: 7 known + 1 = 8 of 10, 2 left (neither knows the other's 8th yet).
    assert_eq!((remaining(&a), remaining(&b)), (2, 2));
    // A process started mid-day loads the day's total.
    let c = limiter(&store, &clock, 10);
    c.load(t).unwrap();
    assert_eq!(remaining(&c), 2, "7 stored + 1 = 8 of 10, 2 left");
    // Once everyone flushed, the count is 10 and every process refuses.
    for q in [&a, &b, &c, &a] {
        q.flush().unwrap();
    }
    assert_eq!(store.total(clock.now().date_naive(), t).unwrap(), 10);
    assert!(matches!(a.admit(t), Some(Admission::OverQuota(_))));
}

#[test]
fn a_failed_flush_loses_nothing() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let q = limiter(&store, &clock, 100);
    let t = TenantId::new_random();
    q.load(t).unwrap();
    for _ in 0..5 {
        q.admit(t);
    }
    store.down.store(true, Ordering::SeqCst);
    assert!(q.flush().is_err());
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(q.flush().unwrap(), 1, "one tenant flushed");
    assert_eq!(store.total(clock.now().date_naive(), t).unwrap(), 5);
}

#[test]
fn the_burst_bucket_refuses_what_exceeds_it() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let mut tenants = MockTenantRepo::new();
    tenants
        .expect_get()
        .returning(|id| Ok(tenant_row(id, 1000, SubscriptionTier::Pro)));
    let tiny = Bucket::new(1, 3);
    let burst = BurstLimits {
        pro: tiny,
        ..roomy()
    };
    let q = Quotas::new(store, Arc::new(tenants), clock, burst);
    let t = TenantId::new_random();
    q.load(t).unwrap();
    let answers: Vec<bool> = (0..5)
        .map(|_| matches!(q.admit(t), Some(Admission::Allowed(_))))
        .collect();
    // Three in the bucket; the fourth and fifth come within the same second.
    assert_eq!(answers, [true, true, true, false, false]);
    assert!(matches!(
        q.admit(t),
        Some(Admission::Burst {
            retry_after_secs: 1..
        })
    ));
}

#[test]
fn crossing_80_and_100_percent_raises_one_alert_each_per_day() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let mut alerts = MockAlertRepo::new();
    alerts
        .expect_raise()
        .withf(|_, a| a.source == AlertSource::Quota && a.dedup_key == "quota:80:2026-12-04")
        .times(1)
        .returning(|_, _| Ok(None));
    alerts
        .expect_raise()
        .withf(|_, a| a.dedup_key == "quota:100:2026-12-04")
        .times(1)
        .returning(|_, _| Ok(None));
    let q = limiter(&store, &clock, 10).with_alerts(Arc::new(alerts));
    let t = TenantId::new_random();
    q.load(t).unwrap();
    for _ in 0..8 {
        q.admit(t);
    }
    q.flush().unwrap();
    q.admit(t);
    q.flush().unwrap();
    q.admit(t);
    q.flush().unwrap();
    // Further flushes raise nothing more (the mocks would fail on a third call).
    q.flush().unwrap();
}

#[test]
fn simultaneous_loads_of_one_tenant_read_it_once() {
    let (store, clock) = (Arc::new(Store::default()), noon());
    let mut tenants = MockTenantRepo::new();
    // A slow read, so the eight loads below overlap it; a second read fails the test.
    tenants.expect_get().times(1).returning(|id| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        Ok(tenant_row(id, 10, SubscriptionTier::Starter))
    });
    let q = Arc::new(Quotas::new(store, Arc::new(tenants), clock, roomy()));
    let t = TenantId::new_random();
    let start = Arc::new(std::sync::Barrier::new(8));
    let loads: Vec<_> = (0..8)
        .map(|_| {
            let (q, start) = (q.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                q.load(t)
            })
        })
        .collect();
    for load in loads {
        load.join().unwrap().unwrap();
    }
    assert!(matches!(q.admit(t), Some(Admission::Allowed(_))));
}
