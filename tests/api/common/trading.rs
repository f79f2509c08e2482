//! Trading fixtures: market data, paper accounts, positions and regime universes written
//! straight through the repositories.

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, ExchangeAccountRepo, MarketDataRepo, NewExchangeAccount, PaperBook,
        RegimeConfig, RegimeStore,
    },
    Candle, FuturesPosition, Market, PositionSide, Role, Symbol, TenantId,
};
use alphapulse_persistence::{PgExchangeAccountRepo, PgMarketDataRepo, PgPaperBook, PgRegimeStore};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::TestApp;

pub fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Candles for a few symbols (shared market data), 400 days ending yesterday.
pub fn seed_market(app: &mut TestApp) {
    let market = PgMarketDataRepo::new(app.db.db());
    let start = Utc.from_utc_datetime(
        &(Utc::now() - Duration::days(400))
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    );
    for (seed, name, price) in [
        (1, "BTCUSDT", 40_000.0),
        (2, "ETHUSDT", 2_500.0),
        (3, "SOLUSDT", 100.0),
    ] {
        let (candles, _) = alphapulse_regime::synthetic::regime_switching_walk(
            seed,
            &sym(name),
            400,
            price,
            start,
        );
        market.import(&candles).unwrap();
    }
}

/// A tenant with a paper account, spot holdings, futures and a regime universe.
pub fn seed_tenant(
    app: &mut TestApp,
    slug: &str,
    spot: &[(&str, &str, &str)],
    futures: &[(&str, PositionSide, &str, &str)],
    universe: &[(&str, f64)],
) -> (TenantId, String) {
    let tenant = app.create_tenant(slug, 10);
    let (_, token) = app.user_with_token(tenant, &format!("viewer@{slug}.example"), Role::Viewer);
    let actor = Actor::system(tenant);
    PgExchangeAccountRepo::new(app.db.db())
        .activate(
            &actor,
            NewExchangeAccount {
                adapter: AdapterKind::Paper,
                label: "paper".into(),
                credentials_encrypted: None,
                paper_cash: dec("100000"),
                fee_rate: dec("0.001"),
            },
        )
        .unwrap();
    let book = PgPaperBook::new(app.db.db());
    for (s, qty, avg) in spot {
        let p = FuturesPosition {
            symbol: sym(s),
            side: PositionSide::Long,
            quantity: dec(qty),
            entry_price: dec(avg),
            mark_price: None,
            leverage: Decimal::ONE,
            liquidation_price: None,
        };
        book.set_position(&actor, Market::Spot, &p).unwrap();
    }
    for (s, side, qty, entry) in futures {
        let p = FuturesPosition {
            symbol: sym(s),
            side: *side,
            quantity: dec(qty),
            entry_price: dec(entry),
            mark_price: None,
            leverage: dec("3"),
            liquidation_price: None,
        };
        book.set_position(&actor, Market::Futures, &p).unwrap();
    }
    PgRegimeStore::new(app.db.db())
        .save_config(
            &actor,
            &RegimeConfig {
                universe: universe.iter().map(|(s, w)| (sym(s), *w)).collect(),
                lookback_days: 300,
                n_states: 3,
                updated_at: Utc::now(),
            },
        )
        .unwrap();
    (tenant, token)
}

/// Adds one candle per `(symbol, close)` a day after the newest stored candle (of any
/// symbol), so that these closes are the latest prices the paper exchange values positions
/// at. Reads no clock: the day follows from the stored data.
pub fn set_latest_closes(app: &TestApp, closes: &[(&str, &str)]) {
    let market = PgMarketDataRepo::new(app.repos.db.clone());
    let (newest, _) = market.version(&Actor::system(app.platform_tenant)).unwrap();
    let open_time = newest.expect("market data to add a day to") + Duration::days(1);
    let candles: Vec<Candle> = closes
        .iter()
        .map(|(s, close)| {
            let c = dec(close);
            Candle {
                symbol: sym(s),
                open_time,
                open: c,
                high: c,
                low: c,
                close: c,
                volume: Decimal::ONE,
            }
        })
        .collect();
    market.import(&candles).unwrap();
}
