//! Liquidity over the shared candles and the tenant's holdings, and exchange credentials over
//! HTTP (issue 12): models equal to the maths crate's on the stored candles, 404 without
//! candles, 422 for sizes that are not positive; credentials sealed, masked, tenant-scoped,
//! rotated with a grace period by the composed clock, never in answers, audit rows or logs.

use std::sync::Arc;

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, ManualClock, MarketDataRepo},
    PositionSide, Role,
};
use alphapulse_exchange::{binance::BinanceConfig, CredentialsCipher};
use alphapulse_liquidity::{compute_metrics, MetricsConfig};
use alphapulse_operations::liquidity::bars;
use alphapulse_persistence::PgMarketDataRepo;
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use super::common::{trading::*, *};

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn post(path: &str, token: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

#[actix_web::test]
async fn liquidity_models_run_on_the_stored_candles_and_the_tenants_own_book() {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (a, viewer) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "2", "30000"), ("ETHUSDT", "10", "2000")],
        &[("BTCUSDT", PositionSide::Short, "1", "41000")],
        &[("BTCUSDT", 1.0)],
    );
    let (_, b_viewer) = seed_tenant(
        &mut app,
        "beta-quant",
        &[("SOLUSDT", "500", "80")],
        &[],
        &[("SOLUSDT", 1.0)],
    );
    let candles = PgMarketDataRepo::new(app.repos.db.clone())
        .daily_candles(&Actor::system(a), &sym("BTCUSDT"), 30)
        .unwrap();
    let expected = compute_metrics(&bars(&candles), &MetricsConfig::default()).unwrap();
    let svc = test_service!(app);

    let m = call(
        &svc,
        get("/api/v1/liquidity/metrics/BTCUSDT", &viewer).to_request(),
    )
    .await;
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(m.body["symbol"], "BTCUSDT");
    assert_eq!(m.body["observations"], 30);
    assert_eq!(
        m.body["spread_estimate"]["spread"].as_f64().unwrap(),
        expected.spread_estimate.spread
    );
    assert_eq!(m.body["adv"]["base"].as_f64().unwrap(), expected.adv.base);
    assert_eq!(
        m.body["amihud"]["illiquidity"].as_f64(),
        expected.amihud.illiquidity
    );
    assert_eq!(
        m.body["kyle_lambda"]["lambda"].as_f64(),
        expected.kyle_lambda.map(|k| k.lambda)
    );
    let h = call(
        &svc,
        get("/api/v1/liquidity/history/BTCUSDT?days=5", &viewer).to_request(),
    )
    .await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body["history"].as_array().unwrap().len(), 5);
    assert_eq!(
        h.body["history"][4]["spread_estimate"]["spread"],
        m.body["spread_estimate"]["spread"]
    );

    let assess = call(
        &svc,
        post(
            "/api/v1/liquidity/assess",
            &viewer,
            json!({"symbol": "BTCUSDT", "position_size": 2.5}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(assess.status, 200, "{:?}", assess.body);
    let score = assess.body["liquidity_score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert!(assess.body["days_to_liquidate"].as_f64().unwrap() > 0.0);
    assert!(assess.body["expected_slippage_bps"].as_f64().unwrap() > 0.0);
    assert!(assess.body["advice"].is_string());
    let impact = call(
        &svc,
        post(
            "/api/v1/liquidity/impact",
            &viewer,
            json!({"symbol": "BTCUSDT", "order_size": 10, "side": "sell"}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(impact.status, 200, "{:?}", impact.body);
    let total = impact.body["total_bps"].as_f64().unwrap();
    // Square root law: Y sigma sqrt(Q / ADV) with Y = 1, in bps.
    let law = expected.volatility_daily * (10.0 / expected.adv.base).sqrt() * 1e4;
    assert!(
        (total - law).abs() < 1e-9 * law.max(1.0),
        "{total} vs {law}"
    );
    assert!((impact.body["permanent_bps"].as_f64().unwrap() - total * 2.0 / 3.0).abs() < 1e-9);
    assert!(
        impact.body["signed_move_bps"].as_f64().unwrap() < 0.0,
        "a sell moves the price down"
    );
    let plan = call(
        &svc,
        post(
            "/api/v1/liquidity/execution-strategy",
            &viewer,
            json!({"symbol": "BTCUSDT", "total_quantity": 5, "urgency": "high"}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(plan.status, 200, "{:?}", plan.body);
    assert_eq!(plan.body["strategy"], "ImplementationShortfall");
    assert!(plan.body["slices"].as_u64().unwrap() >= 1);
    assert!(plan.body["rationale"].as_str().unwrap().len() > 10);

    // The book: A's symbols only (its spot and the short), never B's.
    let book = call(
        &svc,
        get("/api/v1/liquidity/portfolio", &viewer).to_request(),
    )
    .await;
    assert_eq!(book.status, 200, "{:?}", book.body);
    let symbols: Vec<&str> = book.body["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(
        book.body["holdings"][0]["quantity"], 3.0,
        "2 spot + |-1| futures"
    );
    let b_book = call(
        &svc,
        get(
            "/api/v1/liquidity/portfolio?participation_rate=0.5",
            &b_viewer,
        )
        .to_request(),
    )
    .await;
    let b_symbols: Vec<&str> = b_book.body["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(b_symbols, ["SOLUSDT"]);
    assert_eq!(b_book.body["participation_rate"], 0.5);
    let stress = call(
        &svc,
        TestRequest::post()
            .uri("/api/v1/liquidity/stress-test?scenario=flash_crash")
            .insert_header(bearer(&viewer))
            .to_request(),
    )
    .await;
    assert_eq!(stress.status, 200, "{:?}", stress.body);
    assert_eq!(stress.body["scenario"]["name"], "flash_crash");
    assert!(
        stress.body["total_loss"].as_f64().unwrap() > stress.body["market_loss"].as_f64().unwrap()
    );

    // Bad input.
    for path in [
        "/api/v1/liquidity/metrics/XYZUSDT",
        "/api/v1/liquidity/history/XYZUSDT",
        "/api/v1/liquidity/metrics/not-a-symbol",
    ] {
        let res = call(&svc, get(path, &viewer).to_request()).await;
        assert_eq!(res.status, 404, "{path}: {:?}", res.body);
    }
    let res = call(
        &svc,
        post(
            "/api/v1/liquidity/assess",
            &viewer,
            json!({"symbol": "XYZUSDT", "position_size": 1}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status, 404);
    assert!(res.detail().contains("XYZUSDT"));
    for (path, body, field) in [
        (
            "/api/v1/liquidity/assess",
            json!({"symbol": "BTCUSDT", "position_size": 0}),
            "position_size",
        ),
        (
            "/api/v1/liquidity/assess",
            json!({"symbol": "BTCUSDT", "position_size": -3}),
            "position_size",
        ),
        (
            "/api/v1/liquidity/assess",
            json!({"symbol": "BTCUSDT", "position_size": 1, "current_price": 0}),
            "current_price",
        ),
        (
            "/api/v1/liquidity/impact",
            json!({"symbol": "BTCUSDT", "order_size": -1, "side": "buy"}),
            "order_size",
        ),
        (
            "/api/v1/liquidity/execution-strategy",
            json!({"symbol": "BTCUSDT", "total_quantity": 0}),
            "total_quantity",
        ),
        (
            "/api/v1/liquidity/execution-strategy",
            json!({"symbol": "BTCUSDT", "total_quantity": 1, "max_impact": 0}),
            "max_impact",
        ),
    ] {
        let res = call(&svc, post(path, &viewer, body).to_request()).await;
        assert_eq!(res.status, 422, "{path}: {:?}", res.body);
        assert_eq!(res.error_fields(), [field]);
    }
    let res = call(
        &svc,
        TestRequest::post()
            .uri("/api/v1/liquidity/stress-test?scenario=meteor")
            .insert_header(bearer(&viewer))
            .to_request(),
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res
        .detail()
        .contains("market_crash, flash_crash, liquidity_crisis"));
    let res = call(
        &svc,
        get("/api/v1/liquidity/history/BTCUSDT?days=0", &viewer).to_request(),
    )
    .await;
    assert_eq!(res.status, 422);
}

const KEY: &str = "abcd1234EFGH5678ijkl9012MNOP3456qrst7890UVWX1234yzab5678CDEF9012";
const SECRET: &str = "SecretSecretSecretSecretSecretSecretSecretSecretSecretSecret0001";
const NEW_KEY: &str = "wxyz9876EFGH5678ijkl9012MNOP3456qrst7890UVWX1234yzab5678CDEF9012";
const NEW_SECRET: &str = "NewSecretNewSecretNewSecretNewSecretNewSecretNewSecretNewSecret1";

#[actix_web::test]
#[tracing_test::traced_test]
async fn credentials_are_sealed_masked_tenant_scoped_and_rotated_with_a_grace_period() {
    let t0 = Utc.with_ymd_and_hms(2025, 12, 3, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let mut settings = settings();
    settings.cipher = Some(CredentialsCipher::new([7; 32]));
    // Nothing listens on port 9: the venue is unreachable, so the health check fails.
    settings.binance = BinanceConfig::with_base_urls("http://127.0.0.1:9", "http://127.0.0.1:9");
    settings.clock = clock.clone();
    let mut app = TestApp::with_settings(&settings);
    seed_market(&mut app);
    let (a, _) = seed_tenant(
        &mut app,
        "acme-capital",
        &[("BTCUSDT", "1", "30000")],
        &[],
        &[("BTCUSDT", 1.0)],
    );
    let (b, _) = seed_tenant(&mut app, "beta-quant", &[], &[], &[("BTCUSDT", 1.0)]);
    let (_, admin) = app.user_with_token(a, "admin@acme.example", Role::Admin);
    let (_, trader) = app.user_with_token(a, "trader@acme.example", Role::Trader);
    let (_, b_admin) = app.user_with_token(b, "admin@beta.example", Role::Admin);
    let owner = app.create_platform_user("owner@platform.example", Role::Owner);
    let owner = app.token_for(owner, app.platform_tenant, Role::Owner);
    let svc = test_service!(app);
    let create = json!({"exchange": "binance", "api_key": KEY, "api_secret": SECRET});

    // Bad input: unknown exchange, a secret shorter than Binance's, unknown fields.
    for (body, needle) in [
        (
            json!({"exchange": "kraken", "api_key": KEY, "api_secret": SECRET}),
            "binance",
        ),
        (
            json!({"exchange": "binance", "api_key": KEY, "api_secret": "tooshort"}),
            "api_secret",
        ),
        (
            json!({"exchange": "binance", "api_key": "abc", "api_secret": SECRET}),
            "api_key",
        ),
    ] {
        let res = call(&svc, post("/api/v1/credentials", &admin, body).to_request()).await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        assert!(res.body.to_string().contains(needle), "{:?}", res.body);
        assert!(!res.body.to_string().contains(SECRET));
    }
    // Admin only: trader 403 (route), owner 403 (credentials belong to tenants).
    assert_eq!(
        call(
            &svc,
            post("/api/v1/credentials", &trader, create.clone()).to_request()
        )
        .await
        .status,
        403
    );
    assert_eq!(
        call(&svc, get("/api/v1/credentials", &owner).to_request())
            .await
            .status,
        403
    );

    let created = call(
        &svc,
        post("/api/v1/credentials", &admin, create.clone()).to_request(),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["api_key_prefix"], "abcd1234***");
    assert_eq!(created.body["exchange"], "binance");
    assert_eq!(created.body["testnet"], false);
    assert_eq!(created.body["has_passphrase"], false);
    // The venue is out of reach: stored, but not put in use (the tenant stays on paper).
    assert_eq!(created.body["active"], false);
    let text = created.body.to_string();
    assert!(!text.contains(SECRET) && !text.contains(KEY));
    let again = call(
        &svc,
        post("/api/v1/credentials", &admin, create.clone()).to_request(),
    )
    .await;
    assert_eq!(again.status, 409);

    let list = call(&svc, get("/api/v1/credentials", &admin).to_request()).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["credentials"][0]["api_key_prefix"], "abcd1234***");
    // B never sees A's credentials, nor touches them.
    let b_list = call(&svc, get("/api/v1/credentials", &b_admin).to_request()).await;
    assert_eq!(b_list.body["total"], 0);
    assert_eq!(b_list.body["credentials"], json!([]));
    let rotate = json!({"api_key": NEW_KEY, "api_secret": NEW_SECRET});
    let b_rotate = TestRequest::put()
        .uri("/api/v1/credentials/binance/rotate")
        .insert_header(bearer(&b_admin))
        .set_json(rotate.clone());
    assert_eq!(call(&svc, b_rotate.to_request()).await.status, 404);
    assert_eq!(
        call(
            &svc,
            get("/api/v1/credentials/binance/health", &b_admin).to_request()
        )
        .await
        .status,
        404
    );
    let b_delete = TestRequest::delete()
        .uri("/api/v1/credentials/binance")
        .insert_header(bearer(&b_admin));
    assert_eq!(call(&svc, b_delete.to_request()).await.status, 404);
    assert_eq!(
        call(
            &svc,
            get("/api/v1/credentials/kraken/health", &admin).to_request()
        )
        .await
        .status,
        404
    );

    // Rotation: the old pair is valid for 5 more minutes by the composed clock.
    clock.advance(Duration::seconds(90));
    let put = TestRequest::put()
        .uri("/api/v1/credentials/binance/rotate")
        .insert_header(bearer(&admin))
        .set_json(rotate.clone());
    let rotated = call(&svc, put.to_request()).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let at = t0 + Duration::seconds(90);
    assert_eq!(rotated.body["rotated_at"], json!(at));
    assert_eq!(
        rotated.body["old_credentials_valid_until"],
        json!(at + Duration::minutes(5))
    );
    assert_eq!(rotated.body["api_key_prefix"], "wxyz9876***");
    let list = call(&svc, get("/api/v1/credentials", &admin).to_request()).await;
    assert_eq!(
        list.body["credentials"][0]["old_credentials_valid_until"],
        json!(at + Duration::minutes(5))
    );

    // The venue is unreachable: invalid, with a safe message, and an exchange alert.
    let health = call(
        &svc,
        get("/api/v1/credentials/binance/health", &admin).to_request(),
    )
    .await;
    assert_eq!(health.status, 200, "{:?}", health.body);
    assert_eq!(health.body["status"], "invalid");
    assert_eq!(health.body["last_checked"], json!(at));
    assert!(!health.body["error_message"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1"));
    let alerts = call(
        &svc,
        get("/api/v1/alerts?source=exchange", &admin).to_request(),
    )
    .await;
    assert_eq!(
        alerts.body["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        alerts.body
    );

    // Stored sealed: neither secret in the table.
    let stored: Vec<String> = {
        use diesel::{sql_types::Text, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            t: String,
        }
        app.repos
            .db
            .platform()
            .run(|c| {
                diesel::sql_query("SELECT row_to_json(e)::text AS t FROM exchange_accounts e")
                    .load::<Row>(c)
                    .map_err(alphapulse_persistence::Error::from)
            })
            .unwrap()
            .into_iter()
            .map(|r| r.t)
            .collect()
    };
    assert!(stored
        .iter()
        .all(|r| !r.contains(SECRET) && !r.contains(NEW_SECRET)));

    let delete = TestRequest::delete()
        .uri("/api/v1/credentials/binance")
        .insert_header(bearer(&admin));
    assert_eq!(call(&svc, delete.to_request()).await.status, 204);
    let delete = TestRequest::delete()
        .uri("/api/v1/credentials/binance")
        .insert_header(bearer(&admin));
    assert_eq!(call(&svc, delete.to_request()).await.status, 404);
    assert_eq!(
        call(&svc, get("/api/v1/credentials", &admin).to_request())
            .await
            .body["total"],
        0
    );
    // The paper account is active again: positions read at once.
    let spot = call(&svc, get("/api/v1/positions/spot", &admin).to_request()).await;
    assert_eq!(spot.status, 200, "{:?}", spot.body);

    // Audit rows with the masked prefix, never a secret; B has none.
    let audit = app.audit_entries(a);
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "credentials.delete",
            "credentials.rotate",
            "credentials.create"
        ]
    );
    assert_eq!(audit[2].details["api_key_prefix"], "abcd1234***");
    assert_eq!(audit[1].details["api_key_prefix"], "wxyz9876***");
    for entry in &audit {
        let text = entry.details.to_string();
        assert!(!text.contains(SECRET) && !text.contains(NEW_SECRET) && !text.contains(KEY));
    }
    assert!(app.audit_entries(b).is_empty());
    assert!(!logs_contain(SECRET) && !logs_contain(NEW_SECRET) && !logs_contain(KEY));
    assert!(logs_contain("abcd1234***"));
}
