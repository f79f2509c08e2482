//! The desk's protocol against mocked ports: the lock is taken for real actions only, a
//! replay places nothing, a failure before any order frees the key and writes no audit row,
//! a busy lock is a conflict.

use std::sync::Arc;

use alphapulse_domain::{
    exchange::MockExchangeClient,
    ports::{
        IdempotencyBegin, MockAuditRepo, MockIdempotencyRepo, MockTenantRepo, MockTradingLocks,
        TradingGuard,
    },
    AuditId, ExchangeError, Principal, RepoError, Role, TenantId, UserId,
};
use serde_json::json;

use super::*;

struct Guard;
impl TradingGuard for Guard {}

fn caller() -> Principal {
    Principal {
        tenant_id: TenantId::new_random(),
        user_id: UserId::new_random(),
        role: Role::Trader,
        request_id: Some("req-1".into()),
        client_request_id: None,
    }
}

struct Mocks {
    exchange: MockExchangeClient,
    tenants: MockTenantRepo,
    keys: MockIdempotencyRepo,
    audit: MockAuditRepo,
    locks: MockTradingLocks,
}

impl Mocks {
    fn new() -> Self {
        Self {
            exchange: MockExchangeClient::new(),
            tenants: MockTenantRepo::new(),
            keys: MockIdempotencyRepo::new(),
            audit: MockAuditRepo::new(),
            locks: MockTradingLocks::new(),
        }
    }

    fn desk(self) -> HedgingDesk {
        HedgingDesk::new(
            Arc::new(self.exchange),
            Arc::new(self.tenants),
            Arc::new(self.keys),
            Arc::new(self.audit),
            Arc::new(self.locks),
        )
    }
}

fn key(text: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey::parse(text).unwrap())
}

#[test]
fn a_replay_answers_the_saved_result_and_places_nothing() {
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .times(1)
        .returning(|_, _| Ok(Box::new(Guard)));
    m.keys.expect_begin().times(1).returning(|_, _, _, _, _| {
        Ok(IdempotencyBegin::Completed {
            status: 200,
            body: json!({"status": "executed"}),
        })
    });
    // No exchange call and no audit row: the mocks have no expectations for them.
    let answer = m
        .desk()
        .execute(&caller(), key("k-1"), Some(0.5), false)
        .unwrap();
    assert_eq!(
        answer,
        Answer::Replayed {
            status: 200,
            body: json!({"status": "executed"})
        }
    );
}

#[test]
fn a_key_used_with_another_body_is_a_conflict() {
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .returning(|_, _| Ok(Box::new(Guard)));
    m.keys
        .expect_begin()
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::Mismatch));
    let err = m.desk().close(&caller(), key("k-1"), false).unwrap_err();
    assert!(matches!(err, DeskError::Key(KeyError::Mismatch)), "{err:?}");
}

#[test]
fn a_failure_before_any_order_frees_the_key_and_writes_no_audit_row() {
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .returning(|_, _| Ok(Box::new(Guard)));
    m.keys
        .expect_begin()
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::Started));
    m.keys
        .expect_release()
        .withf(|_, scope, key| scope == "hedging.close" && key == "k-2")
        .times(1)
        .returning(|_, _, _| Ok(()));
    m.exchange
        .expect_futures_positions()
        .returning(|_| Err(ExchangeError::Unavailable("down".into())));
    let err = m.desk().close(&caller(), key("k-2"), false).unwrap_err();
    assert!(matches!(err, DeskError::Positions(_)), "{err:?}");
}

#[test]
fn a_dry_run_takes_no_lock_places_nothing_and_is_audited() {
    let mut m = Mocks::new();
    // No `expect_acquire`: taking the lock would fail the test.
    m.exchange
        .expect_futures_positions()
        .returning(|_| Ok(Vec::new()));
    m.audit
        .expect_append()
        .withf(|e| e.action == "hedging.close" && e.details["status"] == "dry_run")
        .times(1)
        .returning(|_| Ok(AuditId::new_random()));
    let answer = m.desk().close(&caller(), None, true).unwrap();
    let Answer::Fresh(closed) = answer else {
        panic!("a fresh answer was expected");
    };
    assert_eq!((closed.status, closed.closed.len()), ("dry_run", 0));
}

