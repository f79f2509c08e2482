//! The per-tenant trading lock: one holder per tenant across connections, a bounded wait,
//! released when the guard is dropped, tenants independent of each other.

use std::time::Duration;

use alphapulse_domain::{
    ports::{Actor, TradingLocks},
    RepoError, TenantId,
};
use alphapulse_persistence::{testing::TestDb, PgTradingLocks};

#[test]
fn one_holder_per_tenant_and_released_on_drop() {
    let mut t = TestDb::new();
    let locks = PgTradingLocks::with_wait(t.db(), Duration::from_millis(200));
    let (a, b) = (
        Actor::system(TenantId::new_random()),
        Actor::system(TenantId::new_random()),
    );
    let held = locks.acquire(&a, "test").unwrap();
    // Another action of the same tenant (another connection) waits, then gives up.
    let busy = std::thread::scope(|s| s.spawn(|| locks.acquire(&a, "test")).join().unwrap());
    assert!(
        matches!(&busy, Err(RepoError::Conflict(m)) if m.contains("in progress")),
        "{:?}",
        busy.map(|_| ())
    );
    // Another tenant is not blocked.
    let other = locks.acquire(&b, "test").unwrap();
    drop(other);
    drop(held);
    // Released with the guard.
    let again = std::thread::scope(|s| s.spawn(|| locks.acquire(&a, "test")).join().unwrap());
    assert!(again.is_ok());
}
