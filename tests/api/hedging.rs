//! Hedging routes against real PostgreSQL and the paper exchange: analysis, execute (dry run,
//! real, idempotent retry, key reuse with another body), close, roles, tenant isolation,
//! audit rows and log lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::{trading::*, *};
use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, PaperBook},
    PositionSide, Role, TenantId,
};
use alphapulse_persistence::PgPaperBook;
use serde_json::{json, Value};

struct World {
    app: TestApp,
    a: TenantId,
    trader_a: String,
    viewer_a: String,
    b: TenantId,
    trader_b: String,
}

fn world() -> World {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (a, viewer_a) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000"), ("ETHUSDT", "10", "2000")],
        &[("BTCUSDT", PositionSide::Short, "0.5", "41000")],
        &[("BTCUSDT", 1.0)],
    );
    let (b, _) = seed_tenant(
        &mut app,
        "beta-quant",
        &[("SOLUSDT", "50", "80")],
        &[("SOLUSDT", PositionSide::Short, "20", "90")],
        &[("SOLUSDT", 1.0)],
    );
    let (_, trader_a) = app.user_with_token(a, "trader@acme.example", Role::Trader);
    let (_, trader_b) = app.user_with_token(b, "trader@beta.example", Role::Trader);
    World {
        app,
        a,
        trader_a,
        viewer_a,
        b,
        trader_b,
    }
}

fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

fn futures_of(app: &TestApp, tenant: TenantId) -> Vec<(String, PositionSide, String)> {
    PgPaperBook::new(app.repos.db.clone())
        .futures_positions(&Actor::system(tenant))
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.symbol.to_string(),
                p.side,
                p.quantity.normalize().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn analysis_recommends_orders_to_reach_the_target() {
    let w = world();
    // Latest closes set by hand so that every value is worked out from the fixtures.
    set_latest_closes(&w.app, &[("BTCUSDT", "40000"), ("ETHUSDT", "2500")]);
    let analysis = || {
        w.app.send(
            TestRequest::get()
                .uri("/api/v1/hedging/analysis")
                .insert_header(bearer(&w.viewer_a)),
        )
    };
    let res = analysis().await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    // The first request looked the account up (blocking path); the next one, with the
    // account cached, reads the target and the account view on async connections: same answer.
    assert_eq!(async_reads!(), 0);
    let again = analysis().await;
    assert_eq!((again.status, &again.body), (res.status, &res.body));
    assert_eq!(
        async_reads!(),
        2,
        "the target, and spot and futures in one account view, on async connections"
    );
    assert_eq!(res.body["target_hedge_ratio"], 1.0);
    let recs = res.body["recommendations"].as_array().unwrap();
    let btc = recs.iter().find(|r| r["symbol"] == "BTCUSDT").unwrap();
    assert_eq!(
        (btc["action"].as_str(), btc["quantity"].as_str()),
        (Some("increase_short"), Some("1.5"))
    );
    let eth = recs.iter().find(|r| r["symbol"] == "ETHUSDT").unwrap();
    assert_eq!(
        (eth["action"].as_str(), eth["quantity"].as_str()),
        (Some("open_short"), Some("10"))
    );
    // Spot: BTC 2 x 40000 = 80000, ETH 10 x 2500 = 25000, total 105000. Futures: the 0.5 BTC
    // short, 0.5 x 40000 = 20000. Net exposure 105000 - 20000 = 85000. Hedge ratio
    // 20000 / 105000 = 4/21; per asset BTC 20000 / 80000 = 0.25, ETH 0.
    let d = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    assert_eq!(
        (
            d(&res.body["spot_value"]),
            d(&res.body["futures_notional"]),
            d(&res.body["net_exposure"])
        ),
        (dec("105000"), dec("20000"), dec("85000"))
    );
    let ratio = res.body["hedge_ratio"].as_f64().unwrap();
    assert!((ratio - 4.0 / 21.0).abs() < 1e-12, "hedge ratio {ratio}");
    let assets: Vec<(&str, rust_decimal::Decimal, rust_decimal::Decimal, f64)> = res.body["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["symbol"].as_str().unwrap(),
                d(&a["spot_value"]),
                d(&a["short_notional"]),
                a["hedge_ratio"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        assets,
        vec![
            ("BTCUSDT", dec("80000"), dec("20000"), 0.25),
            ("ETHUSDT", dec("25000"), dec("0"), 0.0),
        ],
        "largest spot value first"
    );
}

#[actix_web::test]
async fn dry_run_places_nothing_and_execute_places_once_per_key() {
    let w = world();
    let before = futures_of(&w.app, w.a);
    let dry = w
        .app
        .send(post(
            "/api/v1/hedging/execute",
            &w.trader_a,
            json!({"dry_run": true}),
        ))
        .await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    assert_eq!(dry.body["status"], "dry_run");
    assert_eq!(dry.body["orders"].as_array().unwrap().len(), 2);
    assert!(dry.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["status"] == "planned"));
    assert_eq!(futures_of(&w.app, w.a), before, "a dry run placed orders");

    let body = json!({"target_hedge_ratio": 1.0});
    let first = w
        .app
        .send(
            post("/api/v1/hedging/execute", &w.trader_a, body.clone())
                .insert_header(("Idempotency-Key", "exec-1")),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["status"], "executed");
    let after = futures_of(&w.app, w.a);
    assert!(
        after.contains(&("BTCUSDT".into(), PositionSide::Short, "2".into())),
        "{after:?}"
    );
    assert!(
        after.contains(&("ETHUSDT".into(), PositionSide::Short, "10".into())),
        "{after:?}"
    );

    // Same key, same body: the first answer again, nothing placed.
    let retry = w
        .app
        .send(
            post("/api/v1/hedging/execute", &w.trader_a, body.clone())
                .insert_header(("Idempotency-Key", "exec-1")),
        )
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(futures_of(&w.app, w.a), after, "the retry placed orders");

    // Same key, another body: 409.
    let other = w
        .app
        .send(
            post(
                "/api/v1/hedging/execute",
                &w.trader_a,
                json!({"target_hedge_ratio": 0.5}),
            )
            .insert_header(("Idempotency-Key", "exec-1")),
        )
        .await;
    assert_eq!(other.status, 409, "{:?}", other.body);

    // Audit: one execute row (the retry is not a second action), with the orders.
    let rows: Vec<_> = w
        .app
        .audit_entries(w.a)
        .into_iter()
        .filter(|e| e.action == "hedging.execute")
        .collect();
    assert_eq!(rows.len(), 2, "dry run + one execution");
    assert!(rows.iter().any(|r| r.details["status"] == "executed"));
}

#[actix_web::test]
async fn close_closes_only_the_callers_hedges() {
    let w = world();
    let res = w
        .app
        .send(post("/api/v1/hedging/close", &w.trader_a, json!({})))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["closed"].as_array().unwrap().len(), 1);
    assert!(futures_of(&w.app, w.a).is_empty());
    assert_eq!(
        futures_of(&w.app, w.b),
        vec![("SOLUSDT".into(), PositionSide::Short, "20".into())],
        "B untouched"
    );
    // Executing for A never touches B either.
    let exec = w
        .app
        .send(post("/api/v1/hedging/execute", &w.trader_a, json!({})))
        .await;
    assert_eq!(exec.status, 200);
    assert_eq!(
        futures_of(&w.app, w.b),
        vec![("SOLUSDT".into(), PositionSide::Short, "20".into())]
    );
    // B's own action works on B.
    let b_close = w
        .app
        .send(post("/api/v1/hedging/close", &w.trader_b, json!({})))
        .await;
    assert_eq!(b_close.status, 200);
    assert!(futures_of(&w.app, w.b).is_empty());
}

