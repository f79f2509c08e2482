//! Tests of the demo market data and books over in-memory fakes of the repository ports.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use alphapulse_domain::{
    ports::{
        AdapterKind, ExchangeAccount, NewExchangeAccount, RegimeAlert, RegimeConfig, RegimeDay,
    },
    Candle, FuturesPosition, Market, OrderAck, OrderRequest, PositionSide, Regime, RepoError,
    SpotBalance, Symbol, UserId,
};
use chrono::{DateTime, Days, NaiveTime};
use rust_decimal::Decimal;

use super::{
    accounts::{position, round_price, round_quantity},
    *,
};
use crate::demo::{DemoPlatform, DemoTenant, DemoUser};

#[derive(Default)]
struct Fakes {
    candles: Mutex<BTreeMap<(Symbol, DateTime<Utc>), Candle>>,
    imports: Mutex<usize>,
    accounts: Mutex<HashMap<TenantId, ExchangeAccount>>,
    positions: Mutex<Vec<(TenantId, Market, FuturesPosition)>>,
    configs: Mutex<HashMap<TenantId, RegimeConfig>>,
}

impl MarketDataRepo for Fakes {
    fn daily_candles(
        &self,
        _: &Actor,
        symbol: &Symbol,
        limit: u32,
    ) -> Result<Vec<Candle>, RepoError> {
        let all = self.candles.lock().unwrap();
        let mut rows: Vec<Candle> = all
            .values()
            .filter(|c| &c.symbol == symbol)
            .rev()
            .take(limit as usize)
            .cloned()
            .collect();
        rows.reverse();
        Ok(rows)
    }
    fn latest_closes(
        &self,
        a: &Actor,
        symbols: &[Symbol],
    ) -> Result<BTreeMap<Symbol, Decimal>, RepoError> {
        let mut out = BTreeMap::new();
        for s in symbols {
            if let Some(c) = self.daily_candles(a, s, 1)?.pop() {
                out.insert(s.clone(), c.close);
            }
        }
        Ok(out)
    }
    fn daily_closes(
        &self,
        _: &Actor,
        symbols: &[Symbol],
        since: chrono::NaiveDate,
    ) -> Result<BTreeMap<Symbol, Vec<(chrono::NaiveDate, Decimal)>>, RepoError> {
        let all = self.candles.lock().unwrap();
        let mut out: BTreeMap<Symbol, Vec<(chrono::NaiveDate, Decimal)>> = BTreeMap::new();
        for c in all.values() {
            if symbols.contains(&c.symbol) && c.open_time.date_naive() >= since {
                out.entry(c.symbol.clone())
                    .or_default()
                    .push((c.open_time.date_naive(), c.close));
            }
        }
        Ok(out)
    }
    fn version(&self, _: &Actor) -> Result<(Option<DateTime<Utc>>, i64), RepoError> {
        let all = self.candles.lock().unwrap();
        Ok((all.keys().map(|k| k.1).max(), all.len() as i64))
    }
    fn import(&self, candles: &[Candle]) -> Result<usize, RepoError> {
        *self.imports.lock().unwrap() += 1;
        let mut all = self.candles.lock().unwrap();
        for c in candles {
            all.insert((c.symbol.clone(), c.open_time), c.clone());
        }
        Ok(candles.len())
    }
}

impl ExchangeAccountRepo for Fakes {
    fn active(&self, a: &Actor) -> Result<Option<ExchangeAccount>, RepoError> {
        Ok(self.accounts.lock().unwrap().get(&a.tenant_id).cloned())
    }
    fn activate(&self, a: &Actor, new: NewExchangeAccount) -> Result<ExchangeAccount, RepoError> {
        let account = ExchangeAccount {
            id: uuid::Uuid::new_v4(),
            adapter: new.adapter,
            label: new.label,
            credentials_encrypted: new.credentials_encrypted,
            testnet: false,
            previous_credentials_encrypted: None,
            previous_valid_until: None,
            paper_cash: new.paper_cash,
            fee_rate: new.fee_rate,
            created_at: Utc::now(),
        };
        self.accounts
            .lock()
            .unwrap()
            .insert(a.tenant_id, account.clone());
        Ok(account)
    }
}

