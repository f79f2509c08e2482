//! The paper ledger: a fill writes the order, its trade, the position and the cash in one
//! transaction, or nothing at all; retries with the same client order id place nothing twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, ExchangeAccountRepo, MarketDataRepo, NewExchangeAccount, PaperBook,
        TenantRepo,
    },
    Candle, FuturesPosition, Market, NewTenant, OrderRequest, PositionSide, RepoError, Side, Slug,
    SubscriptionTier, Symbol,
};
use alphapulse_persistence::{
    testing::TestDb, Error, PgExchangeAccountRepo, PgMarketDataRepo, PgPaperBook, PgTenantRepo,
};
use chrono::Utc;
use diesel::{sql_query, sql_types::BigInt, QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::common::note;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn setup(cash: Decimal) -> (TestDb, Actor, PgPaperBook, PgExchangeAccountRepo) {
    let mut t = TestDb::new();
    let tenant = PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: "Paper".into(),
                slug: Slug::parse("paper-fund").unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: None,
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap();
    let actor = Actor::system(tenant.id);
    let accounts = PgExchangeAccountRepo::new(t.db());
    accounts
        .activate(
            &actor,
            NewExchangeAccount {
                adapter: AdapterKind::Paper,
                label: "paper".into(),
                credentials_encrypted: None,
                paper_cash: cash,
                fee_rate: dec!(0.001),
            },
        )
        .unwrap();
    let book = PgPaperBook::new(t.db());
    (t, actor, book, accounts)
}

fn order(id: &str, market: Market, side: Side, qty: Decimal) -> OrderRequest {
    OrderRequest {
        client_order_id: id.to_owned(),
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        market,
        side,
        quantity: qty,
        reduce_only: false,
    }
}

fn counts(t: &TestDb, actor: &Actor) -> (i64, i64) {
    let db = t.pool_of(1);
    db.tenant(*actor)
        .run(|c| {
            let o = sql_query("SELECT count(*) AS n FROM orders")
                .get_result::<Count>(c)?
                .n;
            let tr = sql_query("SELECT count(*) AS n FROM trades")
                .get_result::<Count>(c)?
                .n;
            Ok::<_, Error>((o, tr))
        })
        .unwrap()
}

#[test]
fn spot_buys_and_sells_update_position_trades_and_cash_together() {
    let (t, actor, book, accounts) = setup(dec!(200000));
    let now = Utc::now();
    let cash = || accounts.active(&actor).unwrap().unwrap().paper_cash;
    let ack = book
        .fill(
            &actor,
            &order("o1", Market::Spot, Side::Buy, dec!(1)),
            dec!(50000),
            dec!(0.001),
            now,
        )
        .unwrap();
    assert_eq!(
        (ack.status.as_str(), ack.fee, ack.avg_price),
        ("filled", dec!(50), Some(dec!(50000)))
    );
    book.fill(
        &actor,
        &order("o2", Market::Spot, Side::Buy, dec!(1)),
        dec!(60000),
        dec!(0.001),
        now,
    )
    .unwrap();
    assert_eq!(cash(), dec!(89890));
    let holdings = book.spot_holdings(&actor).unwrap();
    assert_eq!(holdings.len(), 1);
    assert_eq!(
        (holdings[0].quantity, holdings[0].avg_price),
        (dec!(2), Some(dec!(55000)))
    );
    assert_eq!(holdings[0].asset, "BTC");

    book.fill(
        &actor,
        &order("o3", Market::Spot, Side::Sell, dec!(0.5)),
        dec!(70000),
        dec!(0.001),
        now,
    )
    .unwrap();
    assert_eq!(cash(), dec!(89890) + dec!(35000) - dec!(35));
    let holdings = book.spot_holdings(&actor).unwrap();
    assert_eq!(
        (holdings[0].quantity, holdings[0].avg_price),
        (dec!(1.5), Some(dec!(55000)))
    );
    assert_eq!(counts(&t, &actor), (3, 3));

    // Refused fills write nothing: not the order, not the trade, not the cash.
    let before = cash();
    let oversell = book.fill(
        &actor,
        &order("o4", Market::Spot, Side::Sell, dec!(5)),
        dec!(70000),
        dec!(0.001),
        now,
    );
    assert!(
        matches!(oversell, Err(RepoError::Conflict(_))),
        "{oversell:?}"
    );
    let overbuy = book.fill(
        &actor,
        &order("o5", Market::Spot, Side::Buy, dec!(10)),
        dec!(60000),
        dec!(0.001),
        now,
    );
    assert!(
        matches!(overbuy, Err(RepoError::Conflict(_))),
        "{overbuy:?}"
    );
    assert_eq!(counts(&t, &actor), (3, 3));
    assert_eq!(cash(), before);
    assert_eq!(book.spot_holdings(&actor).unwrap()[0].quantity, dec!(1.5));
}

#[test]
fn a_retry_with_the_same_client_order_id_fills_once() {
    let (t, actor, book, accounts) = setup(dec!(100000));
    let o = order("same-key", Market::Spot, Side::Buy, dec!(1));
    let now = Utc::now();
    let first = book
        .fill(&actor, &o, dec!(50000), dec!(0.001), now)
        .unwrap();
    let again = book
        .fill(&actor, &o, dec!(51000), dec!(0.001), now)
        .unwrap();
    assert_eq!(first.exchange_order_id, again.exchange_order_id);
    assert_eq!(
        again.avg_price,
        Some(dec!(50000)),
        "the retry reports the first fill"
    );
    assert_eq!(counts(&t, &actor), (1, 1));
    assert_eq!(
        accounts.active(&actor).unwrap().unwrap().paper_cash,
        dec!(49950)
    );
    assert_eq!(book.spot_holdings(&actor).unwrap()[0].quantity, dec!(1));
}

#[test]
fn futures_fills_net_reduce_and_flip_positions() {
    let (_t, actor, book, accounts) = setup(dec!(100000));
    let now = Utc::now();
    let cash = || accounts.active(&actor).unwrap().unwrap().paper_cash;
    book.fill(
        &actor,
        &order("f1", Market::Futures, Side::Sell, dec!(2)),
        dec!(50000),
        dec!(0.001),
        now,
    )
    .unwrap();
    let p = &book.futures_positions(&actor).unwrap()[0];
    assert_eq!(
        (p.side, p.quantity, p.entry_price),
        (PositionSide::Short, dec!(2), dec!(50000))
    );
    assert_eq!(cash(), dec!(99900));

    let mut reduce = order("f2", Market::Futures, Side::Buy, dec!(0.5));
    reduce.reduce_only = true;
    book.fill(&actor, &reduce, dec!(40000), dec!(0.001), now)
        .unwrap();
    let p = &book.futures_positions(&actor).unwrap()[0];
    assert_eq!(
        (p.side, p.quantity, p.entry_price),
        (PositionSide::Short, dec!(1.5), dec!(50000))
    );
    assert_eq!(
        cash(),
        dec!(99900) + dec!(5000) - dec!(20),
        "short profit realised"
    );

    // Reduce-only that would flip the position is refused.
    let mut flip = order("f3", Market::Futures, Side::Buy, dec!(3));
    flip.reduce_only = true;
    assert!(matches!(
        book.fill(&actor, &flip, dec!(45000), dec!(0.001), now),
        Err(RepoError::Conflict(_))
    ));

    // A plain buy crossing zero closes the short and opens a long at the fill price.
    book.fill(
        &actor,
        &order("f4", Market::Futures, Side::Buy, dec!(3)),
        dec!(45000),
        dec!(0.001),
        now,
    )
    .unwrap();
    let p = &book.futures_positions(&actor).unwrap()[0];
    assert_eq!(
        (p.side, p.quantity, p.entry_price),
        (PositionSide::Long, dec!(1.5), dec!(45000))
    );
    assert!(book.spot_holdings(&actor).unwrap().is_empty());
}

#[test]
fn no_account_no_fill() {
    let mut t = TestDb::new();
    let tenant = PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: "No account".into(),
                slug: Slug::parse("no-account").unwrap(),
                subscription_tier: SubscriptionTier::Starter,
                max_users: None,
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap();
    let book = PgPaperBook::new(t.db());
    let res = book.fill(
        &Actor::system(tenant.id),
        &order("x", Market::Spot, Side::Buy, dec!(1)),
        dec!(1),
        dec!(0),
        Utc::now(),
    );
    assert!(matches!(res, Err(RepoError::NotFound(_))), "{res:?}");
}

/// The async hot read answers exactly what the blocking one does, for the tenant only.
#[test]
fn async_priced_holdings_equal_the_blocking_read_and_stay_in_the_tenant() {
    let (mut t, actor, book, _accounts) = setup(dec!(200000));
    let now = Utc::now();
    for (id, symbol, qty) in [("a1", "BTCUSDT", dec!(1.5)), ("a2", "ETHUSDT", dec!(2))] {
        let mut o = order(id, Market::Spot, Side::Buy, qty);
        o.symbol = Symbol::parse(symbol).unwrap();
        book.fill(&actor, &o, dec!(1000), dec!(0.001), now).unwrap();
    }
    let other = Actor::system(crate::common::tenant(&mut t, "other-fund"));
    let fast = PgPaperBook::new(t.db()).with_async_reads(t.db().async_reads().unwrap());
    let runtime = crate::common::runtime();
    let read = |a: &Actor| {
        runtime
            .block_on(
                fast.spot_holdings_priced_nonblocking(a)
                    .expect("async reads configured"),
            )
            .unwrap()
    };
    let blocking = book.spot_holdings_priced(&actor).unwrap();
    assert_eq!(blocking.len(), 2);
    assert_eq!(read(&actor), blocking);
    assert_eq!(read(&actor), blocking, "second read, statement cached");
    assert!(read(&other).is_empty(), "another tenant's holdings");
    assert!(
        book.spot_holdings_priced_nonblocking(&actor).is_none(),
        "a book without async reads serves only the blocking read"
    );
}

#[test]
fn async_marked_futures_and_account_view_equal_the_blocking_reads_and_stay_in_the_tenant() {
    let (mut t, actor, book, _accounts) = setup(dec!(200000));
    let sym = |s: &str| Symbol::parse(s).unwrap();
    let position = |symbol: &str, side, qty, entry| FuturesPosition {
        symbol: sym(symbol),
        side,
        quantity: qty,
        entry_price: entry,
        mark_price: None,
        leverage: dec!(3),
        liquidation_price: None,
    };
    for p in [
        position("BTCUSDT", PositionSide::Short, dec!(1), dec!(41000)),
        position("ETHUSDT", PositionSide::Long, dec!(4), dec!(2000)),
        position("SOLUSDT", PositionSide::Long, dec!(10), dec!(90)),
    ] {
        book.set_position(&actor, Market::Futures, &p).unwrap();
    }
    // Two closes of BTC (the later one is the mark), one of ETH, none of SOL.
    let day = |d: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    };
    let candle = |symbol: &str, d, close| Candle {
        symbol: sym(symbol),
        open_time: day(d),
        open: close,
        high: close,
        low: close,
        close,
        volume: dec!(1),
    };
    PgMarketDataRepo::new(t.db())
        .import(&[
            candle("BTCUSDT", 1, dec!(39000)),
            candle("BTCUSDT", 2, dec!(40000)),
            candle("ETHUSDT", 2, dec!(2500)),
        ])
        .unwrap();
    let other = Actor::system(crate::common::tenant(&mut t, "other-fund"));
    book.set_position(
        &other,
        Market::Futures,
        &position("BTCUSDT", PositionSide::Long, dec!(7), dec!(1)),
    )
    .unwrap();
    let fast = PgPaperBook::new(t.db()).with_async_reads(t.db().async_reads().unwrap());
    let runtime = crate::common::runtime();
    let read = |a: &Actor| {
        runtime
            .block_on(
                fast.futures_positions_marked_nonblocking(a)
                    .expect("async reads configured"),
            )
            .unwrap()
    };
    // The blocking reads the paper exchange made before: positions, then the latest closes.
    let mut blocking = book.futures_positions(&actor).unwrap();
    let closes = PgMarketDataRepo::new(t.db())
        .latest_closes(
            &actor,
            &blocking
                .iter()
                .map(|p| p.symbol.clone())
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for p in &mut blocking {
        p.mark_price = closes.get(&p.symbol).copied();
    }
    let marks: Vec<Option<Decimal>> = blocking.iter().map(|p| p.mark_price).collect();
    assert_eq!(marks, vec![Some(dec!(40000)), Some(dec!(2500)), None]);
    assert_eq!(read(&actor), blocking);
    assert_eq!(read(&actor), blocking, "second read, statement cached");
    assert_eq!(
        book.account_view(&actor).unwrap().futures,
        blocking,
        "the account view marks the same way"
    );
    let theirs = read(&other);
    assert_eq!(
        (theirs.len(), theirs[0].quantity, theirs[0].mark_price),
        (1, dec!(7), Some(dec!(40000))),
        "another tenant sees its own position only"
    );
    assert!(
        book.futures_positions_marked_nonblocking(&actor).is_none(),
        "a book without async reads serves only the blocking read"
    );

    // The whole account view (spot priced, futures marked, cash) on async connections: the
    // blocking view, also after a fill moved cash and holdings; another tenant's own.
    let view = |a: &Actor| {
        runtime
            .block_on(
                fast.account_view_nonblocking(a)
                    .expect("async reads configured"),
            )
            .unwrap()
    };
    assert_eq!(view(&actor), book.account_view(&actor).unwrap());
    let mut buy = order("v1", Market::Spot, Side::Buy, dec!(0.5));
    buy.symbol = Symbol::parse("ETHUSDT").unwrap();
    book.fill(&actor, &buy, dec!(2500), dec!(0.001), Utc::now())
        .unwrap();
    let after = book.account_view(&actor).unwrap();
    assert_eq!(
        (after.spot.len(), after.cash),
        (1, dec!(200000) - dec!(1250) - dec!(1.25))
    );
    assert_eq!(view(&actor), after);
    let theirs = view(&other);
    assert_eq!(theirs, book.account_view(&other).unwrap());
    assert_eq!(
        (theirs.spot.len(), theirs.futures.len(), theirs.cash),
        (0, 1, dec!(0)),
        "the other tenant has no account: no cash, and none of A's holdings"
    );
    assert!(book.account_view_nonblocking(&actor).is_none());
}
