//! The services against mocked ports: alert rules raise through the optional alert store with
//! their deduplication keys (and never fail the request), the rebalance protocol (replay,
//! conflicts, release on failure, audit rows), empty books, too little history, the snapshot
//! job's accounting, and every port call carrying the caller's tenant.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use alphapulse_domain::{
    exchange::MockExchangeClient,
    ports::{
        Actor, Alert, BudgetAllocation, IdempotencyBegin, ManualClock, MockAlertRepo,
        MockAuditRepo, MockIdempotencyRepo, MockMarketDataRepo, MockPortfolioSnapshotRepo,
        MockRegimeStore, MockRiskBudgetRepo, MockRiskLimitsRepo, MockTenantRepo, MockTradeRepo,
        NewAlert, PortfolioSnapshot, RegimeDay, RiskBudget, RiskLimits, SnapshotSource,
    },
    AccountView, AuditId, Candle, ExchangeError, FuturesPosition, Page, PositionSide, Principal,
    Regime, RepoError, Role, SpotBalance, Symbol, Tenant, TenantId, UserId,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{prelude::FromPrimitive, Decimal};
use rust_decimal_macros::dec;

use futures_util::FutureExt as _;

use super::*;

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0).unwrap()
}

/// `n` daily closes ending yesterday, from daily returns `r`.
fn candles_from(symbol: &str, start_price: f64, returns: &[f64]) -> Vec<Candle> {
    let first = now().date_naive() - Duration::days(returns.len() as i64 + 1);
    let mut price = start_price;
    let mut out = Vec::new();
    for i in 0..=returns.len() {
        if i > 0 {
            price *= 1.0 + returns[i - 1];
        }
        let p = Decimal::from_f64(price).unwrap().round_dp(8);
        out.push(Candle {
            symbol: sym(symbol),
            open_time: Utc.from_utc_datetime(
                &(first + Duration::days(i as i64))
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            ),
            open: p,
            high: p * dec!(1.01),
            low: p * dec!(0.99),
            close: p,
            volume: dec!(1),
        });
    }
    out
}

