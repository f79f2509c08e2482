//! Alerts, metric series, cache/pool statistics and system health (issue 12): alerts raised
//! once per condition and acknowledged once, the regime change alerts served by both routes,
//! series bucketed and aggregated by the database from the tenant's own snapshots only, the
//! static metrics routes matched before `{metric_type}`, `/system` for platform roles only.

use std::sync::Arc;

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, AlertRepo, AlertSeverity, AlertSource, NewAlert},
    PositionSide, Role, TenantId,
};
use alphapulse_persistence::{Error as DbError, PgAlertRepo};
use diesel::RunQueryDsl;
use serde_json::Value;

use super::common::{trading::*, *};

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn post(path: &str, token: &str) -> TestRequest {
    TestRequest::post().uri(path).insert_header(bearer(token))
}

fn drawdown_alert(key: &str) -> NewAlert {
    NewAlert {
        source: AlertSource::Risk,
        severity: AlertSeverity::Warning,
        title: "Drawdown limit breached".into(),
        message: format!("Drawdown 27 % exceeds the 25 % limit ({key})"),
        tags: vec!["drawdown".into()],
        dedup_key: key.into(),
    }
}

/// Runs `sql` as the platform role (fixtures across tenants).
fn exec(app: &TestApp, sql: &str) {
    app.repos
        .db
        .platform()
        .run(|c| diesel::sql_query(sql).execute(c).map_err(DbError::from))
        .unwrap();
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn one_condition_raises_one_open_alert_acknowledged_once_and_never_across_tenants() {
    let app = TestApp::new();
    let (a, b) = (
        app.create_tenant("acme-capital", 10),
        app.create_tenant("beta-quant", 10),
    );
    let (trader_id, trader) = app.user_with_token(a, "trader@acme.example", Role::Trader);
    let (_, viewer) = app.user_with_token(a, "viewer@acme.example", Role::Viewer);
    let (_, b_trader) = app.user_with_token(b, "trader@beta.example", Role::Trader);
    let repo = Arc::new(PgAlertRepo::new(app.repos.db.clone()));
    let actor = Actor::system(a);

    // 8 simultaneous raises of one condition: one alert.
    let raised: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let repo = repo.clone();
                s.spawn(move || {
                    repo.raise(&actor, &drawdown_alert("drawdown_limit"))
                        .unwrap()
                        .is_some()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(raised.iter().filter(|r| **r).count(), 1, "{raised:?}");
    assert!(repo
        .raise(&actor, &drawdown_alert("drawdown_limit"))
        .unwrap()
        .is_none());
    // Another condition is another alert; B's own alert stays B's.
    repo.raise(&actor, &drawdown_alert("leverage_limit"))
        .unwrap()
        .unwrap();
    let b_alert = repo
        .raise(&Actor::system(b), &drawdown_alert("drawdown_limit"))
        .unwrap()
        .unwrap();

    let svc = test_service!(app);
    let list = call(&svc, get("/api/v1/alerts", &viewer).to_request()).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    // The list is read on an async connection (no account or cache needed).
    assert!(logs_contain("tenant read on an async connection"));
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(list.body["next_cursor"].is_null());
    let first = &items[0];
    for key in [
        "id",
        "title",
        "message",
        "severity",
        "source",
        "created_at",
        "acknowledged",
        "acknowledged_by",
        "acknowledged_at",
        "tags",
    ] {
        assert!(first.get(key).is_some(), "{key} missing: {first}");
    }
    assert!(first.get("tenant_id").is_none());
    assert_eq!(first["source"], "risk");
    let paged = call(&svc, get("/api/v1/alerts?limit=1", &viewer).to_request()).await;
    let cursor = paged.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = call(
        &svc,
        get(&format!("/api/v1/alerts?limit=1&cursor={cursor}"), &viewer).to_request(),
    )
    .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(rest.body["items"][0]["id"], paged.body["items"][0]["id"]);
    let none = call(
        &svc,
        get("/api/v1/alerts?severity=critical", &viewer).to_request(),
    )
    .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let quota = call(
        &svc,
        get("/api/v1/alerts?source=quota&acknowledged=false", &viewer).to_request(),
    )
    .await;
    assert_eq!(quota.body["items"].as_array().unwrap().len(), 0);

    // Acknowledged once (audited), then 409; the viewer may not; B cannot see A's alert.
    let id = items
        .iter()
        .find(|i| i["message"].as_str().unwrap().contains("(drawdown_limit)"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/alerts/{id}/acknowledge");
    assert_eq!(
        call(&svc, post(&path, &viewer).to_request()).await.status,
        403
    );
    let other = call(&svc, post(&path, &b_trader).to_request()).await;
    assert_eq!(other.status, 404, "{:?}", other.body);
    let b_path = format!("/api/v1/alerts/{}/acknowledge", b_alert.id);
    assert_eq!(
        call(&svc, post(&b_path, &trader).to_request()).await.status,
        404
    );
    let acked = call(&svc, post(&path, &trader).to_request()).await;
    assert_eq!(acked.status, 200, "{:?}", acked.body);
    assert_eq!(acked.body["success"], true);
    assert_eq!(acked.body["alert"]["acknowledged"], true);
    assert_eq!(
        acked.body["alert"]["acknowledged_by"],
        trader_id.to_string()
    );
    assert!(acked.body["alert"]["acknowledged_at"].is_string());
    let again = call(&svc, post(&path, &trader).to_request()).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let audit = app.audit_entries(a);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "alert.acknowledge");
    assert_eq!(audit[0].target, format!("alert:{id}"));
    assert!(app.audit_entries(b).is_empty());
    // Acknowledged, the condition may raise again.
    assert!(repo
        .raise(&actor, &drawdown_alert("drawdown_limit"))
        .unwrap()
        .is_some());
    let acked_list = call(
        &svc,
        get("/api/v1/alerts?acknowledged=true", &viewer).to_request(),
    )
    .await;
    assert_eq!(acked_list.body["items"].as_array().unwrap().len(), 1);
    let b_list = call(&svc, get("/api/v1/alerts", &b_trader).to_request()).await;
    let b_items = b_list.body["items"].as_array().unwrap();
    assert_eq!(b_items.len(), 1);
    assert_eq!(b_items[0]["id"], b_alert.id.to_string());

    // Bad input: unknown severity or source (listed), a window ending before it starts.
    let bad = call(
        &svc,
        get("/api/v1/alerts?severity=urgent", &viewer).to_request(),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.detail().contains("info, warning, critical"),
        "{}",
        bad.detail()
    );
    let bad = call(
        &svc,
        get("/api/v1/alerts?source=weather", &viewer).to_request(),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad
        .detail()
        .contains("regime, risk, risk_budget, correlation, quota, exchange"));
    let bad = call(
        &svc,
        get(
            "/api/v1/alerts?start_time=2025-02-01T00:00:00Z&end_time=2025-01-01T00:00:00Z",
            &viewer,
        )
        .to_request(),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["start_time"]);
}

#[actix_web::test]
async fn regime_changes_are_alerts_of_source_regime_on_both_routes() {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (tenant, viewer) = seed_tenant(&mut app, "acme-capital", &[], &[], &[("BTCUSDT", 1.0)]);
    let (_, trader) = app.user_with_token(tenant, "trader@acme.example", Role::Trader);
    let svc = test_service!(app);
    let regime = call(&svc, get("/api/v1/regime/alerts", &viewer).to_request()).await;
    assert_eq!(regime.status, 200, "{:?}", regime.body);
    let regime = regime.body.as_array().unwrap().clone();
    assert!(!regime.is_empty());
    let alerts = call(
        &svc,
        get("/api/v1/alerts?source=regime&limit=500", &viewer).to_request(),
    )
    .await;
    let alerts = alerts.body["items"].as_array().unwrap().clone();
    assert_eq!(alerts.len(), regime.len());
    for r in &regime {
        let a = alerts
            .iter()
            .find(|a| a["id"] == r["id"])
            .expect("same alert");
        assert_eq!(a["message"], r["message"]);
        assert_eq!(a["tags"][1], r["to_regime"]);
    }
    // A second fit raises nothing new; an acknowledgement shows on the regime route.
    let id = regime[0]["id"].as_str().unwrap();
    let acked = call(
        &svc,
        post(&format!("/api/v1/alerts/{id}/acknowledge"), &trader).to_request(),
    )
    .await;
    assert_eq!(acked.status, 200);
    let regime_again = call(&svc, get("/api/v1/regime/alerts", &viewer).to_request()).await;
    let again = regime_again.body.as_array().unwrap();
    assert_eq!(again.len(), regime.len());
    assert_eq!(
        again.iter().find(|r| r["id"] == id).unwrap()["acknowledged"],
        true
    );
}

/// A's snapshots at 00:10 (100), 00:40 (200), 01:20 (50) on 2025-01-01 and a risk metric;
/// B's snapshots at the same times, 1000 times larger.
fn seed_snapshots(app: &TestApp, a: TenantId, b: TenantId) {
    for (tenant, scale) in [(a, 1), (b, 1000)] {
        for (at, total, positions) in [
            ("2025-01-01 00:10:00+00", 100, 20),
            ("2025-01-01 00:40:00+00", 200, 120),
            ("2025-01-01 01:20:00+00", 50, 25),
        ] {
            exec(app, &format!(
                "INSERT INTO portfolio_snapshots (tenant_id, total_value, cash, positions_value, taken_at) \
                 VALUES ('{tenant}', {t}, {c}, {p}, '{at}')",
                t = total * scale, c = (total - positions) * scale, p = positions * scale,
            ));
        }
        exec(
            app,
            &format!(
                "INSERT INTO risk_metrics (tenant_id, metric, value, calculated_at) VALUES \
             ('{tenant}', 'sharpe_ratio', {v}, '2025-01-01 00:30:00+00')",
                v = 1.5 * f64::from(scale),
            ),
        );
    }
}

fn values(body: &Value) -> Vec<(String, f64)> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["timestamp"].as_str().unwrap().to_owned(),
                p["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn metric_series_are_buckets_of_the_tenants_own_snapshots_aggregated_in_sql() {
    let app = TestApp::new();
    let (a, b) = (
        app.create_tenant("acme-capital", 10),
        app.create_tenant("beta-quant", 10),
    );
    let (_, viewer) = app.user_with_token(a, "viewer@acme.example", Role::Viewer);
    seed_snapshots(&app, a, b);
    let svc = test_service!(app);
    let window = "start_time=2025-01-01T00:00:00Z&end_time=2025-01-01T02:00:00Z";
    let series =
        |metric: &str, extra: &str| format!("/api/v1/metrics/{metric}?{window}&interval=1h{extra}");
    let h0 = "2025-01-01T00:00:00Z".to_owned();
    let h1 = "2025-01-01T01:00:00Z".to_owned();
    // Hour 0 holds 100 and 200, hour 1 holds 50.
    for (aggregation, first, second) in [
        ("avg", 150.0, 50.0),
        ("min", 100.0, 50.0),
        ("max", 200.0, 50.0),
        ("sum", 300.0, 50.0),
        ("count", 2.0, 1.0),
    ] {
        let res = call(
            &svc,
            get(
                &series("portfolio_value", &format!("&aggregation={aggregation}")),
                &viewer,
            )
            .to_request(),
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(
            values(&res.body),
            [(h0.clone(), first), (h1.clone(), second)],
            "{aggregation}"
        );
        assert_eq!(res.body[0]["labels"]["aggregation"], aggregation);
        assert_eq!(res.body[0]["labels"]["metric_type"], "portfolio_value");
    }
    // Drawdown from the running peak: 0, 0, then 50 / 200 - 1 = -0.75.
    let res = call(
        &svc,
        get(&series("drawdown", "&aggregation=min"), &viewer).to_request(),
    )
    .await;
    assert_eq!(values(&res.body), [(h0.clone(), 0.0), (h1.clone(), -0.75)]);
    // Exposure: 20/100 and 120/200 average 0.4; 25/50 = 0.5.
    let res = call(&svc, get(&series("exposure", ""), &viewer).to_request()).await;
    let got = values(&res.body);
    assert!(
        (got[0].1 - 0.4).abs() < 1e-12 && (got[1].1 - 0.5).abs() < 1e-12,
        "{got:?}"
    );
    // Stored risk metrics; nothing stored is an empty series.
    let res = call(&svc, get(&series("sharpe_ratio", ""), &viewer).to_request()).await;
    assert_eq!(values(&res.body), [(h0.clone(), 1.5)]);
    let res = call(&svc, get(&series("utilization", ""), &viewer).to_request()).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, serde_json::json!([]));
    // One day bucket; the latest value.
    let res = call(
        &svc,
        get(
            &format!("/api/v1/metrics/portfolio_value?{window}&interval=1d&aggregation=sum"),
            &viewer,
        )
        .to_request(),
    )
    .await;
    assert_eq!(values(&res.body), [(h0.clone(), 350.0)]);
    let latest = call(
        &svc,
        get("/api/v1/metrics/portfolio_value/latest", &viewer).to_request(),
    )
    .await;
    assert_eq!(latest.status, 200);
    assert_eq!(latest.body["value"], 50.0);
    assert_eq!(latest.body["timestamp"], "2025-01-01T01:20:00Z");
    assert_eq!(latest.body["labels"]["metric_type"], "portfolio_value");
    let empty = call(
        &svc,
        get("/api/v1/metrics/volatility/latest", &viewer).to_request(),
    )
    .await;
    assert!(empty.body["value"].is_null() && empty.body["timestamp"].is_null());

    // Bad input.
    let res = call(
        &svc,
        get("/api/v1/metrics/weather?interval=1h", &viewer).to_request(),
    )
    .await;
    assert_eq!(res.status, 404);
    assert!(
        res.detail()
            .contains("portfolio_value, sharpe_ratio, volatility, drawdown, exposure, utilization"),
        "{}",
        res.detail()
    );
    let res = call(
        &svc,
        get("/api/v1/metrics/weather/latest", &viewer).to_request(),
    )
    .await;
    assert_eq!(res.status, 404);
    let res = call(
        &svc,
        get(&series("portfolio_value", "&aggregation=median"), &viewer).to_request(),
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.detail().contains("avg, min, max, sum, count"),
        "{}",
        res.detail()
    );
    let res = call(
        &svc,
        get("/api/v1/metrics/portfolio_value?interval=7m", &viewer).to_request(),
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.detail().contains("5m, 15m, 1h, 4h, 1d, 1w"),
        "{}",
        res.detail()
    );
    let res = call(&svc, get("/api/v1/metrics/portfolio_value?start_time=2025-01-02T00:00:00Z&end_time=2025-01-01T00:00:00Z", &viewer).to_request()).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.error_fields(), ["start_time"]);

    // The document declares the values the server takes.
    let doc = serde_json::to_value(alphapulse_api::openapi()).unwrap();
    let params = doc["paths"]["/api/v1/metrics/{metric_type}"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let enum_of = |name: &str| -> Vec<String> {
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        let schema = if p["schema"]["enum"].is_array() {
            &p["schema"]
        } else {
            &p["schema"]["oneOf"][0]
        };
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {p}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        enum_of("metric_type"),
        [
            "portfolio_value",
            "sharpe_ratio",
            "volatility",
            "drawdown",
            "exposure",
            "utilization"
        ]
    );
    assert_eq!(
        enum_of("aggregation"),
        ["avg", "min", "max", "sum", "count"]
    );
    assert_eq!(enum_of("interval"), ["5m", "15m", "1h", "4h", "1d", "1w"]);
}

#[actix_web::test]
async fn cache_and_database_statistics_are_for_admins_and_matched_before_metric_types() {
    let app = TestApp::new();
    let a = app.create_tenant("acme-capital", 10);
    let (_, admin) = app.user_with_token(a, "admin@acme.example", Role::Admin);
    let (_, viewer) = app.user_with_token(a, "viewer@acme.example", Role::Viewer);
    let svc = test_service!(app);
    // Were `{metric_type}` matched first, a viewer would get its 404 ("Metric type cache").
    for path in ["/api/v1/metrics/cache", "/api/v1/metrics/database"] {
        let res = call(&svc, get(path, &viewer).to_request()).await;
        assert_eq!(res.status, 403, "{path}: {:?}", res.body);
    }
    let caches = call(&svc, get("/api/v1/metrics/cache", &admin).to_request()).await;
    assert_eq!(caches.status, 200, "{:?}", caches.body);
    let names: Vec<&str> = caches.body["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in [
        "token_signatures",
        "principal_verdicts",
        "regime_snapshots",
        "regime_fits",
        "exchange_active_accounts",
        "exchange_live_clients",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let tokens = caches.body["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "token_signatures")
        .unwrap();
    assert!(tokens["hits"].as_u64().unwrap() + tokens["misses"].as_u64().unwrap() >= 1);
    // The alert list is read on an async connection: counted in the pool statistics.
    let alerts = call(&svc, get("/api/v1/alerts", &admin).to_request()).await;
    assert_eq!(alerts.status, 200, "{:?}", alerts.body);
    let db = call(&svc, get("/api/v1/metrics/database", &admin).to_request()).await;
    assert_eq!(db.status, 200, "{:?}", db.body);
    assert_eq!(db.body["status"], "active");
    assert!(db.body["pool"]["max_size"].as_u64().unwrap() >= 1);
    assert!(db.body["pool"]["checkouts"].as_u64().unwrap() >= 1);
    assert!(db.body["pool"]["async_reads"].as_u64().unwrap() >= 1);
    for key in [
        "connections",
        "idle",
        "waits",
        "timeouts",
        "async_one_round_trip",
    ] {
        assert!(db.body["pool"][key].is_u64(), "{key}");
    }
    assert_eq!(db.body["database"]["reachable"], true);
    assert!(db.body["database"]["server_version"].is_string());
}

#[actix_web::test]
async fn system_health_is_for_platform_roles_and_reload_resyncs_the_tenants_account() {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (tenant, viewer) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000")],
        &[("BTCUSDT", PositionSide::Short, "1", "41000")],
        &[("BTCUSDT", 1.0)],
    );
    let (_, trader) = app.user_with_token(tenant, "trader@acme.example", Role::Trader);
    let (_, admin) = app.user_with_token(tenant, "admin@acme.example", Role::Admin);
    let owner = app.create_platform_user("owner@platform.example", Role::Owner);
    let owner = app.token_for(owner, app.platform_tenant, Role::Owner);
    let staff = app.create_platform_user("staff@platform.example", Role::Staff);
    let staff = app.token_for(staff, app.platform_tenant, Role::Staff);
    let svc = test_service!(app);
    for token in [&admin, &trader, &viewer] {
        assert_eq!(
            call(&svc, get("/api/v1/system", token).to_request())
                .await
                .status,
            403
        );
    }
    for token in [&owner, &staff] {
        let res = call(&svc, get("/api/v1/system", token).to_request()).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["status"], "ok");
        assert!(res.body["cpu"]["cores"].as_u64().unwrap() >= 1);
        assert!(res.body["memory"]["total_mb"].as_f64().unwrap() > 0.0);
        assert_eq!(res.body["process"]["pid"], std::process::id());
        assert_eq!(res.body["database"]["reachable"], true);
        assert!(res.body["pool"]["max_size"].as_u64().unwrap() >= 1);
    }
    assert_eq!(
        call(
            &svc,
            post("/api/v1/system/exchange/reload", &viewer).to_request()
        )
        .await
        .status,
        403
    );
    let res = call(
        &svc,
        post("/api/v1/system/exchange/reload", &trader).to_request(),
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let account = &res.body["accounts"][0];
    assert_eq!(account["success"], true);
    assert_eq!(account["exchange"], "paper");
    assert_eq!(
        account["items_processed"], 2,
        "one spot holding, one futures position"
    );
    assert!(account["errors"].as_array().unwrap().is_empty());
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn new_routes_log_tenant_and_user_at_start_and_finish() {
    let app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    let (user, admin) = app.user_with_token(tenant, "admin@acme.example", Role::Admin);
    let svc = test_service!(app);
    for path in [
        "/api/v1/alerts",
        "/api/v1/metrics/portfolio_value",
        "/api/v1/metrics/cache",
        "/api/v1/credentials",
    ] {
        assert_eq!(
            call(&svc, get(path, &admin).to_request()).await.status,
            200,
            "{path}"
        );
    }
    let prefix = format!("[Tenant: {tenant}] [User: {user}]");
    for op in [
        "list alerts",
        "get metric series",
        "get cache metrics",
        "list credentials",
    ] {
        assert!(logs_contain(&format!("{prefix} {op} started")), "{op}");
        assert!(logs_contain(&format!("{prefix} {op} completed")), "{op}");
    }
}