#[test]
fn a_busy_lock_is_a_conflict_and_nothing_else_happens() {
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .returning(|_, _| Err(RepoError::Conflict("another trading action".into())));
    let err = m
        .desk()
        .execute(&caller(), key("k-3"), Some(1.0), false)
        .unwrap_err();
    assert!(
        matches!(err, DeskError::Repo(RepoError::Conflict(_))),
        "{err:?}"
    );
}

#[test]
fn a_target_outside_zero_to_one_is_invalid_before_anything_runs() {
    let err = Mocks::new()
        .desk()
        .execute(&caller(), None, Some(1.5), false)
        .unwrap_err();
    assert!(matches!(err, DeskError::Invalid(e) if e.field == "target_hedge_ratio"));
}

#[test]
fn a_fresh_keyed_action_stores_its_plan_before_placing() {
    use alphapulse_domain::{OrderAck, PositionSide, Symbol};
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .returning(|_, _| Ok(Box::new(Guard)));
    m.keys
        .expect_begin()
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::Started));
    let position = alphapulse_domain::FuturesPosition {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        side: PositionSide::Short,
        quantity: rust_decimal::Decimal::ONE,
        entry_price: rust_decimal::Decimal::from(100),
        mark_price: Some(rust_decimal::Decimal::from(100)),
        leverage: rust_decimal::Decimal::ONE,
        liquidation_price: None,
    };
    m.exchange
        .expect_futures_positions()
        .returning(move |_| Ok(vec![position.clone()]));
    let recorded = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = recorded.clone();
    m.keys
        .expect_record_plan()
        .times(1)
        .returning(move |_, _, _, plan| {
            seen.lock().unwrap().push("plan".into());
            assert_eq!(plan[0]["symbol"], "BTCUSDT");
            Ok(())
        });
    let order_seen = recorded.clone();
    m.exchange
        .expect_place_order()
        .times(1)
        .returning(move |_, o| {
            order_seen.lock().unwrap().push("order".into());
            Ok(OrderAck {
                client_order_id: o.client_order_id.clone(),
                exchange_order_id: "1".into(),
                status: "filled".into(),
                filled_quantity: o.quantity,
                avg_price: Some(rust_decimal::Decimal::from(100)),
                fee: rust_decimal::Decimal::ZERO,
                created_at: chrono::Utc::now(),
            })
        });
    m.keys
        .expect_complete()
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(()));
    let answer = m.desk().close(&caller(), key("k-4"), false).unwrap();
    assert!(matches!(answer, Answer::Fresh(ref c) if c.status == "executed"));
    assert_eq!(
        *recorded.lock().unwrap(),
        ["plan", "order"],
        "the plan is stored first"
    );
}

#[test]
fn a_resumed_action_places_its_stored_plan_again_without_replanning() {
    use alphapulse_domain::{Market, OrderAck, OrderRequest, Side, Symbol};
    let stored = vec![OrderRequest {
        client_order_id: "hkey-0".into(),
        symbol: Symbol::parse("ETHUSDT").unwrap(),
        market: Market::Futures,
        side: Side::Buy,
        quantity: rust_decimal::Decimal::from(2),
        reduce_only: true,
    }];
    let plan = serde_json::to_value(&stored).unwrap();
    let mut m = Mocks::new();
    m.locks
        .expect_acquire()
        .returning(|_, _| Ok(Box::new(Guard)));
    m.keys.expect_begin().returning(move |_, _, _, _, _| {
        Ok(IdempotencyBegin::Resumed {
            plan: Some(plan.clone()),
        })
    });
    // No positions read (no replanning) and no plan written again: no expectations for them.
    m.exchange
        .expect_place_order()
        .withf(|_, o| o.client_order_id == "hkey-0" && o.symbol.as_str() == "ETHUSDT")
        .times(1)
        .returning(|_, o| {
            // The venue answers an id it has seen with the first order's fill.
            Ok(OrderAck {
                client_order_id: o.client_order_id.clone(),
                exchange_order_id: "first".into(),
                status: "filled".into(),
                filled_quantity: o.quantity,
                avg_price: Some(rust_decimal::Decimal::from(2500)),
                fee: rust_decimal::Decimal::ZERO,
                created_at: chrono::Utc::now(),
            })
        });
    m.keys
        .expect_complete()
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(()));
    let Answer::Fresh(closed) = m.desk().close(&caller(), key("k-5"), false).unwrap() else {
        panic!("a fresh answer was expected");
    };
    assert_eq!(closed.status, "executed");
    assert_eq!(closed.closed[0].exchange_order_id.as_deref(), Some("first"));
}

