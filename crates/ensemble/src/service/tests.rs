use std::sync::Arc;

use alphapulse_domain::{
    ports::{
        Actor, Ensemble, EnsembleAgent, EnsembleMethod, MockEnsembleRepo, MockMarketDataRepo,
        SignalInput, StoredPrediction, StoredSignal, TenantAgent,
    },
    Candle, Symbol, TenantId, UserId,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::*;

fn actor() -> Actor {
    Actor::user(TenantId::new_random(), UserId::new_random())
}

fn ensemble(id: Uuid, method: EnsembleMethod, version: i32) -> Ensemble {
    Ensemble {
        id,
        name: "e".into(),
        method,
        config: json!({}),
        weights_version: version,
        agent_count: 2,
        created_by: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn agent(id: &str, weight: f64) -> EnsembleAgent {
    EnsembleAgent {
        agent_id: id.into(),
        agent_type: "technical".into(),
        weight,
        active: true,
        created_at: Utc::now(),
    }
}

/// What `daily_closes` answers for these candles: one query for every symbol asked.
fn closes_of(
    symbols: &[Symbol],
    start: DateTime<Utc>,
    closes: &[i64],
) -> std::collections::BTreeMap<Symbol, Vec<(chrono::NaiveDate, Decimal)>> {
    symbols
        .iter()
        .map(|s| {
            let days = candles(s.as_str(), start, closes)
                .into_iter()
                .map(|c| (c.open_time.date_naive(), c.close))
                .collect();
            (s.clone(), days)
        })
        .collect()
}

fn candles(symbol: &str, start: DateTime<Utc>, closes: &[i64]) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = Decimal::from(*c);
            Candle {
                symbol: Symbol::parse(symbol).unwrap(),
                open_time: start + Duration::days(i as i64),
                open: c,
                high: c,
                low: c,
                close: c,
                volume: Decimal::ONE,
            }
        })
        .collect()
}

fn service(repo: MockEnsembleRepo, market: MockMarketDataRepo) -> EnsembleService {
    EnsembleService::new(Arc::new(repo), Arc::new(market))
}

#[test]
fn create_validates_every_field_at_once() {
    let s = service(MockEnsembleRepo::new(), MockMarketDataRepo::new());
    let err = s
        .create(
            &actor(),
            None,
            CreateEnsemble {
                name: "  ".into(),
                method: "stacking".into(),
                config: Some(json!([1])),
            },
        )
        .unwrap_err();
    let EnsembleError::Invalid(issues) = err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["name", "method", "config"]);
}

#[test]
fn create_hands_the_repository_its_audit_row() {
    let a = actor();
    let mut repo = MockEnsembleRepo::new();
    repo.expect_create()
        .withf(move |actor, new, audit| {
            *actor == a
                && new.method == EnsembleMethod::MajorityVote
                && new.name == "Core"
                && audit.action == "ensemble.create"
                && audit.target == format!("ensemble:{}", new.id)
                && audit.request_id.as_deref() == Some("req-1")
                && audit.user_id == a.user_id
        })
        .returning(|_, new, _| Ok(ensemble(new.id, new.method, 0)));
    let s = service(repo, MockMarketDataRepo::new());
    let created = s
        .create(
            &a,
            Some("req-1"),
            CreateEnsemble {
                name: " Core ".into(),
                method: "majority_vote".into(),
                config: None,
            },
        )
        .unwrap();
    assert_eq!(created.method, EnsembleMethod::MajorityVote);
}

#[test]
fn predict_rejects_out_of_range_signals_and_unknown_agents() {
    let id = Uuid::new_v4();
    // An unknown ensemble is not found, whatever the body says (checked first).
    let mut missing = MockEnsembleRepo::new();
    missing
        .expect_agents()
        .returning(|_, _| Err(alphapulse_domain::RepoError::NotFound("ensemble")));
    let s = service(missing, MockMarketDataRepo::new());
    let garbage = Predict {
        symbol: "not a symbol!".into(),
        signals: Vec::new(),
    };
    assert!(matches!(
        s.predict(&actor(), None, id, garbage),
        Err(EnsembleError::Repo(alphapulse_domain::RepoError::NotFound(
            _
        )))
    ));

    let mut repo = MockEnsembleRepo::new();
    repo.expect_agents().returning(move |_, _| {
        Ok((
            ensemble(id, EnsembleMethod::WeightedAverage, 1),
            vec![agent("a", 1.0)],
        ))
    });
    let s = service(repo, MockMarketDataRepo::new());
    let bad = Predict {
        symbol: "BTCUSDT".into(),
        signals: vec![SignalIn {
            agent_id: "a".into(),
            signal: 1.5,
            confidence: -0.1,
        }],
    };
    let Err(EnsembleError::Invalid(issues)) = s.predict(&actor(), None, id, bad) else {
        panic!("expected invalid")
    };
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].field, "signals[0].signal");

    let mut repo = MockEnsembleRepo::new();
    repo.expect_agents().returning(move |_, _| {
        Ok((
            ensemble(id, EnsembleMethod::WeightedAverage, 1),
            vec![agent("a", 1.0)],
        ))
    });
    repo.expect_record_prediction().never();
    let s = service(repo, MockMarketDataRepo::new());
    let unknown = Predict {
        symbol: "BTCUSDT".into(),
        signals: vec![
            SignalIn {
                agent_id: "a".into(),
                signal: 0.5,
                confidence: 0.5,
            },
            SignalIn {
                agent_id: "ghost".into(),
                signal: 0.5,
                confidence: 0.5,
            },
        ],
    };
    let Err(EnsembleError::Invalid(issues)) = s.predict(&actor(), None, id, unknown) else {
        panic!("expected invalid")
    };
    assert_eq!(issues[0].field, "signals[1].agent_id");
}

