//! Issue 11's portfolio, trades, risk and correlation routes over real PostgreSQL (paper
//! exchange, stored candles): documented shapes, the cross-tenant matrix, roles on writes,
//! audit rows, the `[Tenant: ..] [User: ..]` lines, and the bad input the issue lists.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, PaperBook},
    Market, OrderRequest, PositionSide, Role, Side, TenantId,
};
use alphapulse_persistence::PgPaperBook;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::common::{trading::*, *};

/// The read routes of this module, each answering 200 for a tenant with a book.
pub const READS: [&str; 12] = [
    "/api/v1/portfolio?include_history=true",
    "/api/v1/trades",
    "/api/v1/risk/exposure",
    "/api/v1/risk/metrics?lookback_days=252&confidence=0.95",
    "/api/v1/risk/limits",
    "/api/v1/risk/position-size/BTCUSDT",
    "/api/v1/risk/report",
    "/api/v1/correlation/matrix?symbols=BTCUSDT&symbols=ETHUSDT&method=kendall",
    "/api/v1/correlation/rolling?symbol1=BTCUSDT&symbol2=ETHUSDT&window_days=30",
    "/api/v1/correlation/concentration",
    "/api/v1/correlation/regime",
    "/api/v1/correlation/alerts?threshold=0.8",
];

pub struct World {
    pub app: TestApp,
    pub a: TenantId,
    pub b: TenantId,
    pub a_viewer: String,
    pub a_admin: String,
    pub a_trader: String,
    pub b_admin: String,
}

/// Acme holds BTC and ETH (and shorts some BTC), beta-quant holds SOL only.
pub fn world() -> World {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (a, a_viewer) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000"), ("ETHUSDT", "10", "2000")],
        &[("BTCUSDT", PositionSide::Short, "1", "41000")],
        &[("BTCUSDT", 0.6), ("ETHUSDT", 0.4)],
    );
    let (b, _) = seed_tenant(
        &mut app,
        "beta-quant",
        &[("SOLUSDT", "500", "80")],
        &[],
        &[("SOLUSDT", 1.0)],
    );
    let a_admin = app
        .user_with_token(a, "admin@acme-capital.example", Role::Admin)
        .1;
    let a_trader = app
        .user_with_token(a, "trader@acme-capital.example", Role::Trader)
        .1;
    let b_admin = app
        .user_with_token(b, "admin@beta-quant.example", Role::Admin)
        .1;
    World {
        app,
        a,
        b,
        a_viewer,
        a_admin,
        a_trader,
        b_admin,
    }
}

