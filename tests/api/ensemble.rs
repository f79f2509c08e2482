//! The 8 ensemble routes (seed 001) against real PostgreSQL: the happy path with its shapes
//! and numbers, roles (viewer 403 on changes), the cross-tenant matrix (404 on every `{id}`
//! route, the other tenant's ensemble untouched), audit rows, 422/400/409 answers, and the
//! `[Tenant: ..] [User: ..]` log lines of every route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use actix_web::test::TestRequest;
use alphapulse_domain::{ports::MarketDataRepo, Candle, Role, Symbol, TenantId};
use alphapulse_persistence::PgMarketDataRepo;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Midnight (UTC) of the day of `now`: a test reads the clock once and derives its days from
/// that one reading, so that no two of them straddle midnight.
fn midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap())
}

/// Daily candles of `symbol` with `closes`, the last one dated `last_day_offset` days from
/// `today` (0 = today).
fn seed_closes(
    app: &TestApp,
    symbol: &str,
    closes: &[i64],
    today: DateTime<Utc>,
    last_day_offset: i64,
) {
    let n = closes.len() as i64;
    let candles: Vec<Candle> = closes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = Decimal::from(*c);
            Candle {
                symbol: Symbol::parse(symbol).unwrap(),
                open_time: today + Duration::days(last_day_offset - (n - 1 - i as i64)),
                open: c,
                high: c,
                low: c,
                close: c,
                volume: Decimal::ONE,
            }
        })
        .collect();
    let db = app.repos.db.clone();
    PgMarketDataRepo::new(db).import(&candles).unwrap();
}

struct Tenant {
    id: TenantId,
    admin: String,
    trader: String,
    viewer: String,
}

fn tenant(app: &TestApp, slug: &str) -> Tenant {
    let id = app.create_tenant(slug, 10);
    let (_, admin) = app.user_with_token(id, &format!("admin@{slug}.example"), Role::Admin);
    let (_, trader) = app.user_with_token(id, &format!("trader@{slug}.example"), Role::Trader);
    let (_, viewer) = app.user_with_token(id, &format!("viewer@{slug}.example"), Role::Viewer);
    Tenant {
        id,
        admin,
        trader,
        viewer,
    }
}

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

async fn create(app: &TestApp, token: &str, method: &str) -> String {
    let res = app
        .send(post(
            "/api/v1/ensemble/create",
            token,
            json!({"name": "Core", "method": method, "config": {"horizon": "1d"}}),
        ))
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    res.body["ensemble_id"].as_str().unwrap().to_owned()
}

async fn register(app: &TestApp, token: &str, id: &str, agent: &str, kind: &str) -> JsonResponse {
    app.send(post(
        &format!("/api/v1/ensemble/{id}/register-agent"),
        token,
        json!({"agent_id": agent, "agent_type": kind}),
    ))
    .await
}

fn signals(pairs: &[(&str, f64, f64)]) -> Value {
    json!({
        "symbol": "BTCUSDT",
        "signals": pairs
            .iter()
            .map(|(a, s, c)| json!({"agent_id": a, "signal": s, "confidence": c}))
            .collect::<Vec<_>>(),
    })
}

fn weight_sum(weights: &Value) -> f64 {
    weights
        .as_object()
        .unwrap()
        .values()
        .map(|w| w.as_f64().unwrap())
        .sum()
}