#[actix_web::test]
async fn viewers_cannot_trade_and_bad_input_is_rejected() {
    let w = world();
    for path in ["/api/v1/hedging/execute", "/api/v1/hedging/close"] {
        let res = w.app.send(post(path, &w.viewer_a, json!({}))).await;
        assert_eq!(res.status, 403, "{path}: {:?}", res.body);
    }
    let bad = w
        .app
        .send(post(
            "/api/v1/hedging/execute",
            &w.trader_a,
            json!({"target_hedge_ratio": 1.5}),
        ))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), vec!["target_hedge_ratio"]);
    let malformed = w
        .app
        .send(
            TestRequest::post()
                .uri("/api/v1/hedging/execute")
                .insert_header(bearer(&w.trader_a))
                .insert_header(("content-type", "application/json"))
                .set_payload("{not json"),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.detail().starts_with("Malformed JSON"));
    let unknown = w
        .app
        .send(post(
            "/api/v1/hedging/execute",
            &w.trader_a,
            json!({"dry": true}),
        ))
        .await;
    assert_eq!(unknown.status, 422);
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn hedging_routes_log_tenant_and_user() {
    let w = world();
    let claims = w
        .app
        .state
        .authenticator
        .verifier()
        .verify(&w.trader_a)
        .unwrap();
    w.app
        .send(
            TestRequest::get()
                .uri("/api/v1/hedging/analysis")
                .insert_header(bearer(&w.trader_a)),
        )
        .await;
    w.app
        .send(post(
            "/api/v1/hedging/execute",
            &w.trader_a,
            json!({"dry_run": true}),
        ))
        .await;
    w.app
        .send(post(
            "/api/v1/hedging/close",
            &w.trader_a,
            json!({"dry_run": true}),
        ))
        .await;
    let prefix = format!("[Tenant: {}] [User: {}]", claims.tenant_id, claims.sub);
    for op in ["get hedge analysis", "execute hedge", "close hedges"] {
        assert!(logs_contain(&format!("{prefix} {op} started")), "{op}");
        assert!(logs_contain(&format!("{prefix} {op} completed")), "{op}");
    }
}
