//! Seed 000's test list for the 7 positions and regime routes, in Rust, against real
//! PostgreSQL (paper exchange, stored candles, regime store) plus a mocked exchange for the
//! failure path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::common::{trading::*, *};
use actix_web::test::TestRequest;
use alphapulse_domain::{
    exchange::MockExchangeClient, ExchangeError, PositionSide, Role, TenantId,
};
use alphapulse_hedging::PositionService;
use base64::Engine as _;
use chrono::Utc;
use rust_decimal::Decimal;

const ROUTES: [&str; 7] = [
    "/api/v1/positions/spot",
    "/api/v1/positions/futures",
    "/api/v1/positions/metrics",
    "/api/v1/regime/current",
    "/api/v1/regime/history?days=30",
    "/api/v1/regime/analysis/bull",
    "/api/v1/regime/alerts",
];

fn two_tenants() -> (TestApp, String, String) {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (_, a) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000"), ("ETHUSDT", "10", "2000")],
        &[("BTCUSDT", PositionSide::Short, "1", "41000")],
        &[("BTCUSDT", 0.6), ("ETHUSDT", 0.4)],
    );
    let (_, b) = seed_tenant(
        &mut app,
        "beta-quant",
        &[("SOLUSDT", "500", "80")],
        &[],
        &[("SOLUSDT", 1.0)],
    );
    (app, a, b)
}

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

#[actix_web::test]
async fn every_route_rejects_missing_expired_and_tampered_tokens() {
    let (app, token, _) = two_tenants();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    claims["tenant_id"] = TenantId::new_random().to_string().into();
    parts[1] = engine.encode(serde_json::to_vec(&claims).unwrap());
    let tampered = parts.join(".");
    let expired = app
        .issuer
        .issue_at(
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
            Role::Viewer,
            std::time::Duration::from_secs(60),
            Utc::now().timestamp() - 7200,
        )
        .unwrap();
    for path in ROUTES {
        assert_eq!(
            app.send(TestRequest::get().uri(path)).await.status,
            401,
            "{path} without token"
        );
        assert_eq!(
            app.send(get(path, &expired)).await.status,
            401,
            "{path} expired"
        );
        assert_eq!(
            app.send(get(path, &tampered)).await.status,
            401,
            "{path} tampered"
        );
    }
}