fn close_to(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// An ensemble of tenant `t` with agents `a1` (technical) and `a2` (sentiment).
async fn ensemble_with_agents(app: &TestApp, t: &Tenant) -> String {
    let id = create(app, &t.trader, "weighted_average").await;
    assert_eq!(
        register(app, &t.trader, &id, "a1", "technical")
            .await
            .status,
        201
    );
    assert_eq!(
        register(app, &t.trader, &id, "a2", "sentiment")
            .await
            .status,
        201
    );
    id
}

#[actix_web::test]
async fn create_register_predict_score_optimise_list_and_rank() {
    let app = TestApp::new();
    let t = tenant(&app, "acme-capital");
    let today = midnight(Utc::now());
    // BTCUSDT closes ending today at 100.
    seed_closes(&app, "BTCUSDT", &[90, 95, 100], today, 0);

    let id = create(&app, &t.trader, "weighted_average").await;
    let first = register(&app, &t.trader, &id, "a1", "technical").await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["status"], "registered");
    assert_eq!(first.body["weights"]["a1"], 1.0);
    let second = register(&app, &t.admin, &id, "a2", "sentiment").await;
    assert_eq!(second.body["weights_version"], 2);
    assert!(close_to(weight_sum(&second.body["weights"]), 1.0));

    // 0.5 · 0.8 + 0.5 · (−0.5) = 0.15; confidence 0.5 · 0.9 + 0.5 · 0.6 = 0.75.
    let predicted = app
        .send(post(
            &format!("/api/v1/ensemble/{id}/predict"),
            &t.trader,
            signals(&[("a1", 0.8, 0.9), ("a2", -0.5, 0.6)]),
        ))
        .await;
    assert_eq!(predicted.status, 200, "{:?}", predicted.body);
    let body = &predicted.body;
    assert!(
        close_to(body["prediction"].as_f64().unwrap(), 0.15),
        "{body}"
    );
    assert!(
        close_to(body["confidence"].as_f64().unwrap(), 0.75),
        "{body}"
    );
    let contributions = body["contributions"].as_array().unwrap();
    assert_eq!(contributions.len(), 2);
    for key in [
        "agent_id",
        "agent_type",
        "signal",
        "confidence",
        "weight",
        "contribution",
    ] {
        assert!(
            contributions[0].get(key).is_some(),
            "contribution lacks {key}"
        );
    }
    assert_eq!(body["price_at"], "100", "latest close, as a decimal string");
    assert_eq!(body["symbol"], "BTCUSDT");
    assert!(body.get("tenant_id").is_none());

    // Before a later close exists the prediction is pending.
    let pending = app
        .send(get(
            &format!("/api/v1/ensemble/{id}/performance"),
            &t.viewer,
        ))
        .await;
    assert_eq!(pending.status, 200, "{:?}", pending.body);
    assert_eq!(pending.body["ensemble"]["pending"], 1);
    assert_eq!(pending.body["ensemble"]["evaluated"], 0);
    assert_eq!(pending.body["ensemble"]["hit_rate"], Value::Null);

    // Tomorrow closes at 110: +10 %. Ensemble (long) and a1 (long) hit, a2 (short) misses.
    seed_closes(&app, "BTCUSDT", &[110], today, 1);
    let perf = app
        .send(get(
            &format!("/api/v1/ensemble/{id}/performance"),
            &t.viewer,
        ))
        .await;
    assert_eq!(perf.status, 200);
    let e = &perf.body["ensemble"];
    assert_eq!(
        (e["evaluated"].clone(), e["pending"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(e["hit_rate"], 1.0);
    assert!(close_to(e["avg_return"].as_f64().unwrap(), 0.10));
    let agents = perf.body["agents"].as_array().unwrap();
    assert_eq!(agents[0]["agent_id"], "a1");
    assert_eq!(agents[0]["hit_rate"], 1.0);
    assert_eq!(agents[1]["hit_rate"], 0.0);
    assert!(close_to(agents[1]["avg_return"].as_f64().unwrap(), -0.10));
    assert_eq!(perf.body["ensemble_id"], id.as_str());

    // Weights: a1 and a2 equal after the two registrations, then optimised as new versions.
    let weights = app
        .send(get(&format!("/api/v1/ensemble/{id}/weights"), &t.viewer))
        .await;
    assert_eq!(weights.status, 200);
    assert_eq!(weights.body["weights"], json!({"a1": 0.5, "a2": 0.5}));
    assert_eq!(weights.body["version"], 2);
    // Each agent has one directional return: a1 +0.10, a2 -0.10.
    // performance: one return scores mean / MIN_STD = ±0.10 / 0.001 = ±100, clamped to ±5;
    //   softmax over (5, -5) = (1, e^-10) / (1 + e^-10); a2's 0.0000454 is raised to the
    //   0.05 floor; renormalised: a1 = p / (p + 0.05), a2 = 0.05 / (p + 0.05) with
    //   p = 1 / (1 + e^-10), i.e. about 0.952379 and 0.047621.
    // inverse_variance: no agent has the 2 returns a variance needs: equal weights.
    // equal: 1/2 each.
    let p = 1.0 / (1.0 + (-10f64).exp());
    let expected_weights = [
        ("performance", [p / (p + 0.05), 0.05 / (p + 0.05)]),
        ("inverse_variance", [0.5, 0.5]),
        ("equal", [0.5, 0.5]),
    ];
    let mut previous = [0.5, 0.5];
    let mut version = 2;
    for (method, expected) in expected_weights {
        let opt = app
            .send(post(
                &format!("/api/v1/ensemble/{id}/optimize-weights"),
                &t.trader,
                json!({"method": method, "lookback": 50}),
            ))
            .await;
        assert_eq!(opt.status, 200, "{method}: {:?}", opt.body);
        version += 1;
        assert_eq!(opt.body["version"], version, "{method}");
        assert_eq!(opt.body["method"], method);
        assert!(close_to(weight_sum(&opt.body["weights"]), 1.0), "{method}");
        for (key, want) in [("weights", expected), ("previous_weights", previous)] {
            let w = &opt.body[key];
            assert_eq!(w.as_object().unwrap().len(), 2, "{method} {key}: {w}");
            assert!(
                close_to(w["a1"].as_f64().unwrap(), want[0])
                    && close_to(w["a2"].as_f64().unwrap(), want[1]),
                "{method} {key}: {w}, expected a1 {} a2 {}",
                want[0],
                want[1]
            );
        }
        previous = expected;
        let now = app
            .send(get(&format!("/api/v1/ensemble/{id}/weights"), &t.viewer))
            .await;
        assert_eq!(now.body["version"], version);
        assert_eq!(now.body["weights"], opt.body["weights"]);
    }

    // List: paginated, newest first, with counts; no tenant_id.
    let second_id = create(&app, &t.admin, "majority_vote").await;
    let page = app.send(get("/api/v1/ensemble?limit=1", &t.viewer)).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .send(get(
            &format!("/api/v1/ensemble?limit=1&cursor={cursor}"),
            &t.viewer,
        ))
        .await;
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let all = app.send(get("/api/v1/ensemble", &t.viewer)).await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&id.as_str()) && ids.contains(&second_id.as_str()));
    let core = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(core["agent_count"], 2);
    assert_eq!(core["method"], "weighted_average");
    assert_eq!(core["config"]["horizon"], "1d");
    assert!(core.get("tenant_id").is_none());

    // Rankings: a1 (hit rate 1) above a2 (0).
    let ranks = app
        .send(get("/api/v1/ensemble/agent-rankings", &t.viewer))
        .await;
    assert_eq!(ranks.status, 200, "{:?}", ranks.body);
    let rows = ranks.body["rankings"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["agent_id"].clone(), rows[0]["rank"].clone()),
        (json!("a1"), json!(1))
    );
    assert_eq!(rows[0]["hit_rate"], 1.0);
    assert_eq!(rows[1]["agent_id"], "a2");
    assert_eq!(rows[1]["ensembles"], 1);
}

