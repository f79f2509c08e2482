//! The daily API usage counts: batched adds return every process's total; idle tenants are
//! read, not written.

use alphapulse_domain::ports::UsageRepo;
use alphapulse_persistence::{testing::TestDb, PgUsageRepo};
use chrono::NaiveDate;

use crate::common::tenant;

#[test]
fn batched_adds_sum_across_writers_and_days_stay_apart() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let usage = PgUsageRepo::new(t.db());
    let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let next = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    // Two "processes" add their counts for the same day.
    let mut first = usage.add_calls(day, &[(a, 4), (b, 1)]).unwrap();
    first.sort();
    let mut expected = vec![(a, 4), (b, 1)];
    expected.sort();
    assert_eq!(first, expected);
    assert_eq!(usage.add_calls(day, &[(a, 3)]).unwrap(), [(a, 7)]);
    // An idle tenant (0 new calls) is read back without being written.
    let mut idle = usage.add_calls(day, &[(a, 0), (b, 2)]).unwrap();
    idle.sort();
    let mut expected = vec![(a, 7), (b, 3)];
    expected.sort();
    assert_eq!(idle, expected);
    assert_eq!(usage.total(day, a).unwrap(), 7);
    assert_eq!(usage.total(next, a).unwrap(), 0, "a new day starts at 0");
    assert_eq!(usage.add_calls(next, &[(a, 0)]).unwrap(), [(a, 0)]);
    assert!(usage.add_calls(day, &[]).unwrap().is_empty());
}