#[actix_web::test]
async fn each_tenant_sees_its_own_positions_in_the_documented_shape() {
    let (app, a, b) = two_tenants();
    let spot_a = app.send(get(ROUTES[0], &a)).await;
    assert_eq!(spot_a.status, 200, "{:?}", spot_a.body);
    let items = spot_a.body.as_array().unwrap();
    let symbols: Vec<&str> = items
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols.len(), 2);
    assert!(
        symbols.contains(&"BTCUSDT") && symbols.contains(&"ETHUSDT"),
        "{symbols:?}"
    );
    for p in items {
        for key in [
            "quantity",
            "avg_price",
            "current_price",
            "value",
            "unrealized_pnl",
        ] {
            let text = p[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is not a decimal string: {p}"));
            text.parse::<Decimal>().unwrap();
        }
        assert!(p.get("tenant_id").is_none());
    }
    let spot_b = app.send(get(ROUTES[0], &b)).await;
    let b_symbols: Vec<&str> = spot_b
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(b_symbols, vec!["SOLUSDT"], "B sees only its own holdings");

    let fut_a = app.send(get(ROUTES[1], &a)).await;
    assert_eq!(fut_a.status, 200);
    let f = &fut_a.body.as_array().unwrap()[0];
    assert_eq!(
        (f["symbol"].as_str(), f["side"].as_str()),
        (Some("BTCUSDT"), Some("short"))
    );
    for key in [
        "quantity",
        "entry_price",
        "mark_price",
        "leverage",
        "notional",
        "unrealized_pnl",
        "liquidation_price",
    ] {
        assert!(f[key].is_string(), "{key}: {f}");
    }
    assert_eq!(
        app.send(get(ROUTES[1], &b))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let m_a = app.send(get(ROUTES[2], &a)).await.body;
    let m_b = app.send(get(ROUTES[2], &b)).await.body;
    for key in [
        "total_value",
        "spot_value",
        "futures_notional",
        "net_exposure",
    ] {
        assert!(m_a[key].is_string(), "{key}");
    }
    assert_eq!(
        (m_a["spot_count"].as_u64(), m_a["futures_count"].as_u64()),
        (Some(2), Some(1))
    );
    let ratio = m_a["hedge_ratio"].as_f64().unwrap();
    assert!(
        ratio > 0.0 && ratio < 1.0,
        "acme hedges part of its BTC: {ratio}"
    );
    assert_eq!(m_b["hedge_ratio"].as_f64(), Some(0.0));
    assert_ne!(m_a["spot_value"], m_b["spot_value"]);
}

#[actix_web::test]
async fn regime_routes_answer_per_tenant() {
    let (app, a, b) = two_tenants();
    let current = app.send(get(ROUTES[3], &a)).await;
    assert_eq!(current.status, 200, "{:?}", current.body);
    let body = &current.body;
    let regimes = ["bull", "bear", "sideways", "crisis", "recovery"];
    assert!(regimes.contains(&body["current_regime"].as_str().unwrap()));
    let total: f64 = body["probabilities"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-6, "probabilities sum to {total}");
    assert!(body["confidence"].as_f64().unwrap() > 0.0);
    assert!(body["duration_days"].as_i64().unwrap() >= 1);
    assert!(body["since"].is_string() && body["features"].is_object());
    assert_eq!(body["model"]["n_states"], 3);
    assert_eq!(body["model"]["observations"], 300);
    assert!(body["model"]["trained_at"].is_string());

    let history = app.send(get("/api/v1/regime/history?days=60", &a)).await;
    assert_eq!(history.status, 200);
    let days = history.body.as_array().unwrap();
    assert!(!days.is_empty() && days.len() <= 60, "{}", days.len());
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "newest last");
    for bad in ["0", "1000", "-1", "abc"] {
        let res = app
            .send(get(&format!("/api/v1/regime/history?days={bad}"), &a))
            .await;
        assert_eq!(res.status, 422, "days={bad}");
        assert!(!res.detail().is_empty());
    }

    let analysis = app.send(get("/api/v1/regime/analysis/crisis", &a)).await;
    assert_eq!(analysis.status, 200);
    for key in [
        "regime_type",
        "description",
        "historical_frequency",
        "avg_duration_days",
        "avg_return",
        "avg_volatility",
        "strategies",
        "risk_adjustments",
    ] {
        assert!(analysis.body.get(key).is_some(), "{key}");
    }
    let unknown = app.send(get("/api/v1/regime/analysis/moon", &a)).await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown
            .detail()
            .contains("bull, bear, sideways, crisis, recovery"),
        "{}",
        unknown.detail()
    );

    let alerts = app.send(get(ROUTES[6], &a)).await;
    assert_eq!(alerts.status, 200);
    let alerts = alerts.body.as_array().unwrap();
    assert!(!alerts.is_empty());
    for key in [
        "id",
        "created_at",
        "from_regime",
        "to_regime",
        "confidence",
        "message",
        "acknowledged",
    ] {
        assert!(alerts[0].get(key).is_some(), "{key}");
    }

    // B's universe is different data: its history differs from A's.
    let history_b = app
        .send(get("/api/v1/regime/history?days=365", &b))
        .await
        .body;
    let history_a = app
        .send(get("/api/v1/regime/history?days=365", &a))
        .await
        .body;
    assert_ne!(history_a, history_b);
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn an_exchange_failure_is_503_failed_to_fetch() {
    let mut app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    let (_, token) = app.user_with_token(tenant, "viewer@acme.example", Role::Viewer);
    let mut exchange = MockExchangeClient::new();
    exchange
        .expect_spot_valued()
        .returning(|_| Err(ExchangeError::Unavailable("connect timeout".into())));
    exchange
        .expect_futures_positions()
        .returning(|_| Err(ExchangeError::Auth("bad key".into())));
    app.state.services.positions = PositionService::new(Arc::new(exchange));
    let spot = app.send(get(ROUTES[0], &token)).await;
    assert_eq!(spot.status, 503);
    assert_eq!(spot.detail(), "Failed to fetch spot positions");
    assert!(spot.header("retry-after").is_some());
    assert!(
        !spot.body.to_string().contains("connect timeout"),
        "cause leaked"
    );
    let futures = app.send(get(ROUTES[1], &token)).await;
    assert_eq!(futures.detail(), "Failed to fetch futures positions");
    let metrics = app.send(get(ROUTES[2], &token)).await;
    assert_eq!(metrics.detail(), "Failed to fetch position metrics");
    assert!(logs_contain("connect timeout"), "cause logged");
    assert!(logs_contain(&format!("[Tenant: {tenant}]")));
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn every_route_logs_tenant_and_user_at_start_and_finish() {
    let (app, token, _) = two_tenants();
    let claims = app.state.authenticator.verifier().verify(&token).unwrap();
    for path in ROUTES {
        assert_eq!(app.send(get(path, &token)).await.status, 200, "{path}");
    }
    let prefix = format!("[Tenant: {}] [User: {}]", claims.tenant_id, claims.sub);
    for op in [
        "get spot positions",
        "get futures positions",
        "get position metrics",
        "get current regime",
        "get regime history",
        "get regime analysis",
        "get regime alerts",
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
}