#[test]
fn predict_combines_with_stored_weights_and_records_the_price() {
    let id = Uuid::new_v4();
    let mut repo = MockEnsembleRepo::new();
    repo.expect_agents().returning(move |_, _| {
        Ok((
            ensemble(id, EnsembleMethod::WeightedAverage, 3),
            vec![agent("a", 0.75), agent("b", 0.25)],
        ))
    });
    repo.expect_record_prediction()
        .withf(|_, p, audit| {
            // 0.75 · 1.0 + 0.25 · (−1.0) = 0.5
            (p.prediction - 0.5).abs() < 1e-12
                && p.weights_version == 3
                && p.price_at == Some(Decimal::from(100))
                && audit.action == "ensemble.predict"
        })
        .returning(|_, p, _| {
            Ok(StoredPrediction {
                id: p.id,
                ensemble_id: p.ensemble_id,
                symbol: p.symbol.clone(),
                inputs: p.inputs.clone(),
                prediction: p.prediction,
                confidence: p.confidence,
                contributions: p.contributions.clone(),
                weights_version: p.weights_version,
                price_at: p.price_at,
                created_at: Utc::now(),
            })
        });
    let mut market = MockMarketDataRepo::new();
    market.expect_latest_closes().returning(|_, symbols| {
        Ok(symbols
            .iter()
            .map(|s| (s.clone(), Decimal::from(100)))
            .collect())
    });
    let s = service(repo, market);
    let stored = s
        .predict(
            &actor(),
            None,
            id,
            Predict {
                symbol: "btcusdt".into(),
                signals: vec![
                    SignalIn {
                        agent_id: "a".into(),
                        signal: 1.0,
                        confidence: 0.8,
                    },
                    SignalIn {
                        agent_id: "b".into(),
                        signal: -1.0,
                        confidence: 0.4,
                    },
                ],
            },
        )
        .unwrap();
    assert_eq!(stored.symbol.as_str(), "BTCUSDT");
    assert_eq!(stored.contributions.len(), 2);
}

fn history(id: Uuid, start: DateTime<Utc>) -> Vec<StoredPrediction> {
    // Day 0: a long 1.0, b short −1.0 → ensemble 0.5·1 + 0.5·(−1) = 0 (flat).
    // Day 1: a long 0.5, b long 0.5 → ensemble 0.5.
    // Closes 100 → 110 → 99: day 0 return +10 %, day 1 −10 %.
    let input = |agent: &str, signal: f64| SignalInput {
        agent_id: agent.into(),
        agent_type: "technical".into(),
        signal,
        confidence: 1.0,
    };
    let p = |day: i64, inputs: Vec<SignalInput>, prediction: f64| StoredPrediction {
        id: Uuid::new_v4(),
        ensemble_id: id,
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        inputs,
        prediction,
        confidence: 1.0,
        contributions: vec![],
        weights_version: 1,
        price_at: None,
        created_at: start + Duration::days(day) + Duration::hours(12),
    };
    vec![
        p(0, vec![input("a", 1.0), input("b", -1.0)], 0.0),
        p(1, vec![input("a", 0.5), input("b", 0.5)], 0.5),
        p(2, vec![input("a", 0.5)], 0.5),
    ]
}

fn history_mocks(id: Uuid) -> (MockEnsembleRepo, MockMarketDataRepo) {
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
    let mut repo = MockEnsembleRepo::new();
    repo.expect_agents().returning(move |_, _| {
        Ok((
            ensemble(id, EnsembleMethod::WeightedAverage, 4),
            vec![agent("a", 0.5), agent("b", 0.5)],
        ))
    });
    repo.expect_predictions()
        .returning(move |_, _, _| Ok(history(id, start)));
    let mut market = MockMarketDataRepo::new();
    market
        .expect_daily_closes()
        .times(1)
        .returning(move |_, symbols, _| Ok(closes_of(symbols, start, &[100, 110, 99])));
    (repo, market)
}

