//! Portfolio snapshots (one per tenant and interval whoever writes it, on-demand ones audited,
//! the day's last per day), the trade list (keyset pages, newest first, window and symbol
//! filters, order type and status from the order) and risk budgets (versions checked in the
//! transaction, allocations in order, audit row and idempotent answer committed with them),
//! each invisible to other tenants.

use std::sync::{Arc, Barrier};

use alphapulse_domain::{
    ports::{
        Actor, AuditRepo, BudgetAllocation, BudgetEntityType, EntityScope, IdempotencyBegin,
        IdempotencyRepo, IdempotentAnswer, NewPortfolioSnapshot, NewRiskBudget, PaperBook,
        PortfolioSnapshotRepo, RiskBudgetRepo, SnapshotSlot, SnapshotSource, TradeFilter,
        TradeRepo,
    },
    Market, OrderRequest, PageRequest, Regime, RepoError, Side, Symbol, TenantId,
};
use alphapulse_persistence::{
    testing::TestDb, PgAuditRepo, PgExchangeAccountRepo, PgIdempotencyRepo, PgPaperBook,
    PgPortfolioSnapshotRepo, PgRiskBudgetRepo, PgTenantRepo, PgTradeRepo,
};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::common::note;

fn tenant(t: &mut TestDb, slug: &str) -> TenantId {
    use alphapulse_domain::{ports::TenantRepo, NewTenant, Slug, SubscriptionTier};
    PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: slug.to_owned(),
                slug: Slug::parse(slug).unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: None,
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap()
        .id
}

fn snapshot(value: i64, at: chrono::DateTime<Utc>) -> NewPortfolioSnapshot {
    NewPortfolioSnapshot {
        total_value: Decimal::from(value),
        cash: Decimal::from(value / 2),
        positions_value: Decimal::from(value - value / 2),
        gross_exposure: Decimal::from(value / 2),
        holdings: vec![],
        taken_at: at,
    }
}

#[test]
fn one_job_snapshot_per_tenant_and_interval_even_from_racing_writers() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let now = Utc::now();
    // Eight writers (as from several processes) for each of two tenants, one bucket.
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (db, barrier) = (t.db(), barrier.clone());
            let who = if i % 2 == 0 { a } else { b };
            std::thread::spawn(move || {
                let repo = PgPortfolioSnapshotRepo::new(db);
                barrier.wait();
                repo.record(
                    &Actor::system(who),
                    &snapshot(1000 + i, now),
                    &SnapshotSlot::Interval { bucket: 42 },
                )
                .unwrap()
                .is_some()
            })
        })
        .collect();
    let written = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(written, 2, "one per tenant");
    let repo = PgPortfolioSnapshotRepo::new(t.db());
    assert_eq!(repo.version(&Actor::system(a)).unwrap().1, 1);
    assert_eq!(repo.version(&Actor::system(b)).unwrap().1, 1);
    // The next interval is another row.
    assert!(repo
        .record(
            &Actor::system(a),
            &snapshot(5, now),
            &SnapshotSlot::Interval { bucket: 43 }
        )
        .unwrap()
        .is_some());
    assert_eq!(repo.version(&Actor::system(a)).unwrap().1, 2);
}

#[test]
fn on_demand_snapshots_are_audited_and_daily_keeps_each_days_last() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let repo = PgPortfolioSnapshotRepo::new(t.db());
    let day = |d: u32, h: u32| Utc.with_ymd_and_hms(2025, 3, d, h, 0, 0).unwrap();
    for (i, at) in [day(1, 1), day(1, 23), day(2, 5), day(3, 12)]
        .into_iter()
        .enumerate()
    {
        repo.record(
            &Actor::system(a),
            &snapshot(100 + i as i64, at),
            &SnapshotSlot::Interval { bucket: i as i64 },
        )
        .unwrap();
    }
    // Two on-demand snapshots in one day: no bucket, both written, each audited.
    for v in [200, 201] {
        let s = repo
            .record(
                &Actor::system(a),
                &snapshot(v, day(3, 13)),
                &SnapshotSlot::OnDemand(note("portfolio.reload")),
            )
            .unwrap()
            .unwrap();
        assert_eq!(s.source, SnapshotSource::Reload);
    }
    let daily = repo.daily(&Actor::system(a), day(1, 0)).unwrap();
    let values: Vec<Decimal> = daily.iter().map(|s| s.total_value).collect();
    assert_eq!(values.len(), 3);
    assert_eq!(values[0], Decimal::from(101), "the 1st's last");
    assert_eq!(daily[2].taken_at, day(3, 13));
    assert_eq!(repo.daily(&Actor::system(a), day(2, 0)).unwrap().len(), 2);
    let audit = PgAuditRepo::new(t.db())
        .list(&Actor::system(a), &PageRequest::default())
        .unwrap();
    let reloads = audit
        .items
        .iter()
        .filter(|e| e.action == "portfolio.reload")
        .count();
    assert_eq!(reloads, 2);
    assert!(audit.items[0].target.starts_with("portfolio_snapshot:"));
    // B sees none of it.
    assert!(repo.daily(&Actor::system(b), day(1, 0)).unwrap().is_empty());
    assert_eq!(repo.version(&Actor::system(b)).unwrap(), (None, 0));
}

