//! Unit tests of the budget's pure parts.

use super::*;
use alphapulse_domain::PositionSide;
use rust_decimal_macros::dec;

fn pos(symbol: &str, market: Market, side: PositionSide, q: Decimal, p: Decimal) -> BookPosition {
    BookPosition {
        symbol: Symbol::parse(symbol).unwrap(),
        market,
        side,
        quantity: q,
        entry_price: p,
        price: Some(p),
    }
}

#[test]
fn positions_go_to_the_entity_naming_them_else_to_the_catch_all() {
    let entities = default_entities();
    let book = Book {
        cash: dec!(0),
        positions: vec![
            pos(
                "BTCUSDT",
                Market::Spot,
                PositionSide::Long,
                dec!(1),
                dec!(100),
            ),
            pos(
                "SOLUSDT",
                Market::Spot,
                PositionSide::Long,
                dec!(10),
                dec!(5),
            ),
            pos(
                "BTCUSDT",
                Market::Futures,
                PositionSide::Short,
                dec!(0.5),
                dec!(100),
            ),
        ],
        fetched_at: Utc::now(),
    };
    let (used, unallocated) = utilized(&entities, &book);
    // spot: 100 + 50; futures: 50; majors: 100 + 50; altcoins: 50.
    assert_eq!(used, vec![dec!(150), dec!(50), dec!(150), dec!(50)]);
    assert_eq!(unallocated, dec!(0));
    assert_eq!(used_by_views(&entities, &used), dec!(200));
    // Without a catch-all, an uncovered position is unallocated.
    let narrow = vec![entities[2].clone()];
    let (used, unallocated) = utilized(&narrow, &book);
    assert_eq!(used, vec![dec!(150)]);
    // SOL is in no asset class and in no strategy (none declared): twice 50, and the
    // two BTC positions in no strategy: 150.
    assert_eq!(unallocated, dec!(250));
}

#[test]
fn the_base_budget_is_the_portfolio_value_times_the_leverage_limit() {
    let book = Book {
        cash: dec!(1000),
        positions: vec![],
        fetched_at: Utc::now(),
    };
    assert_eq!(base_budget(&book, &RiskLimits::default()), dec!(1500));
    let broke = Book {
        cash: dec!(-5),
        ..book
    };
    assert_eq!(base_budget(&broke, &RiskLimits::default()), dec!(0));
}

#[test]
fn the_request_hash_is_the_sha256_of_the_canonical_force_flag() {
    // sha256('{"force":false}'), by `python3 -c 'import hashlib; ...'`.
    assert_eq!(
        request_hash(false),
        "80eb6a3f04273ff5137d233576d17bff1e9064ca18eda08b4dafc49b08c45ef6"
    );
    assert_ne!(request_hash(true), request_hash(false));
    assert_eq!(request_hash(true), request_hash(true));
}