fn noise(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

/// The ports of one test, configured by fields, then built into mocks.
struct World {
    tenant: TenantId,
    cash: Decimal,
    spot: Vec<(&'static str, Decimal, Decimal)>,
    futures: Vec<(&'static str, PositionSide, Decimal, Decimal)>,
    candles: BTreeMap<Symbol, Vec<Candle>>,
    limits: RiskLimits,
    budget: Option<RiskBudget>,
    snapshots: Vec<PortfolioSnapshot>,
    regimes: Vec<RegimeDay>,
    alerts: Option<Arc<Mutex<Vec<NewAlert>>>>,
    alerts_fail: bool,
    /// Calls of the alert store's `raise` (failing or not).
    alert_calls: Arc<AtomicUsize>,
    /// Calls of the market data port's `daily_candles_many`.
    candle_reads: Arc<AtomicUsize>,
    idempotency: Option<MockIdempotencyRepo>,
    audit: Option<MockAuditRepo>,
    budgets: Option<MockRiskBudgetRepo>,
    limits_repo: Option<MockRiskLimitsRepo>,
}

impl World {
    fn new() -> Self {
        let tenant = TenantId::new_random();
        let btc = noise(1, 300, 0.03);
        let eth: Vec<f64> = btc
            .iter()
            .zip(noise(2, 300, 0.02))
            .map(|(b, n)| 0.8 * b + n)
            .collect();
        let sol = noise(3, 300, 0.05);
        Self {
            tenant,
            cash: dec!(100000),
            spot: vec![
                ("BTCUSDT", dec!(1), dec!(40000)),
                ("ETHUSDT", dec!(10), dec!(2000)),
            ],
            futures: vec![],
            candles: BTreeMap::from([
                (sym("BTCUSDT"), candles_from("BTCUSDT", 40000.0, &btc)),
                (sym("ETHUSDT"), candles_from("ETHUSDT", 2000.0, &eth)),
                (sym("SOLUSDT"), candles_from("SOLUSDT", 100.0, &sol)),
            ]),
            limits: RiskLimits::default(),
            budget: None,
            snapshots: Vec::new(),
            regimes: Vec::new(),
            alerts: None,
            alerts_fail: false,
            alert_calls: Arc::default(),
            candle_reads: Arc::default(),
            idempotency: None,
            audit: None,
            budgets: None,
            limits_repo: None,
        }
    }

    fn actor(&self) -> Actor {
        Actor::user(self.tenant, UserId::new_random())
    }

    fn principal(&self, role: Role) -> Principal {
        Principal {
            tenant_id: self.tenant,
            user_id: UserId::new_random(),
            role,
            request_id: Some("req-1".into()),
            client_request_id: None,
        }
    }

    fn with_alerts(mut self) -> (Self, Arc<Mutex<Vec<NewAlert>>>) {
        let sink = Arc::new(Mutex::new(Vec::new()));
        self.alerts = Some(sink.clone());
        (self, sink)
    }

    fn last_close(&self, s: &Symbol) -> Option<Decimal> {
        self.candles.get(s).and_then(|c| c.last()).map(|c| c.close)
    }

    fn core(mut self) -> Arc<RiskCore> {
        let tenant = self.tenant;
        let mine = move |a: &Actor| a.tenant_id == tenant;

        let mut exchange = MockExchangeClient::new();
        let spot: Vec<(SpotBalance, Option<Decimal>)> = self
            .spot
            .iter()
            .map(|(s, q, avg)| {
                (
                    SpotBalance {
                        symbol: sym(s),
                        asset: s.trim_end_matches("USDT").into(),
                        quantity: *q,
                        avg_price: Some(*avg),
                    },
                    self.last_close(&sym(s)),
                )
            })
            .collect();
        let futures: Vec<FuturesPosition> = self
            .futures
            .iter()
            .map(|(s, side, q, entry)| FuturesPosition {
                symbol: sym(s),
                side: *side,
                quantity: *q,
                entry_price: *entry,
                mark_price: self.last_close(&sym(s)),
                leverage: dec!(1),
                liquidation_price: None,
            })
            .collect();
        let cash = self.cash;
        let view = move || AccountView {
            spot: spot.clone(),
            futures: futures.clone(),
            cash,
        };
        let async_view = view.clone();
        exchange
            .expect_account_view()
            .withf(move |a| mine(a))
            .returning(move |_| Ok(view()));
        // The request path's non-blocking read of the same account (a paper account's view).
        exchange
            .expect_account_view_nonblocking()
            .withf(move |a| mine(a))
            .returning(move |_| {
                let view = async_view();
                Some(Box::pin(async move { Ok(view) }))
            });
        let closes: BTreeMap<Symbol, Decimal> = self
            .candles
            .iter()
            .filter_map(|(s, c)| Some((s.clone(), c.last()?.close)))
            .collect();
        exchange
            .expect_prices()
            .withf(move |a, _, _| mine(a))
            .returning(move |_, _, symbols| {
                Ok(symbols
                    .iter()
                    .filter_map(|s| Some((s.clone(), *closes.get(s)?)))
                    .collect())
            });

        let mut market = MockMarketDataRepo::new();
        let candles = self.candles.clone();
        let candle_reads = self.candle_reads.clone();
        market
            .expect_daily_candles_many()
            .withf(move |a, _, _| mine(a))
            .returning(move |_, symbols, limit| {
                candle_reads.fetch_add(1, Ordering::SeqCst);
                Ok(symbols
                    .iter()
                    .filter_map(|s| {
                        let c = candles.get(s)?;
                        let skip = c.len().saturating_sub(limit as usize);
                        Some((s.clone(), c[skip..].to_vec()))
                    })
                    .collect())
            });
        let candles = self.candles.clone();
        market
            .expect_daily_candles()
            .withf(move |a, _, _| mine(a))
            .returning(move |_, s, limit| {
                let c = candles.get(s).cloned().unwrap_or_default();
                let skip = c.len().saturating_sub(limit as usize);
                Ok(c[skip..].to_vec())
            });
        market
            .expect_version()
            .returning(|_| Ok((Some(now()), 900)));

        let mut snapshots = MockPortfolioSnapshotRepo::new();
        let daily = self.snapshots.clone();
        snapshots
            .expect_daily()
            .withf(move |a, _| mine(a))
            .returning(move |_, since| {
                Ok(daily
                    .iter()
                    .filter(|s| s.taken_at >= since)
                    .cloned()
                    .collect())
            });
        let n = self.snapshots.len() as i64;
        snapshots.expect_version().returning(move |_| Ok((None, n)));

        let limits_repo = self.limits_repo.take().unwrap_or_else(|| {
            let mut repo = MockRiskLimitsRepo::new();
            let limits = self.limits.clone();
            repo.expect_get()
                .withf(move |a| mine(a))
                .returning(move |_| Ok(limits.clone()));
            repo
        });
        let budgets = self.budgets.take().unwrap_or_else(|| {
            let mut repo = MockRiskBudgetRepo::new();
            let budget = self.budget.clone();
            repo.expect_current()
                .withf(move |a| mine(a))
                .returning(move |_| Ok(budget.clone()));
            repo
        });
        let mut regimes = MockRegimeStore::new();
        let days = self.regimes.clone();
        regimes
            .expect_history()
            .withf(move |a, _| mine(a))
            .returning(move |_, n| {
                let skip = days.len().saturating_sub(n as usize);
                Ok(days[skip..].to_vec())
            });
        let alerts: Option<Arc<dyn alphapulse_domain::ports::AlertRepo>> =
            self.alerts.clone().map(|sink| {
                let mut repo = MockAlertRepo::new();
                let fail = self.alerts_fail;
                let calls = self.alert_calls.clone();
                repo.expect_raise()
                    .withf(move |a, _| mine(a))
                    .returning(move |_, alert| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        if fail {
                            return Err(RepoError::Unavailable("alerts down".into()));
                        }
                        sink.lock().unwrap().push(alert.clone());
                        Ok(Some(Alert {
                            id: uuid::Uuid::new_v4(),
                            title: alert.title.clone(),
                            message: alert.message.clone(),
                            severity: alert.severity,
                            source: alert.source,
                            created_at: now(),
                            acknowledged: false,
                            acknowledged_by: None,
                            acknowledged_at: None,
                            tags: alert.tags.clone(),
                        }))
                    });
                Arc::new(repo) as Arc<dyn alphapulse_domain::ports::AlertRepo>
            });
        let ports = RiskPorts::new(
            Arc::new(exchange),
            Arc::new(market),
            Arc::new(snapshots),
            Arc::new(MockTradeRepo::new()),
            Arc::new(limits_repo),
            Arc::new(budgets),
            Arc::new(self.idempotency.take().unwrap_or_default()),
            Arc::new(self.audit.take().unwrap_or_default()),
            Arc::new(regimes),
        )
        .with_alerts(alerts)
        .with_clock(Arc::new(ManualClock::new(now())));
        Arc::new(RiskCore::new(ports))
    }
}

fn budget(
    version: i32,
    total: Decimal,
    amounts: [Decimal; 4],
    regime: Option<Regime>,
) -> RiskBudget {
    let allocations = default_entities()
        .into_iter()
        .zip(amounts)
        .map(|((entity, entity_type, scope), amount)| BudgetAllocation {
            entity,
            entity_type,
            allocated_amount: amount,
            scope,
        })
        .collect();
    RiskBudget {
        id: uuid::Uuid::new_v4(),
        version,
        allocation_method: "equal_weight".into(),
        total_budget: total,
        volatility_target: 0.15,
        leverage_limit: 1.5,
        regime,
        reason: "test".into(),
        allocations,
        created_by: None,
        created_at: now() - Duration::days(3),
    }
}

// ---------------------------------------------------------------------------------------
// Risk metrics, exposure, limits
// ---------------------------------------------------------------------------------------

#[test]
fn metrics_come_from_the_holdings_candles_with_the_observations_counted() {
    let w = World::new();
    let actor = w.actor();
    // Portfolio value: 100000 cash + 1 BTC + 10 ETH at the last closes of the fixture.
    let btc = w.last_close(&sym("BTCUSDT")).unwrap();
    let eth = w.last_close(&sym("ETHUSDT")).unwrap();
    let value = dec!(100000) + dec!(1) * btc + dec!(10) * eth;
    assert_eq!(value, w.core_book_value());
    let reads = w.candle_reads.clone();
    let risk = RiskService::new(w.core());
    let m = risk.metrics(&actor, 252, 0.95).unwrap();
    assert_eq!(m.returns_source, ReturnsSource::Holdings);
    assert_eq!(m.observations, 252);
    assert_eq!(m.monte_carlo.simulations, 10_000);
    assert!(m.var.historical > 0.0 && m.cvar.historical >= m.var.historical);
    // 252 days of noisy returns do fall below a previous peak.
    assert!(m.volatility > 0.0 && m.max_drawdown > 0.0 && m.max_drawdown < 1.0);
    assert_eq!(m.portfolio_value, value);
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    // The same inputs give the same Monte Carlo figure (seeded), and the cache serves it:
    // the candles are not read again.
    let again = risk.metrics(&actor, 252, 0.95).unwrap();
    assert_eq!(again.var.monte_carlo, m.var.monte_carlo);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "the second call read the candles"
    );
}

#[test]
fn an_empty_book_answers_zeros_not_an_error() {
    let mut w = World::new();
    w.spot.clear();
    w.cash = dec!(0);
    let actor = w.actor();
    let core = w.core();
    let m = RiskService::new(core.clone())
        .metrics(&actor, 252, 0.95)
        .unwrap();
    assert_eq!(m.returns_source, ReturnsSource::None);
    assert_eq!(
        (m.observations, m.volatility, m.var.historical),
        (0, 0.0, 0.0)
    );
    assert_eq!(m.sharpe_ratio, None);
    let json = serde_json::to_string(&m).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    let e = RiskService::new(core.clone()).exposure(&actor).unwrap();
    assert!(e.assets.is_empty());
    assert_eq!(e.exposure_ratio, Some(0.0));
    let c = CorrelationService::new(core)
        .concentration(&actor, 252)
        .unwrap();
    assert_eq!(c.concentration_score, Some(0.0));
    assert!(c.high_correlation_pairs.is_empty() && c.risk_contributions.is_empty());
}

#[test]
fn fewer_than_30_returns_is_an_error_saying_how_many() {
    let mut w = World::new();
    let short = noise(9, 12, 0.02);
    w.candles
        .insert(sym("ETHUSDT"), candles_from("ETHUSDT", 2000.0, &short));
    let actor = w.actor();
    let risk = RiskService::new(w.core());
    match risk.metrics(&actor, 252, 0.95) {
        Err(ServiceError::TooFewObservations { have, need, .. }) => {
            assert_eq!((have, need), (12, 30));
        }
        other => panic!("{other:?}"),
    }
    // The report does not fail: it says why there are no metrics.
    let report = risk.report(&actor, 252, 0.95).unwrap();
    assert!(report.metrics.is_none());
    assert!(report.metrics_unavailable.unwrap().contains("12"));
}

#[test]
fn snapshots_are_the_source_once_they_cover_the_window() {
    let mut w = World::new();
    // 31 daily snapshots, value up 1 % a day.
    w.snapshots = (0..31)
        .map(|i| PortfolioSnapshot {
            id: uuid::Uuid::new_v4(),
            total_value: Decimal::from_f64(100_000.0 * 1.01_f64.powi(i)).unwrap(),
            cash: dec!(0),
            positions_value: dec!(0),
            gross_exposure: Some(dec!(0)),
            positions: 0,
            source: SnapshotSource::Job,
            taken_at: now() - Duration::days(30 - i64::from(i)),
        })
        .collect();
    let actor = w.actor();
    let risk = RiskService::new(w.core());
    let m = risk.metrics(&actor, 30, 0.95).unwrap();
    assert_eq!(m.returns_source, ReturnsSource::Snapshots);
    assert_eq!(m.observations, 30);
    // Every return is +1 %: no loss at all, no drawdown.
    assert!(
        (m.var.historical + 0.01).abs() < 1e-9,
        "{}",
        m.var.historical
    );
    assert_eq!(m.max_drawdown, 0.0);
    // A longer window than the snapshots cover comes from the holdings.
    let m = risk.metrics(&actor, 60, 0.95).unwrap();
    assert_eq!(m.returns_source, ReturnsSource::Holdings);
}

#[test]
fn limit_breaches_raise_risk_alerts_with_dedup_keys() {
    let (mut w, sink) = World::new().with_alerts();
    // 1 BTC (~40k) and 10 ETH (~20k) on 100k cash: BTC is ~25 % of the book.
    w.limits.max_position_weight = 0.10;
    let actor = w.actor();
    let risk = RiskService::new(w.core());
    let view = risk.limits(&actor).unwrap();
    let kinds: Vec<&str> = view.usage.breaches.iter().map(|b| b.limit).collect();
    assert!(kinds.contains(&"max_position_weight"), "{kinds:?}");
    let raised = sink.lock().unwrap().clone();
    let keys: Vec<&str> = raised.iter().map(|a| a.dedup_key.as_str()).collect();
    assert!(
        keys.contains(&"risk:max_position_weight:BTCUSDT"),
        "{keys:?}"
    );
    assert!(raised
        .iter()
        .all(|a| a.source == alphapulse_domain::ports::AlertSource::Risk));
}

#[test]
fn a_failing_or_absent_alert_store_never_fails_the_request() {
    let (mut w, _) = World::new().with_alerts();
    w.alerts_fail = true;
    w.limits.max_position_weight = 0.10;
    let actor = w.actor();
    let calls = w.alert_calls.clone();
    assert!(RiskService::new(w.core()).limits(&actor).is_ok());
    assert!(
        calls.load(Ordering::SeqCst) >= 1,
        "the failing store was never called"
    );
    let mut w = World::new();
    w.limits.max_position_weight = 0.10;
    let actor = w.actor();
    let view = RiskService::new(w.core()).limits(&actor).unwrap();
    assert!(
        !view.usage.breaches.is_empty(),
        "still reported without a store"
    );
}

#[test]
fn set_limits_validates_every_field_and_audits_before_and_after() {
    let mut w = World::new();
    let mut repo = MockRiskLimitsRepo::new();
    repo.expect_get().returning(|_| Ok(RiskLimits::default()));
    repo.expect_set()
        .withf(|_, l, note| {
            l.max_leverage == 2.0
                && l.max_position_weight == 0.2
                && note.action == "risk.limits.update"
                && note.details["before"]["max_leverage"] == 1.5
                && note.details["after"]["max_leverage"] == 2.0
        })
        .times(1)
        .returning(|_, l, _| Ok(l.clone()));
    w.limits_repo = Some(repo);
    let principal = w.principal(Role::Admin);
    let risk = RiskService::new(w.core());
    let bad = risk
        .set_limits(
            &principal,
            LimitsPatch {
                max_leverage: Some(0.5),
                target_volatility: Some(3.0),
                ..LimitsPatch::default()
            },
        )
        .unwrap_err();
    match bad {
        ServiceError::Invalid(errors) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
            assert_eq!(fields, ["max_leverage", "target_volatility"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        risk.set_limits(&principal, LimitsPatch::default()),
        Err(ServiceError::Invalid(_))
    ));
    let view = risk
        .set_limits(
            &principal,
            LimitsPatch {
                max_leverage: Some(2.0),
                ..LimitsPatch::default()
            },
        )
        .unwrap();
    assert_eq!(view.max_leverage, 2.0);
}

#[test]
fn position_size_is_capped_by_the_limits_and_names_unknown_symbols() {
    let w = World::new();
    let actor = w.actor();
    let risk = RiskService::new(w.core());
    let s = risk.position_size(&actor, "SOLUSDT").unwrap();
    assert!(s.weight <= 0.20 + 1e-12, "{}", s.weight);
    assert!(s.stop_loss < s.price && s.take_profit > s.price);
    // stop = price − 2·ATR, target = price + 3·ATR.
    let atr = Decimal::from_f64(s.atr).unwrap();
    assert!(((s.price - s.stop_loss) - dec!(2) * atr).abs() < dec!(0.0001));
    assert!(((s.take_profit - s.price) - dec!(3) * atr).abs() < dec!(0.0001));
    assert!(s.recommended_value <= s.max_size);
    match risk.position_size(&actor, "NOPEUSDT") {
        Err(ServiceError::UnknownSymbol(s)) => assert_eq!(s, "NOPEUSDT"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Correlation
// ---------------------------------------------------------------------------------------

#[test]
fn matrix_needs_two_known_symbols_with_enough_history() {
    let mut w = World::new();
    w.candles.insert(
        sym("NEWUSDT"),
        candles_from("NEWUSDT", 1.0, &noise(4, 20, 0.02)),
    );
    let actor = w.actor();
    let c = CorrelationService::new(w.core());
    let m = c
        .matrix(
            &actor,
            &["BTCUSDT".into(), "ETHUSDT".into(), "SOLUSDT".into()],
            252,
            crate::correlation::CorrelationMethod::Kendall,
        )
        .unwrap();
    assert_eq!(m.observations, 252);
    assert_eq!(m.matrix[0][0], Some(1.0));
    assert!(
        m.matrix[0][1].unwrap() > 0.3,
        "ETH follows BTC: {:?}",
        m.matrix[0][1]
    );
    assert!(matches!(
        c.matrix(
            &actor,
            &["BTCUSDT".into()],
            252,
            crate::correlation::CorrelationMethod::Pearson
        ),
        Err(ServiceError::Invalid(_))
    ));
    match c.matrix(
        &actor,
        &["BTCUSDT".into(), "XYZUSDT".into()],
        252,
        crate::correlation::CorrelationMethod::Pearson,
    ) {
        Err(ServiceError::UnknownSymbol(s)) => assert_eq!(s, "XYZUSDT"),
        other => panic!("{other:?}"),
    }
    match c.matrix(
        &actor,
        &["BTCUSDT".into(), "NEWUSDT".into()],
        252,
        crate::correlation::CorrelationMethod::Pearson,
    ) {
        Err(ServiceError::TooFewObservations { subject, have, .. }) => {
            assert_eq!((subject.as_str(), have), ("NEWUSDT", 20));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.matrix(
            &actor,
            &["BTCUSDT".into(), "ETHUSDT".into()],
            20,
            crate::correlation::CorrelationMethod::Pearson
        ),
        Err(ServiceError::Invalid(_))
    ));
}

#[test]
fn concentration_contributions_sum_to_the_portfolio_volatility() {
    let w = World::new();
    let actor = w.actor();
    let c = CorrelationService::new(w.core())
        .concentration(&actor, 252)
        .unwrap();
    let total: f64 = c.risk_contributions.values().sum();
    assert!((total - c.portfolio_volatility).abs() < 1e-9);
    let shares: f64 = c.risk_shares.values().sum();
    assert!((shares - 1.0).abs() < 1e-9);
    let weights: f64 = c.weights.values().sum();
    assert!((weights - 1.0).abs() < 1e-9);
    assert!(c.effective_assets.unwrap() >= 1.0 && c.effective_assets.unwrap() <= 2.0);
}

#[test]
fn a_correlation_spike_raises_one_alert_per_pair() {
    let (mut w, sink) = World::new().with_alerts();
    // Independent for 270 days, then ETH moves exactly like BTC for the last 30.
    let mut btc = noise(11, 300, 0.03);
    let mut eth = noise(12, 300, 0.03);
    for i in 270..300 {
        btc[i] = noise(13 + i as u64, 1, 0.03)[0];
        eth[i] = btc[i];
    }
    w.candles
        .insert(sym("BTCUSDT"), candles_from("BTCUSDT", 40000.0, &btc));
    w.candles
        .insert(sym("ETHUSDT"), candles_from("ETHUSDT", 2000.0, &eth));
    let actor = w.actor();
    let a = CorrelationService::new(w.core())
        .alerts(&actor, 0.8)
        .unwrap();
    assert_eq!(a.correlation_spike_alerts.len(), 1, "{a:?}");
    let spike = &a.correlation_spike_alerts[0];
    assert!(spike.correlation > 0.99 && spike.previous_correlation <= 0.8);
    let keys: Vec<String> = sink
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.dedup_key.clone())
        .collect();
    assert!(
        keys.contains(&"correlation:spike:BTCUSDT:ETHUSDT".to_owned()),
        "{keys:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Budgets
// ---------------------------------------------------------------------------------------

#[test]
fn utilisation_above_90_percent_raises_a_budget_alert() {
    let (mut w, sink) = World::new().with_alerts();
    // Gross exposure (1 BTC + 10 ETH at the last closes) on a budget it uses at 95 %.
    let gross = w.core_book_value() - w.cash;
    let total = gross / dec!(0.95);
    let half = total / dec!(2);
    w.budget = Some(budget(1, total, [half, half, half, half], None));
    let actor = w.actor();
    let u = BudgetService::new(w.core()).utilization(&actor).unwrap();
    let rate = u.total_utilization.unwrap();
    assert!((rate - 0.95).abs() < 1e-9, "{rate}");
    assert!(u.warnings[0].starts_with("Total utilization above 90%"));
    assert_eq!(u.by_strategy.len(), 2);
    let keys: Vec<String> = sink
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.dedup_key.clone())
        .collect();
    assert_eq!(keys, ["risk_budget:total_utilization"]);
}

#[test]
fn no_budget_is_not_found_and_the_first_rebalance_writes_version_1_with_its_audit_row() {
    let mut w = World::new();
    let mut budgets = MockRiskBudgetRepo::new();
    budgets.expect_current().returning(|_| Ok(None));
    budgets
        .expect_save()
        .withf(|_, b, note, answer| {
            b.version == 1
                && b.allocations.len() == 4
                && note.action == REBALANCE_SCOPE
                && answer.is_none()
                // 1.5 × the portfolio value, split in halves per view.
                && b.allocations[0].allocated_amount + b.allocations[1].allocated_amount
                    == b.total_budget
        })
        .times(1)
        .returning(|_, b, _, _| {
            Ok(RiskBudget {
                id: uuid::Uuid::new_v4(),
                version: b.version,
                allocation_method: b.allocation_method.clone(),
                total_budget: b.total_budget,
                volatility_target: b.volatility_target,
                leverage_limit: b.leverage_limit,
                regime: b.regime,
                reason: b.reason.clone(),
                allocations: b.allocations.clone(),
                created_by: None,
                created_at: now(),
            })
        });
    w.budgets = Some(budgets);
    let principal = w.principal(Role::Admin);
    let service = BudgetService::new(w.core());
    assert!(matches!(
        service.current_budget(&principal.actor()),
        Err(ServiceError::NoBudget)
    ));
    match service.rebalance(&principal, None, false).unwrap() {
        RebalanceAnswer::Fresh(v) => {
            assert_eq!((v.status, v.version), ("completed", Some(1)));
            assert_eq!(v.new_allocations.len(), 4);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_rebalance_without_triggers_is_skipped_and_audited() {
    let mut w = World::new();
    // Budget = 1.5 × NAV now, equal weights, no regime: nothing to do.
    let nav_book = w.core_book_value();
    let total = (nav_book * dec!(1.5)).round_dp(8);
    let half = (total / dec!(2)).round_dp(8);
    w.budget = Some(budget(
        3,
        total,
        [half, total - half, half, total - half],
        None,
    ));
    let mut audit = MockAuditRepo::new();
    audit
        .expect_append()
        .withf(|e| e.action == REBALANCE_SCOPE && e.details["status"] == "skipped")
        .times(1)
        .returning(|_| Ok(AuditId(uuid::Uuid::new_v4())));
    w.audit = Some(audit);
    let principal = w.principal(Role::Admin);
    match BudgetService::new(w.core())
        .rebalance(&principal, None, false)
        .unwrap()
    {
        RebalanceAnswer::Fresh(v) => {
            assert_eq!((v.status, v.version), ("skipped", Some(3)), "{}", v.reason);
        }
        other => panic!("{other:?}"),
    }
}

impl World {
    /// The net asset value the mocks will report (cash + spot at the last closes).
    fn core_book_value(&self) -> Decimal {
        self.cash
            + self
                .spot
                .iter()
                .map(|(s, q, _)| *q * self.last_close(&sym(s)).unwrap())
                .sum::<Decimal>()
    }
}

#[test]
fn an_idempotent_rebalance_replays_and_refuses_conflicts() {
    let mut w = World::new();
    let mut idem = MockIdempotencyRepo::new();
    let mut seq = mockall::Sequence::new();
    idem.expect_begin()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _, _| {
            Ok(IdempotencyBegin::Completed {
                status: 200,
                body: serde_json::json!({"status": "completed", "version": 7}),
            })
        });
    idem.expect_begin()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::Mismatch));
    idem.expect_begin()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::InProgress));
    w.idempotency = Some(idem);
    // Nothing else may be called: no budget read, no write (a budget mock without
    // expectations panics on any call).
    w.budgets = Some(MockRiskBudgetRepo::new());
    let principal = w.principal(Role::Admin);
    let service = BudgetService::new(w.core());
    match service
        .rebalance(&principal, Some("k1".into()), false)
        .unwrap()
    {
        RebalanceAnswer::Replayed { status, body } => {
            assert_eq!((status, body["version"].as_i64()), (200, Some(7)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        service.rebalance(&principal, Some("k1".into()), true),
        Err(ServiceError::KeyMismatch)
    ));
    assert!(matches!(
        service.rebalance(&principal, Some("k1".into()), false),
        Err(ServiceError::KeyInProgress)
    ));
}

#[test]
fn a_failed_rebalance_releases_its_key() {
    let mut w = World::new();
    let mut idem = MockIdempotencyRepo::new();
    idem.expect_begin()
        .returning(|_, _, _, _, _| Ok(IdempotencyBegin::Started));
    idem.expect_release()
        .withf(|_, scope, key| scope == REBALANCE_SCOPE && key == "k2")
        .times(1)
        .returning(|_, _, _| Ok(()));
    w.idempotency = Some(idem);
    let mut budgets = MockRiskBudgetRepo::new();
    budgets
        .expect_current()
        .returning(|_| Err(RepoError::Unavailable("down".into())));
    w.budgets = Some(budgets);
    let principal = w.principal(Role::Admin);
    assert!(matches!(
        BudgetService::new(w.core()).rebalance(&principal, Some("k2".into()), false),
        Err(ServiceError::Repo(RepoError::Unavailable(_)))
    ));
}

#[test]
fn a_regime_change_triggers_a_rebalance_recommendation() {
    let mut w = World::new();
    let total = (w.core_book_value() * dec!(1.5)).round_dp(8);
    let half = (total / dec!(2)).round_dp(8);
    w.budget = Some(budget(
        1,
        total,
        [half, total - half, half, total - half],
        Some(Regime::Bull),
    ));
    w.regimes = vec![RegimeDay {
        date: now().date_naive(),
        regime: Regime::Crisis,
        confidence: 0.9,
    }];
    let actor = w.actor();
    let r = BudgetService::new(w.core())
        .recommendations(&actor)
        .unwrap();
    assert!(r.requires_rebalancing);
    assert!(
        r.triggers.iter().any(|t| t.contains("from bull to crisis")),
        "{:?}",
        r.triggers
    );
    // Crisis: 40 % of the base budget.
    assert_eq!(r.target_total_budget, (total * dec!(0.4)).round_dp(8));
    assert_eq!(r.regime, Some(Regime::Crisis));
}

#[test]
fn regime_budgets_scale_the_base_and_unknown_regimes_are_named() {
    let w = World::new();
    let actor = w.actor();
    let base = (w.core_book_value() * dec!(1.5)).round_dp(8);
    let service = BudgetService::new(w.core());
    let bear = service.regime_budget(&actor, "bear").unwrap();
    assert_eq!(bear.base_budget, base);
    assert_eq!(bear.total_budget, (base * dec!(0.7)).round_dp(8));
    assert!((bear.leverage_limit - 1.125).abs() < 1e-12);
    match service.regime_budget(&actor, "neutral") {
        Err(ServiceError::UnknownRegime(r)) => assert_eq!(r, "neutral"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// The snapshot job
// ---------------------------------------------------------------------------------------

fn tenant(id: TenantId, slug: &str) -> Tenant {
    Tenant {
        id,
        name: slug.into(),
        slug: alphapulse_domain::Slug::parse(slug).unwrap(),
        subscription_tier: alphapulse_domain::SubscriptionTier::Starter,
        status: alphapulse_domain::TenantStatus::Active,
        max_users: 10,
        max_api_calls_per_day: 1000,
        created_at: now(),
        updated_at: now(),
        metadata: serde_json::json!({}),
    }
}

#[test]
fn the_job_counts_written_existing_and_failed_tenants_and_survives_an_outage() {
    let good = TenantId::new_random();
    let taken = TenantId::new_random();
    let broken = TenantId::new_random();
    let mut exchange = MockExchangeClient::new();
    exchange.expect_account_view().returning(move |a| {
        if a.tenant_id == broken {
            Err(ExchangeError::Unavailable("venue down".into()))
        } else {
            Ok(AccountView {
                spot: vec![],
                futures: vec![],
                cash: dec!(10),
            })
        }
    });
    let mut snapshots = MockPortfolioSnapshotRepo::new();
    snapshots
        .expect_record()
        .withf(|_, s, slot| {
            s.total_value == dec!(10)
                && matches!(slot, alphapulse_domain::ports::SnapshotSlot::Interval { bucket } if *bucket == now().timestamp() / 3600)
        })
        .returning(move |a, s, _| {
            Ok((a.tenant_id == good).then(|| PortfolioSnapshot {
                id: uuid::Uuid::new_v4(),
                total_value: s.total_value,
                cash: s.cash,
                positions_value: s.positions_value,
                gross_exposure: Some(s.gross_exposure),
                positions: 0,
                source: SnapshotSource::Job,
                taken_at: s.taken_at,
            }))
        });
    let ports = RiskPorts::new(
        Arc::new(exchange),
        Arc::new(MockMarketDataRepo::new()),
        Arc::new(snapshots),
        Arc::new(MockTradeRepo::new()),
        Arc::new(MockRiskLimitsRepo::new()),
        Arc::new(MockRiskBudgetRepo::new()),
        Arc::new(MockIdempotencyRepo::new()),
        Arc::new(MockAuditRepo::new()),
        Arc::new(MockRegimeStore::new()),
    )
    .with_clock(Arc::new(ManualClock::new(now())));
    let mut tenants = MockTenantRepo::new();
    let mut seq = mockall::Sequence::new();
    tenants
        .expect_list()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Err(RepoError::Unavailable("database down".into())));
    tenants
        .expect_list()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |filter, _| {
            assert_eq!(filter.status, Some(alphapulse_domain::TenantStatus::Active));
            // The platform's own tenant holds no book: the listing leaves it out.
            assert!(filter.firms_only);
            Ok(Page {
                items: vec![
                    tenant(good, "good"),
                    tenant(taken, "taken"),
                    tenant(broken, "broken"),
                ],
                next_cursor: None,
            })
        });
    let hooked = Arc::new(Mutex::new(Vec::new()));
    let seen = hooked.clone();
    let job = SnapshotJob::new(
        Arc::new(RiskCore::new(ports)),
        Arc::new(tenants),
        std::time::Duration::from_secs(3600),
    )
    .with_before_rules(Arc::new(move |a: &Actor| {
        seen.lock().unwrap().push(a.tenant_id)
    }));
    // The database is down: the pass fails, nothing panics, the next one works.
    assert!(matches!(
        job.run_once(),
        Err(ServiceError::Repo(RepoError::Unavailable(_)))
    ));
    let run = job.run_once().unwrap();
    assert_eq!(
        (
            run.tenants,
            run.written,
            run.existing,
            run.failed,
            run.overlapped
        ),
        (3, 1, 1, 1, false)
    );
    assert_eq!(run.bucket, now().timestamp() / 3600);
    // The hook (the regime refresh) ran for the tenant whose snapshot this pass wrote only.
    assert_eq!(*hooked.lock().unwrap(), vec![good]);
}

/// The request path serves the portfolio and the risk metrics without a blocking thread once
/// the blocking path has computed and cached them, with the same answer; before that (and for
/// history or invalid arguments) it declines and the blocking path answers.
#[test]
fn cached_portfolio_and_metrics_are_served_nonblocking_with_the_blocking_answers() {
    let w = World::new();
    let actor = w.actor();
    let core = w.core();
    let portfolio = PortfolioService::new(core.clone());
    let risk = RiskService::new(core);
    let fast_portfolio = || {
        portfolio
            .portfolio_nonblocking(&actor, false)
            .expect("offered")
            .now_or_never()
            .expect("ready")
    };
    let fast_metrics = || {
        risk.metrics_nonblocking(&actor, 252, 0.95)
            .expect("offered")
            .now_or_never()
            .expect("ready")
    };
    assert_eq!(fast_portfolio().unwrap(), None, "nothing cached yet");
    assert_eq!(fast_metrics().unwrap(), None, "nothing cached yet");
    let blocking = portfolio.portfolio(&actor, false).unwrap();
    assert_eq!(
        blocking.metrics.observations, 300,
        "a series of every candle"
    );
    assert_eq!(fast_portfolio().unwrap(), Some(blocking));
    let metrics = risk.metrics(&actor, 252, 0.95).unwrap();
    assert_eq!(fast_metrics().unwrap(), Some(metrics));
    assert_eq!(
        risk.metrics_nonblocking(&actor, 252, 0.99)
            .expect("offered")
            .now_or_never()
            .expect("ready")
            .unwrap(),
        None,
        "another confidence is another computation"
    );
    assert!(
        portfolio.portfolio_nonblocking(&actor, true).is_none(),
        "history"
    );
    assert!(
        risk.metrics_nonblocking(&actor, 1, 0.95).is_none(),
        "invalid lookback"
    );
    assert!(
        risk.metrics_nonblocking(&actor, 252, 1.5).is_none(),
        "invalid confidence"
    );
}