#[actix_web::test]
async fn majority_vote_and_confidence_weighted_ensembles_predict_by_their_method() {
    let app = TestApp::new();
    let t = tenant(&app, "beta-quant");
    for (method, expected, confidence) in [
        // Votes +1, +1, −1 with equal weights: p = +1, winning share 2/3.
        ("majority_vote", 1.0, 2.0 / 3.0),
        // (1·0.9·0.2 + 1·0.3·0.4 + 1·0.9·(−0.6)) / (0.9 + 0.3 + 0.9) = −0.24 / 2.1;
        // confidence = (0.9 + 0.3 + 0.9) / 3 = 0.7.
        ("confidence_weighted", -0.24 / 2.1, 0.7),
    ] {
        let id = create(&app, &t.trader, method).await;
        for agent in ["x", "y", "z"] {
            assert_eq!(
                register(&app, &t.trader, &id, agent, "ml").await.status,
                201
            );
        }
        let res = app
            .send(post(
                &format!("/api/v1/ensemble/{id}/predict"),
                &t.trader,
                signals(&[("x", 0.2, 0.9), ("y", 0.4, 0.3), ("z", -0.6, 0.9)]),
            ))
            .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert!(
            close_to(res.body["prediction"].as_f64().unwrap(), expected),
            "{method}: {}",
            res.body
        );
        assert!(
            close_to(res.body["confidence"].as_f64().unwrap(), confidence),
            "{method}: {}",
            res.body
        );
        assert_eq!(
            res.body["price_at"],
            Value::Null,
            "no market data for BTCUSDT"
        );
    }
}

