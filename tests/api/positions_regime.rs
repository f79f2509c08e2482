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
    // The tokens below belong to a real, active viewer of a real tenant: its fresh token is
    // served on every route, so what the expired one lacks is only time.
    let claims = app.state.authenticator.verifier().verify(&token).unwrap();
    let now = Utc::now().timestamp();
    // Issued 2 h ago for 60 s: expired 7140 s ago, far past the 30 s leeway.
    let expired = app
        .issuer
        .issue_at(
            claims.sub,
            claims.tenant_id,
            Role::Viewer,
            std::time::Duration::from_secs(60),
            now - 7200,
        )
        .unwrap();
    assert!(
        matches!(
            app.state.authenticator.verifier().verify(&expired),
            Err(tenant_auth::AuthError::Expired)
        ),
        "the verifier must refuse the token for its expiry"
    );
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut tampered_claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    tampered_claims["tenant_id"] = TenantId::new_random().to_string().into();
    parts[1] = engine.encode(serde_json::to_vec(&tampered_claims).unwrap());
    let tampered = parts.join(".");
    for path in ROUTES {
        let fresh = app.send(get(path, &token)).await;
        assert_eq!(
            fresh.status, 200,
            "{path} with a fresh token: {:?}",
            fresh.body
        );
        for (case, req, reason) in [
            (
                "without token",
                TestRequest::get().uri(path),
                "missing bearer token",
            ),
            ("expired", get(path, &expired), "token expired"),
            ("tampered", get(path, &tampered), "invalid token signature"),
        ] {
            let res = app.send(req).await;
            assert_eq!(res.status, 401, "{path} {case}: {:?}", res.body);
            assert_eq!(
                res.detail(),
                format!("Unauthorized: {reason}"),
                "{path} {case}: refused for another reason"
            );
            assert!(res.header("www-authenticate").is_some(), "{path} {case}");
        }
    }
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn each_tenant_sees_its_own_positions_in_the_documented_shape() {
    let (app, a, b) = two_tenants();
    // Latest closes (the paper exchange's spot and mark prices) set by hand, so that every
    // value below is worked out from the fixtures.
    set_latest_closes(
        &app,
        &[
            ("BTCUSDT", "40000"),
            ("ETHUSDT", "2500"),
            ("SOLUSDT", "100"),
        ],
    );
    let spot_a = app.send(get(ROUTES[0], &a)).await;
    assert_eq!(spot_a.status, 200, "{:?}", spot_a.body);
    // The first read looked the account up (blocking path); the next one, with the account
    // cached, is served over an async connection: the same answer.
    assert!(!logs_contain("tenant read on an async connection"));
    let again = app.send(get(ROUTES[0], &a)).await;
    assert!(logs_contain("tenant read on an async connection"));
    assert_eq!((again.status, &again.body), (spot_a.status, &spot_a.body));
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
    // BTC: 2 x 40000 = 80000, PnL (40000 - 30000) x 2 = 20000;
    // ETH: 10 x 2500 = 25000, PnL (2500 - 2000) x 10 = 5000. Largest value first.
    let valued: Vec<(&str, Decimal, Decimal, Decimal)> = items
        .iter()
        .map(|p| {
            let d = |key: &str| p[key].as_str().unwrap().parse::<Decimal>().unwrap();
            (
                p["symbol"].as_str().unwrap(),
                d("current_price"),
                d("value"),
                d("unrealized_pnl"),
            )
        })
        .collect();
    assert_eq!(
        valued,
        vec![
            ("BTCUSDT", dec("40000"), dec("80000"), dec("20000")),
            ("ETHUSDT", dec("2500"), dec("25000"), dec("5000")),
        ]
    );
    let spot_b = app.send(get(ROUTES[0], &b)).await;
    let b_symbols: Vec<&str> = spot_b
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(b_symbols, vec!["SOLUSDT"], "B sees only its own holdings");
    let b_again = app.send(get(ROUTES[0], &b)).await;
    assert_eq!(
        (b_again.status, &b_again.body),
        (spot_b.status, &spot_b.body),
        "B's async read"
    );

    // With A's account cached, futures and metrics take the async path too (one async read
    // per futures request; metrics read spot and futures in one account view).
    let before = async_reads!();
    let fut_a = app.send(get(ROUTES[1], &a)).await;
    assert_eq!(fut_a.status, 200);
    let fut_again = app.send(get(ROUTES[1], &a)).await;
    assert_eq!(
        (fut_again.status, &fut_again.body),
        (fut_a.status, &fut_a.body)
    );
    assert_eq!(
        async_reads!(),
        before + 2,
        "futures reads on async connections"
    );
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
    // Short 1 BTC entered at 41000, marked at 40000: notional 1 x 40000 = 40000, PnL
    // (40000 - 41000) x 1 x (-1) = 1000; leverage 3 with no venue liquidation price: the
    // estimate 41000 x (1 + 1/3 - 0.004) = 54502.666... = 54502.66666667 at 8 places.
    let fd = |key: &str| f[key].as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(
        (
            fd("mark_price"),
            fd("notional"),
            fd("unrealized_pnl"),
            fd("liquidation_price")
        ),
        (
            dec("40000"),
            dec("40000"),
            dec("1000"),
            dec("54502.66666667")
        )
    );
    assert_eq!(
        app.send(get(ROUTES[1], &b))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let before = async_reads!();
    let m_a = app.send(get(ROUTES[2], &a)).await.body;
    let m_b = app.send(get(ROUTES[2], &b)).await.body;
    assert_eq!(
        async_reads!(),
        before + 2,
        "metrics: one account view each, async"
    );
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
    // A: spot 80000 + 25000 = 105000; futures notional 40000 (the BTC short); net exposure
    // 105000 - 40000 = 65000; total value = spot + futures PnL = 105000 + 1000 = 106000;
    // hedge ratio = short notional on held assets / spot value = 40000 / 105000 = 8/21.
    let md =
        |m: &serde_json::Value, key: &str| m[key].as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(
        (
            md(&m_a, "total_value"),
            md(&m_a, "spot_value"),
            md(&m_a, "futures_notional"),
            md(&m_a, "net_exposure")
        ),
        (dec("106000"), dec("105000"), dec("40000"), dec("65000"))
    );
    let ratio = m_a["hedge_ratio"].as_f64().unwrap();
    assert!(
        (ratio - 8.0 / 21.0).abs() < 1e-12,
        "acme hedge ratio {ratio}"
    );
    // B: 500 SOL x 100 = 50000 and no futures: ratio 0.
    assert_eq!(md(&m_b, "spot_value"), dec("50000"));
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
    // The confidence is the posterior of the current regime on the last day: the same number
    // as that regime's entry in `probabilities`.
    let current_regime = body["current_regime"].as_str().unwrap();
    assert_eq!(
        body["confidence"].as_f64(),
        body["probabilities"][current_regime].as_f64(),
        "{body}"
    );
    assert!(body["duration_days"].as_i64().unwrap() >= 1);
    assert!(body["since"].is_string() && body["features"].is_object());
    assert_eq!(body["model"]["n_states"], 3);
    assert_eq!(body["model"]["observations"], 300);
    assert!(body["model"]["trained_at"].is_string());

    let history = app.send(get("/api/v1/regime/history?days=60", &a)).await;
    assert_eq!(history.status, 200);
    let days = history.body.as_array().unwrap();
    // 400 days of candles cover the 60 days asked for: exactly 60 days come back.
    assert_eq!(days.len(), 60);
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
    // The spot route's two paths: first the non-blocking read (fails), then the blocking one.
    exchange
        .expect_spot_valued_nonblocking()
        .times(1)
        .returning(|_| {
            Some(Box::pin(async {
                Err(ExchangeError::Unavailable("async connect timeout".into()))
            }))
        });
    exchange
        .expect_spot_valued_nonblocking()
        .returning(|_| None);
    exchange
        .expect_futures_positions()
        .returning(|_| Err(ExchangeError::Auth("bad key".into())));
    exchange
        .expect_futures_marked_nonblocking()
        .times(1)
        .returning(|_| {
            Some(Box::pin(async {
                Err(ExchangeError::Unavailable("async read refused".into()))
            }))
        });
    exchange
        .expect_futures_marked_nonblocking()
        .returning(|_| None);
    exchange
        .expect_account_view_nonblocking()
        .times(1)
        .returning(|_| {
            Some(Box::pin(async {
                Err(ExchangeError::Unavailable("async view refused".into()))
            }))
        });
    exchange
        .expect_account_view_nonblocking()
        .returning(|_| None);
    app.state.services.positions = PositionService::new(Arc::new(exchange));
    for cause in ["async connect timeout", "connect timeout"] {
        let spot = app.send(get(ROUTES[0], &token)).await;
        assert_eq!(spot.status, 503);
        assert_eq!(spot.detail(), "Failed to fetch spot positions");
        assert!(spot.header("retry-after").is_some());
        assert!(!spot.body.to_string().contains(cause), "cause leaked");
        assert!(logs_contain(cause), "cause logged");
    }
    for cause in ["async read refused", "bad key"] {
        let futures = app.send(get(ROUTES[1], &token)).await;
        assert_eq!(futures.status, 503);
        assert_eq!(futures.detail(), "Failed to fetch futures positions");
        assert!(!futures.body.to_string().contains(cause), "cause leaked");
        assert!(logs_contain(cause), "cause logged");
    }
    for cause in ["async view refused", "connect timeout"] {
        let metrics = app.send(get(ROUTES[2], &token)).await;
        assert_eq!(metrics.status, 503);
        assert_eq!(metrics.detail(), "Failed to fetch position metrics");
        assert!(!metrics.body.to_string().contains(cause), "cause leaked");
        assert!(logs_contain(cause), "cause logged");
    }
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