/// The non-blocking analysis reads the same three things (the tenant's target, spot, futures)
/// and answers exactly as the blocking one; it is offered only when all three reads are.
#[test]
fn the_nonblocking_analysis_answers_as_the_blocking_one() {
    use futures_util::FutureExt as _;

    use alphapulse_domain::{
        FuturesPosition, PositionSide, Slug, SpotBalance, SubscriptionTier, Symbol, Tenant,
        TenantStatus,
    };
    use rust_decimal_macros::dec;

    let caller = caller();
    let tenant = Tenant {
        id: caller.tenant_id,
        name: "Acme".into(),
        slug: Slug::parse("acme").unwrap(),
        subscription_tier: SubscriptionTier::Pro,
        status: TenantStatus::Active,
        max_users: 5,
        max_api_calls_per_day: 1000,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        metadata: json!({"hedging": {"target_hedge_ratio": 0.5}}),
    };
    let btc = || Symbol::parse("BTCUSDT").unwrap();
    let spot = move || {
        vec![(
            SpotBalance {
                symbol: btc(),
                asset: "BTC".into(),
                quantity: dec!(2),
                avg_price: Some(dec!(30000)),
            },
            Some(dec!(40000)),
        )]
    };
    let short = move |mark| FuturesPosition {
        symbol: btc(),
        side: PositionSide::Short,
        quantity: dec!(0.25),
        entry_price: dec!(41000),
        mark_price: mark,
        leverage: dec!(3),
        liquidation_price: None,
    };
    let mut m = Mocks::new();
    let t = tenant.clone();
    m.tenants.expect_get().returning(move |_| Ok(t.clone()));
    m.tenants.expect_own_nonblocking().returning(move |_| {
        let t = tenant.clone();
        Some(Box::pin(async move { Ok(t) }))
    });
    m.exchange
        .expect_spot_valued()
        .returning(move |_| Ok(spot()));
    m.exchange
        .expect_futures_positions()
        .returning(move |_| Ok(vec![short(None)]));
    m.exchange
        .expect_prices()
        .returning(move |_, _, _| Ok(std::collections::BTreeMap::from([(btc(), dec!(40000))])));
    // One account view for both (the paper exchange marks its futures at the latest closes).
    m.exchange
        .expect_account_view_nonblocking()
        .returning(move |_| {
            Some(Box::pin(async move {
                Ok(alphapulse_domain::AccountView {
                    spot: spot(),
                    futures: vec![short(Some(dec!(40000)))],
                    cash: dec!(0),
                })
            }))
        });
    let desk = m.desk();
    let read = desk.analysis_nonblocking(&caller).expect("offered");
    let fast = read.now_or_never().expect("a ready answer");
    let blocking = desk.analysis(&caller).unwrap();
    // The tenant's target, not the default: half of the 2 BTC held, 0.25 short already.
    assert_eq!(blocking.target_hedge_ratio, 0.5);
    assert_eq!(fast.unwrap(), blocking);

    let mut m = Mocks::new();
    m.tenants.expect_own_nonblocking().returning(|_| None);
    assert!(
        m.desk().analysis_nonblocking(&caller).is_none(),
        "no async tenant read: the blocking path"
    );
}