#[actix_web::test]
async fn viewers_may_read_but_not_change() {
    let app = TestApp::new();
    let t = tenant(&app, "gamma-macro");
    let id = ensemble_with_agents(&app, &t).await;
    let v = &t.viewer;
    let changes = [
        post(
            "/api/v1/ensemble/create",
            v,
            json!({"name": "x", "method": "majority_vote"}),
        ),
        post(
            &format!("/api/v1/ensemble/{id}/register-agent"),
            v,
            json!({"agent_id": "a3", "agent_type": "technical"}),
        ),
        post(
            &format!("/api/v1/ensemble/{id}/predict"),
            v,
            signals(&[("a1", 0.1, 0.5)]),
        ),
        post(
            &format!("/api/v1/ensemble/{id}/optimize-weights"),
            v,
            json!({"method": "equal"}),
        ),
    ];
    for req in changes {
        let res = app.send(req).await;
        assert_eq!(res.status, 403, "{:?}", res.body);
    }
    for path in [
        "/api/v1/ensemble".to_owned(),
        "/api/v1/ensemble/agent-rankings".to_owned(),
        format!("/api/v1/ensemble/{id}/weights"),
        format!("/api/v1/ensemble/{id}/performance"),
    ] {
        assert_eq!(app.send(get(&path, v)).await.status, 200, "{path}");
    }
    // Nothing changed: still one ensemble, two agents, version 2, no predictions.
    let weights = app
        .send(get(&format!("/api/v1/ensemble/{id}/weights"), v))
        .await;
    assert_eq!(weights.body["version"], 2);
    let list = app.send(get("/api/v1/ensemble", v)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn another_tenants_ensemble_is_404_on_every_id_route_and_stays_untouched() {
    let app = TestApp::new();
    let a = tenant(&app, "acme-capital");
    let b = tenant(&app, "beta-quant");
    let theirs = ensemble_with_agents(&app, &b).await;
    let predicted = app
        .send(post(
            &format!("/api/v1/ensemble/{theirs}/predict"),
            &b.trader,
            signals(&[("a1", 0.5, 0.5)]),
        ))
        .await;
    assert_eq!(predicted.status, 200);
    let before_weights = app
        .send(get(
            &format!("/api/v1/ensemble/{theirs}/weights"),
            &b.viewer,
        ))
        .await
        .body;
    let before_perf = app
        .send(get(
            &format!("/api/v1/ensemble/{theirs}/performance"),
            &b.viewer,
        ))
        .await
        .body;
    let audit_before = app.audit_entries(b.id).len();

    for token in [&a.admin, &a.trader] {
        let requests = [
            (
                "register-agent",
                post(
                    &format!("/api/v1/ensemble/{theirs}/register-agent"),
                    token,
                    json!({"agent_id": "intruder", "agent_type": "technical"}),
                ),
            ),
            (
                "predict",
                post(
                    &format!("/api/v1/ensemble/{theirs}/predict"),
                    token,
                    signals(&[("a1", 1.0, 1.0)]),
                ),
            ),
            (
                "performance",
                get(&format!("/api/v1/ensemble/{theirs}/performance"), token),
            ),
            (
                "weights",
                get(&format!("/api/v1/ensemble/{theirs}/weights"), token),
            ),
            (
                "optimize-weights",
                post(
                    &format!("/api/v1/ensemble/{theirs}/optimize-weights"),
                    token,
                    json!({"method": "equal"}),
                ),
            ),
        ];
        for (route, req) in requests {
            let res = app.send(req).await;
            assert_eq!(res.status, 404, "{route}: {:?}", res.body);
            assert_eq!(res.detail(), "Ensemble not found", "{route}");
        }
    }
    // A viewer of A is refused the changes (403) and gets 404 on the reads.
    let res = app
        .send(get(
            &format!("/api/v1/ensemble/{theirs}/weights"),
            &a.viewer,
        ))
        .await;
    assert_eq!(res.status, 404);
    // A's list and rankings do not show B's ensemble or agents.
    let list = app.send(get("/api/v1/ensemble", &a.viewer)).await;
    assert_eq!(list.body["items"], json!([]));
    let ranks = app
        .send(get("/api/v1/ensemble/agent-rankings", &a.viewer))
        .await;
    assert_eq!(ranks.body["rankings"], json!([]));

    // B's ensemble is unchanged, and B's audit log has no new rows.
    let after_weights = app
        .send(get(
            &format!("/api/v1/ensemble/{theirs}/weights"),
            &b.viewer,
        ))
        .await
        .body;
    let after_perf = app
        .send(get(
            &format!("/api/v1/ensemble/{theirs}/performance"),
            &b.viewer,
        ))
        .await
        .body;
    assert_eq!(before_weights, after_weights);
    assert_eq!(before_perf, after_perf);
    assert_eq!(after_perf["ensemble"]["signals"], 1);
    assert_eq!(app.audit_entries(b.id).len(), audit_before);
    assert!(app
        .audit_entries(a.id)
        .iter()
        .all(|e| !e.action.starts_with("ensemble.")));
}

#[actix_web::test]
async fn every_change_is_audited_with_user_target_and_request_id() {
    let app = TestApp::new();
    let t = tenant(&app, "acme-capital");
    let claims = app
        .state
        .authenticator
        .verifier()
        .verify(&t.trader)
        .unwrap();
    let id = create(&app, &t.trader, "weighted_average").await;
    let reg = register(&app, &t.trader, &id, "a1", "technical").await;
    let pred = app
        .send(post(
            &format!("/api/v1/ensemble/{id}/predict"),
            &t.trader,
            signals(&[("a1", 0.3, 0.4)]),
        ))
        .await;
    let opt = app
        .send(post(
            &format!("/api/v1/ensemble/{id}/optimize-weights"),
            &t.trader,
            json!({"method": "equal"}),
        ))
        .await;
    assert_eq!(
        (
            reg.status.as_u16(),
            pred.status.as_u16(),
            opt.status.as_u16()
        ),
        (201, 200, 200)
    );
    let entries = app.audit_entries(t.id);
    let ours: Vec<_> = entries
        .iter()
        .filter(|e| e.action.starts_with("ensemble."))
        .collect();
    let mut actions: Vec<&str> = ours.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "ensemble.create",
            "ensemble.optimize_weights",
            "ensemble.predict",
            "ensemble.register_agent"
        ]
    );
    for e in &ours {
        assert_eq!(
            e.user_id.map(|u| u.as_uuid()),
            Some(claims.sub),
            "{}",
            e.action
        );
        assert_eq!(e.target, format!("ensemble:{id}"));
        assert!(e.request_id.is_some());
    }
    let predict_row = ours
        .iter()
        .find(|e| e.action == "ensemble.predict")
        .unwrap();
    assert_eq!(
        predict_row.request_id.as_deref(),
        pred.header("x-request-id")
    );
    assert_eq!(
        predict_row.details["prediction_id"],
        pred.body["prediction_id"]
    );

    // The signals of the prediction went to agent_signals (read back through the rankings).
    let ranks = app
        .send(get("/api/v1/ensemble/agent-rankings", &t.viewer))
        .await;
    assert_eq!(ranks.body["rankings"][0]["signals"], 1);

    // A refused change writes nothing.
    let before = app.audit_entries(t.id).len();
    let bad = app
        .send(post(
            &format!("/api/v1/ensemble/{id}/predict"),
            &t.trader,
            signals(&[("ghost", 0.3, 0.4)]),
        ))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(app.audit_entries(t.id).len(), before);
}