impl PaperBook for Fakes {
    fn spot_holdings(&self, a: &Actor) -> Result<Vec<SpotBalance>, RepoError> {
        Ok(self
            .positions
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, m, _)| *t == a.tenant_id && *m == Market::Spot)
            .map(|(_, _, p)| SpotBalance {
                symbol: p.symbol.clone(),
                asset: p.symbol.as_str().trim_end_matches("USDT").to_owned(),
                quantity: p.quantity,
                avg_price: Some(p.entry_price),
            })
            .collect())
    }
    fn spot_holdings_priced(
        &self,
        a: &Actor,
    ) -> Result<Vec<(SpotBalance, Option<Decimal>)>, RepoError> {
        Ok(self
            .spot_holdings(a)?
            .into_iter()
            .map(|b| (b, None))
            .collect())
    }
    fn futures_positions(&self, a: &Actor) -> Result<Vec<FuturesPosition>, RepoError> {
        Ok(self.positions_of(a.tenant_id, Market::Futures))
    }
    fn account_view(&self, a: &Actor) -> Result<alphapulse_domain::AccountView, RepoError> {
        Ok(alphapulse_domain::AccountView {
            spot: self.spot_holdings_priced(a)?,
            futures: self.futures_positions(a)?,
            cash: self.active(a)?.map_or(Decimal::ZERO, |acc| acc.paper_cash),
        })
    }
    fn fill(
        &self,
        _: &Actor,
        _: &OrderRequest,
        _: Decimal,
        _: Decimal,
        _: DateTime<Utc>,
    ) -> Result<OrderAck, RepoError> {
        Err(RepoError::Internal("not used".to_owned()))
    }
    fn set_position(
        &self,
        a: &Actor,
        market: Market,
        p: &FuturesPosition,
    ) -> Result<(), RepoError> {
        let mut all = self.positions.lock().unwrap();
        all.retain(|(t, m, q)| !(*t == a.tenant_id && *m == market && q.symbol == p.symbol));
        all.push((a.tenant_id, market, p.clone()));
        Ok(())
    }
}

impl RegimeStore for Fakes {
    fn config(&self, a: &Actor) -> Result<Option<RegimeConfig>, RepoError> {
        Ok(self.configs.lock().unwrap().get(&a.tenant_id).cloned())
    }
    fn save_config(&self, a: &Actor, config: &RegimeConfig) -> Result<(), RepoError> {
        self.configs
            .lock()
            .unwrap()
            .insert(a.tenant_id, config.clone());
        Ok(())
    }
    fn record(
        &self,
        _: &Actor,
        _: &[RegimeDay],
        _: &[(NaiveDate, Option<Regime>, Regime, f64)],
    ) -> Result<usize, RepoError> {
        Ok(0)
    }
    fn history(&self, _: &Actor, _: u32) -> Result<Vec<RegimeDay>, RepoError> {
        Ok(Vec::new())
    }
    fn alerts(&self, _: &Actor, _: u32) -> Result<Vec<RegimeAlert>, RepoError> {
        Ok(Vec::new())
    }
}

impl Fakes {
    fn demo(&self) -> DemoMarket<'_> {
        DemoMarket::new(self, self, self, self)
    }

    fn positions_of(&self, tenant: TenantId, market: Market) -> Vec<FuturesPosition> {
        self.positions
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, m, _)| *t == tenant && *m == market)
            .map(|(_, _, p)| p.clone())
            .collect()
    }

    fn position(&self, tenant: TenantId, market: Market, symbol: &str) -> Option<FuturesPosition> {
        self.positions_of(tenant, market)
            .into_iter()
            .find(|p| p.symbol.as_str() == symbol)
    }
}