#[test]
fn performance_scores_agents_and_ensemble_against_later_closes() {
    let id = Uuid::new_v4();
    let (repo, market) = history_mocks(id);
    let report = service(repo, market)
        .performance(&actor(), id, None)
        .unwrap();
    // Ensemble: day 0 flat vs +10 % (miss, directional 0), day 1 long vs −10 % (miss,
    // −0.10), day 2 pending.
    assert_eq!((report.ensemble.evaluated, report.ensemble.pending), (2, 1));
    assert_eq!(report.ensemble.hit_rate, Some(0.0));
    // a: long +10 % (hit), long −10 % (miss) → hit rate 0.5, avg return 0.
    let a = &report.agents[0];
    assert_eq!((a.agent_id.as_str(), a.metrics.hit_rate), ("a", Some(0.5)));
    assert!(a.metrics.avg_return.unwrap().abs() < 1e-12);
    // b: short +10 % (miss, −0.10), long −10 % (miss, −0.10) → hit rate 0, avg −0.10.
    let b = &report.agents[1];
    assert_eq!(b.metrics.hit_rate, Some(0.0));
    assert!((b.metrics.avg_return.unwrap() + 0.10).abs() < 1e-9);
}

#[test]
fn optimisation_favours_the_better_agent_and_stores_a_new_version() {
    let id = Uuid::new_v4();
    let (mut repo, market) = history_mocks(id);
    repo.expect_set_weights()
        .withf(|_, _, update, audit| {
            update.base_version == 4
                && update.weights["a"] > update.weights["b"]
                && (update.weights.values().sum::<f64>() - 1.0).abs() < 1e-9
                && audit.action == "ensemble.optimize_weights"
        })
        .returning(|_, _, u, _| Ok(u.base_version + 1));
    let s = service(repo, market);
    let out = s
        .optimize_weights(
            &actor(),
            None,
            id,
            OptimizeWeights {
                method: "performance".into(),
                lookback: Some(10),
            },
        )
        .unwrap();
    assert_eq!(out.version, 5);
    assert_eq!(out.evaluated["a"], 2);
    let err = s
        .optimize_weights(
            &actor(),
            None,
            id,
            OptimizeWeights {
                method: "sharpe".into(),
                lookback: Some(0),
            },
        )
        .unwrap_err();
    let EnsembleError::Invalid(issues) = err else {
        panic!("{err:?}")
    };
    assert_eq!(issues.len(), 2);
}

#[test]
fn rankings_order_by_hit_rate_then_average_return() {
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    let mut repo = MockEnsembleRepo::new();
    repo.expect_tenant_agents().returning(|_| {
        Ok(["a", "b", "c", "idle"]
            .iter()
            .map(|id| TenantAgent {
                agent_id: (*id).into(),
                agent_type: "t".into(),
                ensembles: 1,
            })
            .collect())
    });
    repo.expect_recent_signals().returning(move |_, _| {
        let s = |agent: &str, day: i64, signal: f64| StoredSignal {
            agent_id: agent.into(),
            agent_type: "t".into(),
            symbol: Symbol::parse("ETHUSDT").unwrap(),
            signal,
            confidence: 0.5,
            created_at: start + Duration::days(day),
        };
        // Returns: day 0 +10 %, day 1 −10 %.
        Ok(vec![
            s("a", 0, 1.0),     // hit, +0.10
            s("a", 1, 1.0),     // miss, −0.10 → a: 0.5, avg 0
            s("b", 0, 0.2),     // hit, +0.10
            s("b", 1, -0.2),    // hit, +0.10 → b: 1.0
            s("c", 0, 1.0),     // hit, +0.10
            s("c", 1, 0.0),     // miss, 0 → c: 0.5, avg 0.05
            s("ghost", 0, 1.0), // not registered: ignored
        ])
    });
    let mut market = MockMarketDataRepo::new();
    let day0 = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
    market
        .expect_daily_closes()
        .times(1)
        .returning(move |_, symbols, _| Ok(closes_of(symbols, day0, &[100, 110, 99])));
    let rows = service(repo, market)
        .agent_rankings(&actor(), None)
        .unwrap();
    let order: Vec<&str> = rows.iter().map(|r| r.agent_id.as_str()).collect();
    assert_eq!(order, ["b", "c", "a", "idle"]);
    assert_eq!(rows[0].rank, 1);
    assert_eq!(rows[3].metrics.evaluated, 0);
}

#[test]
fn an_ensemble_holds_at_most_max_agents() {
    let id = Uuid::new_v4();
    let mut repo = MockEnsembleRepo::new();
    repo.expect_agents().returning(move |_, _| {
        let full: Vec<_> = (0..super::limits::MAX_AGENTS)
            .map(|i| agent(&format!("a{i}"), 1.0))
            .collect();
        Ok((ensemble(id, EnsembleMethod::WeightedAverage, 1), full))
    });
    repo.expect_register_agent().never();
    let err = service(repo, MockMarketDataRepo::new())
        .register_agent(
            &actor(),
            None,
            id,
            RegisterAgent {
                agent_id: "one-more".into(),
                agent_type: "technical".into(),
                initial_weight: None,
            },
        )
        .unwrap_err();
    assert!(matches!(err, EnsembleError::Conflict(m) if m.contains("maximum of 100")));
}