#[actix_web::test]
async fn invalid_input_is_422_malformed_json_400_duplicates_409() {
    let app = TestApp::new();
    let t = tenant(&app, "acme-capital");
    let id = ensemble_with_agents(&app, &t).await;
    let predict = |body: Value| post(&format!("/api/v1/ensemble/{id}/predict"), &t.trader, body);

    let cases: Vec<(TestRequest, Vec<&str>)> = vec![
        (
            predict(signals(&[("a1", 1.5, 0.5)])),
            vec!["signals[0].signal"],
        ),
        (
            predict(signals(&[("a1", -1.01, 0.5)])),
            vec!["signals[0].signal"],
        ),
        (
            predict(signals(&[("a1", 0.5, 1.2)])),
            vec!["signals[0].confidence"],
        ),
        (
            predict(signals(&[("a1", 0.5, 0.5), ("nobody", 0.5, 0.5)])),
            vec!["signals[1].agent_id"],
        ),
        (
            predict(signals(&[("a1", 0.5, 0.5), ("a1", 0.1, 0.5)])),
            vec!["signals[1].agent_id"],
        ),
        (
            predict(json!({"symbol": "BTCUSDT", "signals": []})),
            vec!["signals"],
        ),
        (
            predict(
                json!({"symbol": "bad symbol!", "signals": [{"agent_id": "a1", "signal": 0.1, "confidence": 0.1}]}),
            ),
            vec!["symbol"],
        ),
        (
            post(
                "/api/v1/ensemble/create",
                &t.trader,
                json!({"name": "x", "method": "stacking"}),
            ),
            vec!["method"],
        ),
        (
            post(
                "/api/v1/ensemble/create",
                &t.trader,
                json!({"name": "", "method": "majority_vote", "config": [1]}),
            ),
            vec!["name", "config"],
        ),
        (
            post(
                &format!("/api/v1/ensemble/{id}/optimize-weights"),
                &t.trader,
                json!({"method": "sharpe_ratio"}),
            ),
            vec!["method"],
        ),
        (
            post(
                &format!("/api/v1/ensemble/{id}/optimize-weights"),
                &t.trader,
                json!({"method": "equal", "lookback": 0}),
            ),
            vec!["lookback"],
        ),
        (
            post(
                &format!("/api/v1/ensemble/{id}/register-agent"),
                &t.trader,
                json!({"agent_id": "has space", "agent_type": "t", "initial_weight": -1}),
            ),
            vec!["agent_id", "initial_weight"],
        ),
        (
            get(
                &format!("/api/v1/ensemble/{id}/performance?lookback=0"),
                &t.trader,
            ),
            vec!["lookback"],
        ),
        (get("/api/v1/ensemble?limit=0", &t.trader), vec!["limit"]),
    ];
    for (req, fields) in cases {
        let res = app.send(req).await;
        assert_eq!(res.status, 422, "{fields:?}: {:?}", res.body);
        assert_eq!(res.error_fields(), fields, "{:?}", res.body);
    }

    // Missing field: 422 on the body; malformed JSON: 400.
    let missing = app
        .send(post(
            "/api/v1/ensemble/create",
            &t.trader,
            json!({"name": "x"}),
        ))
        .await;
    assert_eq!(missing.status, 422);
    let malformed = app
        .send(
            TestRequest::post()
                .uri(&format!("/api/v1/ensemble/{id}/predict"))
                .insert_header(bearer(&t.trader))
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"symbol\": \"BTCUSDT\", \"signals\": ["),
        )
        .await;
    assert_eq!(malformed.status, 400, "{:?}", malformed.body);

    // Registering an agent twice: 409; an unknown or malformed id: 404.
    let dup = register(&app, &t.trader, &id, "a1", "technical").await;
    assert_eq!(dup.status, 409, "{:?}", dup.body);
    let unknown = uuid::Uuid::new_v4();
    let res = app
        .send(get(
            &format!("/api/v1/ensemble/{unknown}/weights"),
            &t.viewer,
        ))
        .await;
    assert_eq!(res.status, 404);
    let res = app
        .send(get("/api/v1/ensemble/not-a-uuid/weights", &t.viewer))
        .await;
    assert_eq!(res.status, 404);

    // Optimising an ensemble without agents: 409.
    let empty = create(&app, &t.trader, "majority_vote").await;
    let res = app
        .send(post(
            &format!("/api/v1/ensemble/{empty}/optimize-weights"),
            &t.trader,
            json!({"method": "equal"}),
        ))
        .await;
    assert_eq!(res.status, 409, "{:?}", res.body);
    let weights = app
        .send(get(&format!("/api/v1/ensemble/{empty}/weights"), &t.viewer))
        .await;
    assert_eq!(weights.body["weights"], json!({}));
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn every_route_logs_tenant_and_user_at_start_and_finish() {
    let app = TestApp::new();
    let t = tenant(&app, "acme-capital");
    let claims = app
        .state
        .authenticator
        .verifier()
        .verify(&t.trader)
        .unwrap();
    let id = create(&app, &t.trader, "weighted_average").await;
    assert_eq!(
        register(&app, &t.trader, &id, "a1", "technical")
            .await
            .status,
        201
    );
    let requests = [
        post(
            &format!("/api/v1/ensemble/{id}/predict"),
            &t.trader,
            signals(&[("a1", 0.2, 0.9)]),
        ),
        get(&format!("/api/v1/ensemble/{id}/performance"), &t.trader),
        get(&format!("/api/v1/ensemble/{id}/weights"), &t.trader),
        post(
            &format!("/api/v1/ensemble/{id}/optimize-weights"),
            &t.trader,
            json!({"method": "equal"}),
        ),
        get("/api/v1/ensemble", &t.trader),
        get("/api/v1/ensemble/agent-rankings", &t.trader),
    ];
    for req in requests {
        let res = app.send(req).await;
        assert!(res.status.is_success(), "{:?}", res.body);
    }
    let prefix = format!("[Tenant: {}] [User: {}]", claims.tenant_id, claims.sub);
    for op in [
        "create ensemble",
        "register ensemble agent",
        "predict with ensemble",
        "get ensemble performance",
        "get ensemble weights",
        "optimize ensemble weights",
        "list ensembles",
        "get agent rankings",
    ] {
        assert!(
            logs_contain(&format!("{prefix} {op} started")),
            "{op} start missing"
        );
        assert!(
            logs_contain(&format!("{prefix} {op} completed")),
            "{op} finish missing"
        );
    }
    // Failures are logged with the tenant too.
    let res = app
        .send(post(
            &format!("/api/v1/ensemble/{id}/predict"),
            &t.trader,
            signals(&[("ghost", 0.2, 0.9)]),
        ))
        .await;
    assert_eq!(res.status, 422);
    assert!(logs_contain(&format!(
        "{prefix} predict with ensemble failed"
    )));
}