fn data() -> DemoData {
    let user = |role| DemoUser {
        user_id: UserId::new_random(),
        email: String::new(),
        password: String::new(),
        role,
    };
    DemoData {
        platform: DemoPlatform {
            owner: user(alphapulse_domain::Role::Owner),
            staff: user(alphapulse_domain::Role::Staff),
        },
        tenants: BOOKS
            .iter()
            .map(|b| DemoTenant {
                id: TenantId::new_random(),
                slug: b.slug.to_owned(),
                users: Vec::new(),
            })
            .collect(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn id(data: &DemoData, slug: &str) -> TenantId {
    data.tenants.iter().find(|t| t.slug == slug).unwrap().id
}

#[test]
fn series_is_reproducible_and_ends_today() {
    let start = start_date().unwrap();
    for spec in &SYMBOLS {
        let now = demo_candles(spec, today()).unwrap();
        let later = demo_candles(spec, today() + Days::new(30)).unwrap();
        assert_eq!(now[..], later[..now.len()], "{}", spec.symbol);
        assert_eq!(now[0].open_time.date_naive(), start);
        assert_eq!(now.last().unwrap().open_time.date_naive(), today());
        assert!(now.len() as u32 > LOOKBACK_DAYS);
        assert!(now.iter().all(|c| c.low > Decimal::ZERO && c.low <= c.high));
    }
    assert!(demo_candles(&SYMBOLS[0], start - Days::new(1))
        .unwrap()
        .is_empty());
    // Different symbols, different paths.
    let btc = demo_candles(&SYMBOLS[0], today()).unwrap();
    let eth = demo_candles(&SYMBOLS[1], today()).unwrap();
    assert_ne!(btc[100].close / btc[0].close, eth[100].close / eth[0].close);
}

#[test]
fn books_are_consistent() {
    for book in &BOOKS {
        let known = |s: &str| SYMBOLS.iter().any(|x| x.symbol == s);
        assert!(book.spot.iter().all(|h| known(h.symbol)), "{}", book.slug);
        assert!(
            book.futures.iter().all(|f| known(f.symbol)),
            "{}",
            book.slug
        );
        assert!((2..=5).contains(&book.spot.len()), "{}", book.slug);
        let total: f64 = book.universe.iter().map(|(_, w)| w).sum();
        assert!((total - 1.0).abs() < 1e-9, "{}", book.slug);
        assert!(book.universe.iter().all(|(s, _)| known(s)));
    }
    for spec in &crate::demo::TENANTS {
        assert!(BOOKS.iter().any(|b| b.slug == spec.slug), "{}", spec.slug);
    }
}

#[test]
fn seeding_is_idempotent_and_books_differ() {
    let fakes = Fakes::default();
    let data = data();
    let first = fakes.demo().seed(&data, today()).unwrap();
    // One candle a day from 2023-09-01 to 2026-11-23 inclusive: 366 days to 2024-09-01
    // (29 February 2024 included), 365 to 2025-09-01, 365 to 2026-09-01, then 30 (September)
    // + 31 (October) + 22 to 23 November = 83; 366 + 365 + 365 + 83 = 1179 days apart, so
    // 1180 candles per symbol.
    let days = 1180;
    assert_eq!(demo_candles(&SYMBOLS[0], today()).unwrap().len(), days);
    // Every symbol's whole series: 10 symbols x 1180 days = 11 800 rows.
    assert_eq!(first.candles_written, SYMBOLS.len() * days);
    assert_eq!(first.candles_written, 11_800);
    // Each of the three demo tenants (acme-capital, beta-quant, gamma-macro) starts without an
    // account, positions or regime configuration: one of each per tenant.
    let tenants = data.tenants.len();
    assert_eq!(tenants, 3);
    assert_eq!(first.accounts_created, tenants);
    assert_eq!(first.books_filled, tenants);
    assert_eq!(first.regime_configs_created, tenants);
    // Spot + futures per book: acme-capital 3 + 1, beta-quant 4 + 2, gamma-macro 5 + 0.
    let book_positions: usize = BOOKS.iter().map(|b| b.spot.len() + b.futures.len()).sum();
    assert_eq!(book_positions, 3 + 1 + 4 + 2 + 5);
    assert_eq!(first.positions_set, book_positions);
    assert!(!first.is_noop());

    // A second run writes nothing.
    let imports = *fakes.imports.lock().unwrap();
    let second = fakes.demo().seed(&data, today()).unwrap();
    assert!(second.is_noop(), "{second:?}");
    assert!(second.summary().contains("nothing created"));
    assert_eq!(*fakes.imports.lock().unwrap(), imports);

    // The next day: one candle per symbol (10), and the books are not touched again.
    let next = fakes.demo().seed(&data, today() + Days::new(1)).unwrap();
    assert_eq!(next.candles_written, SYMBOLS.len());
    assert_eq!(next.candles_written, 10);
    assert_eq!((next.accounts_created, next.positions_set), (0, 0));

    let acme = id(&data, "acme-capital");
    let beta = id(&data, "beta-quant");
    let gamma = id(&data, "gamma-macro");
    let accounts = fakes.accounts.lock().unwrap().clone();
    let cash: Vec<Decimal> = [acme, beta, gamma]
        .iter()
        .map(|t| accounts[t].paper_cash)
        .collect();
    // The books' `paper_cash_usd`.
    assert_eq!(
        cash,
        [
            Decimal::from(250_000),
            Decimal::from(1_000_000),
            Decimal::from(100_000)
        ]
    );
    // Fee rate 10 bp = 0.001.
    assert!(accounts.values().all(|a| a.adapter == AdapterKind::Paper
        && a.fee_rate == Decimal::new(1, 3)
        && a.credentials_encrypted.is_none()));

    // acme hedges half its BTC, beta-quant all its ETH plus a long SOL; gamma none.
    let btc = fakes.position(acme, Market::Spot, "BTCUSDT").unwrap();
    let btc_hedge = fakes.position(acme, Market::Futures, "BTCUSDT").unwrap();
    assert_eq!(btc_hedge.side, PositionSide::Short);
    assert_eq!(
        btc_hedge.quantity,
        (btc.quantity / Decimal::TWO).round_dp(4)
    );
    let eth = fakes.position(beta, Market::Spot, "ETHUSDT").unwrap();
    let eth_hedge = fakes.position(beta, Market::Futures, "ETHUSDT").unwrap();
    assert_eq!(
        (eth_hedge.side, eth_hedge.quantity),
        (PositionSide::Short, eth.quantity)
    );
    assert_eq!(
        fakes
            .position(beta, Market::Futures, "SOLUSDT")
            .unwrap()
            .side,
        PositionSide::Long
    );
    assert!(fakes.positions_of(gamma, Market::Futures).is_empty());
    // gamma-macro's five holdings: BTC, ETH, XRP, ADA, DOGE.
    assert_eq!(fakes.positions_of(gamma, Market::Spot).len(), 5);

    // Spot: long, leverage 1, average price near the latest close (the books' cost_bp and
    // entry_bp lie within 6 700..=13 200 bp, so the ratio is between 0.67 and 1.32 before
    // rounding).
    let reader = Actor::system(acme);
    for (tenant, market, p) in fakes.positions.lock().unwrap().iter() {
        assert!(
            p.quantity > Decimal::ZERO && p.entry_price > Decimal::ZERO,
            "{p:?}"
        );
        if *market == Market::Spot {
            assert_eq!((p.side, p.leverage), (PositionSide::Long, Decimal::ONE));
        }
        let close = fakes
            .latest_closes(&reader, std::slice::from_ref(&p.symbol))
            .unwrap()[&p.symbol];
        let ratio = p.entry_price / close;
        assert!(
            ratio > Decimal::new(6, 1) && ratio < Decimal::new(14, 1),
            "{tenant} {p:?}"
        );
    }

    let configs = fakes.configs.lock().unwrap();
    let universe = |t: TenantId| -> Vec<(String, f64)> {
        configs[&t]
            .universe
            .iter()
            .map(|(s, w)| (s.to_string(), *w))
            .collect()
    };
    assert_eq!(
        universe(acme),
        [("BTCUSDT".to_owned(), 0.6), ("ETHUSDT".to_owned(), 0.4)]
    );
    // beta-quant: ETH, SOL, BNB; gamma-macro: BTC, ETH, XRP, ADA.
    assert_eq!(universe(beta).len(), 3);
    assert_eq!(universe(gamma).len(), 4);
    // LOOKBACK_DAYS (three years) and N_STATES.
    assert!(configs
        .values()
        .all(|c| c.lookback_days == 1095 && c.n_states == 5));
}

#[test]
fn user_changes_and_imported_data_are_kept() {
    let fakes = Fakes::default();
    let data = data();
    let acme = id(&data, "acme-capital");
    let actor = Actor::system(acme);
    // acme already trades: one position, its own account and universe.
    let own = position(
        Symbol::parse("DOTUSDT").unwrap(),
        PositionSide::Long,
        Decimal::from(7),
        Decimal::from(5),
        1,
    );
    fakes.set_position(&actor, Market::Spot, &own).unwrap();
    fakes
        .activate(
            &actor,
            NewExchangeAccount {
                adapter: AdapterKind::Paper,
                label: "mine".to_owned(),
                credentials_encrypted: None,
                paper_cash: Decimal::from(5),
                fee_rate: Decimal::ZERO,
            },
        )
        .unwrap();
    let config = RegimeConfig {
        universe: vec![(Symbol::parse("DOTUSDT").unwrap(), 1.0)],
        lookback_days: 200,
        n_states: 3,
        updated_at: Utc::now(),
    };
    fakes.save_config(&actor, &config).unwrap();
    // Real BTC data was imported.
    let real = Candle {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        open_time: today().and_time(NaiveTime::MIN).and_utc(),
        open: Decimal::from(90_000),
        high: Decimal::from(91_000),
        low: Decimal::from(89_000),
        close: Decimal::from(90_500),
        volume: Decimal::from(12),
    };
    fakes.import(std::slice::from_ref(&real)).unwrap();

    let counts = fakes.demo().seed(&data, today()).unwrap();
    // Only BTCUSDT holds data that is not the demo series.
    assert_eq!(counts.symbols_skipped, 1);
    // acme-capital has its own account, position and universe: only the other two tenants
    // (beta-quant, gamma-macro) get theirs.
    let others = data.tenants.len() - 1;
    assert_eq!(others, 2);
    assert_eq!(counts.accounts_created, others);
    assert_eq!(counts.books_filled, others);
    assert_eq!(counts.regime_configs_created, others);
    let btc = fakes.daily_candles(&actor, &real.symbol, 10_000).unwrap();
    assert_eq!(btc, [real]);
    assert_eq!(fakes.positions_of(acme, Market::Spot), [own]);
    assert!(fakes.positions_of(acme, Market::Futures).is_empty());
    assert_eq!(fakes.accounts.lock().unwrap()[&acme].label, "mine");
    assert_eq!(fakes.configs.lock().unwrap()[&acme], config);
    // gamma-macro holds 60 000 USD of BTC, valued at the imported close of 90 500:
    // 60 000 / 90 500 = 0.66298..., 4 decimals at a price of 1000 USD or more: 0.6630.
    let gamma = id(&data, "gamma-macro");
    let gamma_btc = fakes.position(gamma, Market::Spot, "BTCUSDT").unwrap();
    assert_eq!(gamma_btc.quantity, Decimal::new(6_630, 4));
    assert_eq!(
        gamma_btc.quantity,
        (Decimal::from(60_000) / Decimal::from(90_500)).round_dp(4)
    );
}

#[test]
fn rounding_follows_the_price() {
    // 1.23456789 at 50 000 USD (>= 1000): 4 decimals, 1.2346.
    assert_eq!(
        round_quantity(Decimal::new(123_456_789, 8), Decimal::from(50_000)),
        Decimal::new(12_346, 4)
    );
    // 1234.56789 at 0.05 USD (< 1): whole units, 1235.
    assert_eq!(
        round_quantity(Decimal::new(123_456_789, 5), Decimal::new(5, 2)),
        Decimal::from(1235)
    );
    // 456.7891 (>= 100): cents, 456.79.
    assert_eq!(
        round_price(Decimal::new(45_678_910, 5)),
        Decimal::new(45_679, 2)
    );
    // 45.67891 (>= 1): 4 decimals, 45.6789.
    assert_eq!(
        round_price(Decimal::new(4_567_891, 5)),
        Decimal::new(456_789, 4)
    );
    // 0.1234567 (< 1): 6 decimals, 0.123457.
    assert_eq!(
        round_price(Decimal::new(1_234_567, 7)),
        Decimal::new(123_457, 6)
    );
}
