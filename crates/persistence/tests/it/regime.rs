//! `PgRegimeStore` against real PostgreSQL: recording history is idempotent — the same days
//! written twice, twice in one call, or by two transactions at once never conflict — while a
//! record still replaces the stored history and raises each change alert once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::mpsc, thread};

use alphapulse_domain::{
    ports::{Actor, RegimeDay, RegimeStore, TenantRepo},
    NewTenant, Regime, Slug, SubscriptionTier,
};
use alphapulse_persistence::{repos::regime, testing::TestDb, Error, PgRegimeStore, PgTenantRepo};
use chrono::{Days, NaiveDate};
use diesel::{sql_query, sql_types::BigInt, QueryableByName, RunQueryDsl};

use crate::common::note;

type Change = (NaiveDate, Option<Regime>, Regime, f64);

fn tenant(t: &mut TestDb, slug: &str) -> Actor {
    let id = PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: slug.to_owned(),
                slug: Slug::parse(slug).unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: Some(5),
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap()
        .id;
    Actor::system(id)
}

fn day(i: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(i)
}

/// `n` days from 2024-01-01: bull for the first half, bear after, every confidence `c`.
fn history(n: u64, c: f64) -> (Vec<RegimeDay>, Vec<Change>) {
    let days = (0..n)
        .map(|i| RegimeDay {
            date: day(i),
            regime: if i < n / 2 {
                Regime::Bull
            } else {
                Regime::Bear
            },
            confidence: c,
        })
        .collect();
    let changes = vec![(day(n / 2), Some(Regime::Bull), Regime::Bear, c)];
    (days, changes)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn the_same_days_written_twice_do_not_conflict_and_a_record_replaces_the_history() {
    let mut t = TestDb::new();
    let actor = tenant(&mut t, "regime-twice");
    let store = PgRegimeStore::new(t.db());
    let (days, changes) = history(30, 0.8);
    assert_eq!(store.record(&actor, &days, &changes).unwrap(), 1);
    // Again: same days, same change; no conflict, no second alert.
    assert_eq!(store.record(&actor, &days, &changes).unwrap(), 0);
    assert_eq!(store.history(&actor, 100).unwrap(), days);
    assert_eq!(store.alerts(&actor, 10).unwrap().len(), 1);

    // One day twice in one call: the later entry wins.
    let mut doubled = days.clone();
    doubled.push(RegimeDay {
        confidence: 0.3,
        ..days[29].clone()
    });
    store.record(&actor, &doubled, &changes).unwrap();
    let stored = store.history(&actor, 100).unwrap();
    assert_eq!(stored.len(), 30);
    assert_eq!(stored[29].confidence, 0.3);

    // A shorter history replaces the longer one: no stale days are left behind.
    let (short, short_changes) = history(10, 0.6);
    store.record(&actor, &short, &short_changes).unwrap();
    assert_eq!(store.history(&actor, 100).unwrap(), short);
    assert_eq!(
        store.alerts(&actor, 10).unwrap().len(),
        2,
        "a new change day"
    );
}

/// Two fits of one tenant record at once (two API processes): the second transaction's
/// inserts wait on the first's uncommitted rows for the same days. They used to fail with a
/// unique violation (409 `regime_history_tenant_id_day_key`) once the first committed.
#[test]
fn two_transactions_recording_the_same_days_at_once_both_succeed() {
    let mut t = TestDb::new();
    let actor = tenant(&mut t, "regime-race");
    let db = t.db();
    let (first, changes) = history(40, 0.7);
    let (second, _) = history(40, 0.9);

    // Transaction 1 writes and stays open until told to commit.
    let (written_tx, written_rx) = mpsc::channel();
    let (commit_tx, commit_rx) = mpsc::channel::<()>();
    let (db1, rows1, changes1) = (db.clone(), first.clone(), changes.clone());
    let one = thread::spawn(move || {
        db1.tenant(actor).run(|c| {
            let created = regime::record(c, &actor, &rows1, &changes1)?;
            written_tx.send(()).unwrap();
            commit_rx.recv().unwrap();
            Ok::<_, Error>(created)
        })
    });
    written_rx.recv().unwrap();

    // Transaction 2 writes the same days; it blocks on transaction 1's rows.
    let (db2, changes2) = (db.clone(), changes.clone());
    let rows2 = second.clone();
    let two = thread::spawn(move || PgRegimeStore::new(db2).record(&actor, &rows2, &changes2));
    let mut monitor = t.connection();
    loop {
        let waiting: Count = sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(&mut monitor)
        .unwrap();
        if waiting.n > 0 || two.is_finished() {
            break;
        }
        thread::sleep(std::time::Duration::from_millis(10));
    }
    commit_tx.send(()).unwrap();

    assert_eq!(
        one.join().unwrap().unwrap(),
        1,
        "the first raises the alert"
    );
    assert_eq!(
        two.join().unwrap().unwrap(),
        0,
        "the second succeeds, without a second alert"
    );
    // The later transaction's values replace the earlier ones.
    let store = PgRegimeStore::new(db);
    assert_eq!(store.history(&actor, 100).unwrap(), second);
    assert_eq!(store.alerts(&actor, 10).unwrap().len(), 1);
}