pub fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn patch(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::patch()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

fn post(path: &str, token: &str) -> TestRequest {
    TestRequest::post().uri(path).insert_header(bearer(token))
}

fn dec_of(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// Fills `n` paper trades for the tenant, one a day ending `days_ago` days ago.
fn trades(app: &TestApp, tenant: TenantId, symbol: &str, n: i64, days_ago: i64) {
    let book = PgPaperBook::new(app.repos.db.clone());
    for i in 0..n {
        book.fill(
            &Actor::system(tenant),
            &OrderRequest {
                client_order_id: format!("{symbol}-{days_ago}-{i}"),
                symbol: sym(symbol),
                market: Market::Spot,
                side: Side::Buy,
                quantity: dec("0.01"),
                reduce_only: false,
            },
            dec("100"),
            dec("0.001"),
            Utc::now() - Duration::days(days_ago + n - 1 - i) - Duration::hours(1),
        )
        .unwrap();
    }
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn every_read_answers_the_documented_shape_for_its_own_tenant() {
    let w = world();
    for path in READS {
        let res = w.app.send(get(path, &w.a_viewer)).await;
        assert_eq!(res.status, 200, "{path}: {:?}", res.body);
        let text = res.body.to_string();
        assert!(
            !text.contains("tenant_id") && !text.contains("NaN"),
            "{path}: {text}"
        );
    }
    let p = w.app.send(get(READS[0], &w.a_viewer)).await.body;
    // 100000 cash; 2 BTC and 10 ETH spot, 1 BTC short futures (its PnL only).
    assert_eq!(dec_of(&p["cash"]), Decimal::from(100_000));
    assert_eq!(p["data_source"], "exchange");
    assert_eq!(p["positions"].as_array().unwrap().len(), 3);
    let total = dec_of(&p["total_value"]);
    let nav: Decimal = p["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            if x["market"] == "spot" {
                dec_of(&x["value"])
            } else {
                dec_of(&x["pnl"])
            }
        })
        .sum::<Decimal>()
        + Decimal::from(100_000);
    assert_eq!(total, nav);
    assert_eq!(p["metrics"]["returns_source"], "holdings");
    assert_eq!(p["metrics"]["observations"], 365);
    assert!(p["history"].is_array());

    let m = w.app.send(get(READS[3], &w.a_viewer)).await.body;
    assert_eq!(m["observations"], 252);
    assert_eq!(m["periods_per_year"], 365.0);
    assert_eq!(m["monte_carlo"]["simulations"], 10_000);
    for method in ["historical", "parametric", "monte_carlo"] {
        assert!(m["var"][method].as_f64().unwrap() > 0.0, "{method}");
        assert!(m["cvar"][method].as_f64().unwrap() >= m["var"][method].as_f64().unwrap());
    }
    // With A's account cached (the reads above), the exposure reads its book on an async
    // connection (spot, futures and cash in one read) with the same answer as before.
    // Two calls in a row: the account lookup is cached for 5 s, so unless 5 s pass between
    // them at least one reads on async connections (a blocking one caches the account).
    let before = async_reads!();
    let e = w.app.send(get(READS[2], &w.a_viewer)).await.body;
    let again = w.app.send(get(READS[2], &w.a_viewer)).await.body;
    assert!(
        [1, 2].contains(&(async_reads!() - before)),
        "the book (spot, futures, cash: one read) on async connections"
    );
    assert_eq!(again, e);
    let blocking = w
        .app
        .state
        .services
        .risk
        .exposure(&Actor::system(w.a))
        .unwrap();
    assert_eq!(e, serde_json::to_value(blocking).unwrap());
    // Portfolio and metrics: served from their caches on the async path or computed on the
    // blocking one (the risk crate's tests tell the paths apart), the same answers.
    let portfolio = || async {
        let mut body = w.app.send(get("/api/v1/portfolio", &w.a_viewer)).await.body;
        body.as_object_mut().unwrap().remove("fetched_at"); // the time of the read
        body
    };
    let first = portfolio().await;
    assert_eq!(first["metrics"]["observations"], 365);
    assert_eq!(portfolio().await, first);
    assert_eq!(w.app.send(get(READS[3], &w.a_viewer)).await.body, m);
    let btc = &e["assets"][0];
    assert_eq!(btc["symbol"], "BTCUSDT");
    assert_eq!(
        dec_of(&btc["net_exposure"]),
        dec_of(&btc["spot_value"]) + dec_of(&btc["futures_value"])
    );
    assert!(dec_of(&btc["futures_value"]) < Decimal::ZERO);
    let c = w.app.send(get(READS[9], &w.a_viewer)).await.body;
    let sum: f64 = c["risk_contributions"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - c["portfolio_volatility"].as_f64().unwrap()).abs() < 1e-9);
    let m = w.app.send(get(READS[7], &w.a_viewer)).await.body;
    assert_eq!(m["method"], "kendall");
    assert_eq!(m["matrix"][0][0], 1.0);
    assert_eq!(m["matrix"][0][1], m["matrix"][1][0]);
}