fn fill(t: &mut TestDb, who: TenantId, n: usize) {
    use alphapulse_domain::ports::{AdapterKind, ExchangeAccountRepo, NewExchangeAccount};
    let actor = Actor::system(who);
    PgExchangeAccountRepo::new(t.db())
        .activate(
            &actor,
            NewExchangeAccount {
                adapter: AdapterKind::Paper,
                label: "paper".into(),
                credentials_encrypted: None,
                paper_cash: Decimal::from(1_000_000),
                fee_rate: Decimal::new(1, 3),
            },
        )
        .unwrap();
    let book = PgPaperBook::new(t.db());
    let start = Utc::now() - Duration::days(10);
    for i in 0..n {
        let symbol = if i % 2 == 0 { "BTCUSDT" } else { "ETHUSDT" };
        book.fill(
            &actor,
            &OrderRequest {
                client_order_id: format!("c{i}"),
                symbol: Symbol::parse(symbol).unwrap(),
                market: Market::Spot,
                side: Side::Buy,
                quantity: Decimal::ONE,
                reduce_only: false,
            },
            Decimal::from(100),
            Decimal::new(1, 3),
            start + Duration::days(i as i64) + Duration::hours(12),
        )
        .unwrap();
    }
}

#[test]
fn trades_are_paged_newest_first_within_the_window_and_filtered() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    fill(&mut t, a, 9);
    fill(&mut t, b, 3);
    let repo = PgTradeRepo::new(t.db());
    let all = TradeFilter {
        symbol: None,
        start: Utc::now() - Duration::days(30),
        end: Utc::now(),
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::new(Some(4), None).unwrap();
    loop {
        let got = repo.list(&Actor::system(a), &all, &page).unwrap();
        seen.extend(got.items);
        match got.next_cursor {
            Some(c) => page = PageRequest::new(Some(4), Some(c)).unwrap(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "A's nine fills, none of B's");
    assert!(seen.windows(2).all(|w| w[0].executed_at > w[1].executed_at));
    assert!(seen
        .iter()
        .all(|t| t.order_type == "market" && t.status == "filled" && t.fee == Decimal::new(1, 1)));
    let eth = TradeFilter {
        symbol: Some(Symbol::parse("ETHUSDT").unwrap()),
        ..all.clone()
    };
    assert_eq!(
        repo.list(&Actor::system(a), &eth, &PageRequest::default())
            .unwrap()
            .items
            .len(),
        4
    );
    // The last 7 days hold the fills 3..=8 (fill i was 9.5 - i days ago).
    let week = TradeFilter {
        symbol: None,
        start: Utc::now() - Duration::days(7),
        end: Utc::now(),
    };
    assert_eq!(
        repo.list(&Actor::system(a), &week, &PageRequest::default())
            .unwrap()
            .items
            .len(),
        6
    );
    assert!(matches!(
        repo.list(
            &Actor::system(a),
            &all,
            &PageRequest::new(None, Some("garbage".into())).unwrap()
        ),
        Err(RepoError::Invalid(e)) if e.field == "cursor"
    ));
    // The account in one read: 5 BTC and 4 ETH bought at 100 + 0.1 fee each.
    let view = PgPaperBook::new(t.db())
        .account_view(&Actor::system(a))
        .unwrap();
    assert_eq!(view.cash, Decimal::from(1_000_000) - Decimal::new(9009, 1));
    let held: Vec<(String, Decimal)> = view
        .spot
        .iter()
        .map(|(b, _)| (b.symbol.to_string(), b.quantity))
        .collect();
    assert_eq!(
        held,
        [
            ("BTCUSDT".to_owned(), Decimal::from(5)),
            ("ETHUSDT".to_owned(), Decimal::from(4))
        ]
    );
    assert!(view.futures.is_empty());
    let nobody = tenant(&mut t, "tenant-c");
    let empty = PgPaperBook::new(t.db())
        .account_view(&Actor::system(nobody))
        .unwrap();
    assert_eq!((empty.spot.len(), empty.cash), (0, Decimal::ZERO));
}

fn new_budget(version: i32) -> NewRiskBudget {
    let alloc =
        |entity: &str, t: BudgetEntityType, amount: i64, markets: Vec<Market>| BudgetAllocation {
            entity: entity.into(),
            entity_type: t,
            allocated_amount: Decimal::from(amount),
            scope: EntityScope {
                markets,
                symbols: vec![],
            },
        };
    NewRiskBudget {
        version,
        allocation_method: "equal_weight".into(),
        total_budget: Decimal::from(1000),
        volatility_target: 0.15,
        leverage_limit: 1.5,
        regime: Some(Regime::Bull),
        reason: "test".into(),
        allocations: vec![
            alloc("spot", BudgetEntityType::Strategy, 600, vec![Market::Spot]),
            alloc(
                "futures",
                BudgetEntityType::Strategy,
                400,
                vec![Market::Futures],
            ),
            alloc("altcoins", BudgetEntityType::AssetClass, 1000, vec![]),
        ],
    }
}

#[test]
fn budget_versions_are_checked_audited_and_stored_with_their_answer() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let repo = PgRiskBudgetRepo::new(t.db());
    let actor = Actor::system(a);
    assert_eq!(repo.current(&actor).unwrap(), None);
    // Version 2 before 1: a conflict, nothing written.
    assert!(matches!(
        repo.save(&actor, &new_budget(2), &note("risk_budget.rebalance"), None),
        Err(RepoError::Conflict(_))
    ));
    let idem = PgIdempotencyRepo::new(t.db());
    assert_eq!(
        idem.begin(
            &actor,
            "risk_budget.rebalance",
            "key-1",
            &"a".repeat(64),
            std::time::Duration::from_secs(300)
        )
        .unwrap(),
        IdempotencyBegin::Started
    );
    let answer = IdempotentAnswer {
        scope: "risk_budget.rebalance".into(),
        key: "key-1".into(),
        status: 200,
        body: serde_json::json!({"status": "completed", "version": 1}),
    };
    let v1 = repo
        .save(
            &actor,
            &new_budget(1),
            &note("risk_budget.rebalance"),
            Some(answer),
        )
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.regime, Some(Regime::Bull));
    let entities: Vec<&str> = v1.allocations.iter().map(|a| a.entity.as_str()).collect();
    assert_eq!(entities, ["spot", "futures", "altcoins"]);
    assert_eq!(v1.allocations[0].scope.markets, vec![Market::Spot]);
    // The answer was stored with the version: the key replays it.
    assert!(matches!(
        idem.begin(&actor, "risk_budget.rebalance", "key-1", &"a".repeat(64), std::time::Duration::from_secs(300)).unwrap(),
        IdempotencyBegin::Completed { status: 200, body } if body["version"] == 1
    ));
    // Version 1 again: the race's loser gets a conflict.
    assert!(matches!(
        repo.save(&actor, &new_budget(1), &note("risk_budget.rebalance"), None),
        Err(RepoError::Conflict(_))
    ));
    let v2 = repo
        .save(&actor, &new_budget(2), &note("risk_budget.rebalance"), None)
        .unwrap();
    assert_eq!(repo.current(&actor).unwrap().unwrap().id, v2.id);
    let versions = repo
        .versions_since(&actor, Utc::now() - Duration::days(1))
        .unwrap();
    assert_eq!(versions.len(), 2);
    // Since now: only the one in force at that time.
    let in_force = repo.versions_since(&actor, Utc::now()).unwrap();
    assert_eq!(in_force.iter().map(|b| b.version).collect::<Vec<_>>(), [2]);
    let audit = PgAuditRepo::new(t.db())
        .list(&actor, &PageRequest::default())
        .unwrap();
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|e| e.action == "risk_budget.rebalance")
            .count(),
        2,
        "one row per version written, none for refused ones"
    );
    // B has no budget and cannot see A's.
    assert_eq!(repo.current(&Actor::system(b)).unwrap(), None);
    assert!(repo
        .versions_since(&Actor::system(b), Utc::now() - Duration::days(1))
        .unwrap()
        .is_empty());
}