#[actix_web::test]
async fn tenant_a_never_sees_tenant_bs_book_trades_or_limits() {
    let w = world();
    trades(&w.app, w.b, "SOLUSDT", 3, 1);
    let res = w
        .app
        .send(patch(
            "/api/v1/risk/limits",
            &w.b_admin,
            json!({"max_position_weight": 0.5}),
        ))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let a_portfolio = w.app.send(get("/api/v1/portfolio", &w.a_viewer)).await.body;
    let symbols: Vec<&str> = a_portfolio["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert!(!symbols.contains(&"SOLUSDT"), "{symbols:?}");
    let a_trades = w.app.send(get("/api/v1/trades", &w.a_viewer)).await.body;
    assert_eq!(a_trades["items"], json!([]));
    let b_trades = w.app.send(get("/api/v1/trades", &w.b_admin)).await.body;
    assert_eq!(b_trades["items"].as_array().unwrap().len(), 3);
    let a_limits = w
        .app
        .send(get("/api/v1/risk/limits", &w.a_viewer))
        .await
        .body;
    assert_eq!(a_limits["max_position_weight"], 0.2);
    let b_limits = w
        .app
        .send(get("/api/v1/risk/limits", &w.b_admin))
        .await
        .body;
    assert_eq!(b_limits["max_position_weight"], 0.5);
    let a_exposure = w
        .app
        .send(get("/api/v1/risk/exposure", &w.a_viewer))
        .await
        .body;
    assert!(!a_exposure.to_string().contains("SOLUSDT"));
    let b_conc = w
        .app
        .send(get("/api/v1/correlation/concentration", &w.b_admin))
        .await
        .body;
    assert_eq!(b_conc["symbols"], json!(["SOLUSDT"]));
    // B's audit row is B's only: written to B ...
    assert_eq!(
        w.app
            .audit_entries(w.b)
            .iter()
            .filter(|e| e.action == "risk.limits.update")
            .count(),
        1
    );
    // ... and not to A.
    assert!(w
        .app
        .audit_entries(w.a)
        .iter()
        .all(|e| e.action != "risk.limits.update"));
}

#[actix_web::test]
async fn viewers_cannot_write_and_writes_are_audited() {
    let w = world();
    for req in [
        post("/api/v1/portfolio/reload", &w.a_viewer),
        patch(
            "/api/v1/risk/limits",
            &w.a_viewer,
            json!({"max_leverage": 2}),
        ),
        post("/api/v1/risk-budget/rebalance", &w.a_viewer),
    ] {
        let res = w.app.send(req).await;
        assert_eq!(res.status, 403, "{:?}", res.body);
    }
    // A trader may reload but not change limits (admin).
    let res = w
        .app
        .send(patch(
            "/api/v1/risk/limits",
            &w.a_trader,
            json!({"max_leverage": 2}),
        ))
        .await;
    assert_eq!(res.status, 403);
    assert!(
        w.app.audit_entries(w.a).is_empty(),
        "refusals write nothing"
    );

    let reload = w
        .app
        .send(post("/api/v1/portfolio/reload", &w.a_trader))
        .await;
    assert_eq!(reload.status, 200, "{:?}", reload.body);
    assert_eq!(reload.body["status"], "completed");
    assert_eq!(reload.body["snapshot"]["source"], "reload");
    assert_eq!(reload.body["snapshot"]["positions"], 3);
    let res = w
        .app
        .send(patch(
            "/api/v1/risk/limits",
            &w.a_admin,
            json!({"max_leverage": 2, "target_volatility": 0.3}),
        ))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["max_leverage"], 2.0);
    assert_eq!(
        res.body["max_position_weight"], 0.2,
        "unnamed limits unchanged"
    );
    let audit = w.app.audit_entries(w.a);
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["risk.limits.update", "portfolio.reload"]);
    assert_eq!(audit[0].details["before"]["max_leverage"], 1.5);
    assert_eq!(audit[0].details["after"]["max_leverage"], 2.0);
    assert!(audit[1].target.starts_with("portfolio_snapshot:"));
    // The reload's snapshot is the portfolio's history now.
    let p = w
        .app
        .send(get("/api/v1/portfolio?include_history=true", &w.a_viewer))
        .await
        .body;
    assert_eq!(p["history"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn limits_outside_their_ranges_or_empty_changes_are_422() {
    let w = world();
    for body in [
        json!({}),
        json!({"max_leverage": 0.5}),
        json!({"max_position_weight": 0}),
        json!({"max_drawdown": 1.5}),
        json!({"target_volatility": null}),
        json!({"max_leverage": 2, "nope": 1}),
    ] {
        let res = w
            .app
            .send(patch("/api/v1/risk/limits", &w.a_admin, body.clone()))
            .await;
        assert_eq!(res.status, 422, "{body}: {:?}", res.body);
    }
    assert!(w.app.audit_entries(w.a).is_empty());
}

#[actix_web::test]
async fn bad_input_is_refused_with_the_reason() {
    let mut w = world();
    // A symbol with 12 days of history.
    let start = Utc::now() - Duration::days(12);
    let (candles, _) =
        alphapulse_regime::synthetic::regime_switching_walk(9, &sym("NEWUSDT"), 12, 5.0, start);
    use alphapulse_domain::ports::MarketDataRepo;
    alphapulse_persistence::PgMarketDataRepo::new(w.app.repos.db.clone())
        .import(&candles)
        .unwrap();
    let t = w.a_viewer.clone();
    let cases: [(&str, u16, &str); 12] = [
        ("/api/v1/risk/position-size/NOPEUSDT", 404, "NOPEUSDT"),
        (
            "/api/v1/risk/position-size/NEWUSDT",
            422,
            "11 daily returns",
        ),
        (
            "/api/v1/correlation/matrix?symbols=BTCUSDT&symbols=NOPEUSDT",
            404,
            "NOPEUSDT",
        ),
        (
            "/api/v1/correlation/matrix?symbols=BTCUSDT&symbols=NEWUSDT",
            422,
            "NEWUSDT has 11 daily returns",
        ),
        (
            "/api/v1/correlation/matrix?symbols=BTCUSDT",
            422,
            "2 to 50 symbols",
        ),
        (
            "/api/v1/correlation/matrix?symbols=BTCUSDT&symbols=ETHUSDT&lookback_days=20",
            422,
            "lookback_days",
        ),
        (
            "/api/v1/correlation/matrix?symbols=BTCUSDT&symbols=ETHUSDT&method=distance",
            422,
            "method",
        ),
        (
            "/api/v1/correlation/rolling?symbol1=BTCUSDT&symbol2=ETHUSDT&window_days=5",
            422,
            "window_days",
        ),
        (
            "/api/v1/risk/metrics?lookback_days=2000",
            422,
            "lookback_days",
        ),
        ("/api/v1/risk/metrics?confidence=1.5", 422, "confidence"),
        ("/api/v1/risk-budget/history?days=0", 422, "days"),
        (
            "/api/v1/trades?start_time=2025-01-02T00:00:00Z&end_time=2025-01-01T00:00:00Z",
            422,
            "start_time",
        ),
    ];
    for (path, status, says) in cases {
        let res = w.app.send(get(path, &t)).await;
        assert_eq!(res.status, status, "{path}: {:?}", res.body);
        assert!(res.detail().contains(says), "{path}: {}", res.detail());
    }
    let res = w
        .app
        .send(get("/api/v1/risk-budget/regime/neutral", &t))
        .await;
    assert_eq!(res.status, 404);
    assert!(res
        .detail()
        .contains("bull, bear, sideways, crisis, recovery"));
    // A holding with too little history: the metrics say how many returns there are.
    let (c, _) = seed_tenant(
        &mut w.app,
        "gamma-macro",
        &[("NEWUSDT", "100", "5")],
        &[],
        &[("BTCUSDT", 1.0)],
    );
    let token = w
        .app
        .user_with_token(c, "v2@gamma-macro.example", Role::Viewer)
        .1;
    let res = w.app.send(get("/api/v1/risk/metrics", &token)).await;
    assert_eq!(res.status, 422, "{:?}", res.body);
    assert!(
        res.detail().contains("11 daily returns"),
        "{}",
        res.detail()
    );
    // The portfolio itself still answers, with no ratios.
    let p = w.app.send(get("/api/v1/portfolio", &token)).await;
    assert_eq!(p.status, 200);
    assert_eq!(p.body["metrics"]["sharpe_ratio"], Value::Null);
}

#[actix_web::test]
async fn an_empty_portfolio_answers_zeros_and_empty_lists() {
    let w = world();
    let empty = w.app.create_tenant("empty-tenant", 10);
    let token = w
        .app
        .user_with_token(empty, "v@empty.example", Role::Viewer)
        .1;
    for path in READS {
        let res = w.app.send(get(path, &token)).await;
        assert_eq!(res.status, 200, "{path}: {:?}", res.body);
        assert!(!res.body.to_string().contains("NaN"));
    }
    let m = w.app.send(get("/api/v1/risk/metrics", &token)).await.body;
    assert_eq!(m["returns_source"], "none");
    assert_eq!(m["observations"], 0);
    assert_eq!(m["volatility"], 0.0);
    assert_eq!(m["var"]["historical"], 0.0);
    assert_eq!(m["sharpe_ratio"], Value::Null);
    let p = w.app.send(get("/api/v1/portfolio", &token)).await.body;
    assert_eq!(dec_of(&p["total_value"]), Decimal::ZERO);
    assert_eq!(p["positions"], json!([]));
    let c = w
        .app
        .send(get("/api/v1/correlation/concentration", &token))
        .await
        .body;
    assert_eq!(c["concentration_score"], 0.0);
    assert_eq!(c["high_correlation_pairs"], json!([]));
    let s = w
        .app
        .send(get("/api/v1/risk/position-size/BTCUSDT", &token))
        .await
        .body;
    assert_eq!(dec_of(&s["recommended_size"]), Decimal::ZERO);
}

#[actix_web::test]
async fn trades_are_newest_first_paginated_and_default_to_seven_days() {
    let w = world();
    trades(&w.app, w.a, "BTCUSDT", 5, 0); // the last 5 days
    trades(&w.app, w.a, "ETHUSDT", 3, 20); // 20-22 days ago
    let first = w
        .app
        .send(get("/api/v1/trades?limit=3", &w.a_viewer))
        .await
        .body;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = w
        .app
        .send(get(
            &format!("/api/v1/trades?limit=3&cursor={cursor}"),
            &w.a_viewer,
        ))
        .await
        .body;
    assert_eq!(
        second["items"].as_array().unwrap().len(),
        2,
        "7 days: 5 trades"
    );
    assert_eq!(second["next_cursor"], Value::Null);
    let all: Vec<Value> = items
        .iter()
        .chain(second["items"].as_array().unwrap())
        .cloned()
        .collect();
    assert!(all
        .windows(2)
        .all(|p| p[0]["timestamp"].as_str() > p[1]["timestamp"].as_str()));
    for t in &all {
        for key in [
            "id",
            "symbol",
            "side",
            "quantity",
            "price",
            "fees",
            "order_type",
            "status",
            "timestamp",
        ] {
            assert!(!t[key].is_null(), "{key}: {t}");
        }
        assert_eq!(t["order_type"], "market");
    }
    let start =
        (Utc::now() - Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let eth = w
        .app
        .send(get(
            &format!("/api/v1/trades?symbol=ETHUSDT&start_time={start}"),
            &w.a_viewer,
        ))
        .await
        .body;
    assert_eq!(eth["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn every_route_logs_tenant_and_user() {
    let w = world();
    let claims = w
        .app
        .state
        .authenticator
        .verifier()
        .verify(&w.a_admin)
        .unwrap();
    for path in READS {
        let res = w.app.send(get(path, &w.a_admin)).await;
        assert_eq!(res.status, 200, "{path}");
    }
    for req in [
        post("/api/v1/portfolio/reload", &w.a_admin),
        patch(
            "/api/v1/risk/limits",
            &w.a_admin,
            json!({"max_drawdown": 0.3}),
        ),
    ] {
        assert_eq!(w.app.send(req).await.status, 200);
    }
    let prefix = format!("[Tenant: {}] [User: {}]", claims.tenant_id, claims.sub);
    for op in [
        "get portfolio",
        "reload portfolio",
        "list trades",
        "get risk exposure",
        "get risk metrics",
        "get risk limits",
        "update risk limits",
        "get position size",
        "get risk report",
        "get correlation matrix",
        "get rolling correlation",
        "get correlation concentration",
        "get correlation regimes",
        "get correlation alerts",
    ] {
        assert!(
            logs_contain(&format!("{prefix} {op} started")),
            "{op} start"
        );
        assert!(
            logs_contain(&format!("{prefix} {op} completed")),
            "{op} finish"
        );
    }
    let res = w
        .app
        .send(get("/api/v1/risk/position-size/NOPEUSDT", &w.a_admin))
        .await;
    assert_eq!(res.status, 404);
    assert!(logs_contain(&format!("{prefix} get position size failed")));
}
