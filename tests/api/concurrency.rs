//! Simultaneous requests: cold caches are filled once, GETs never conflict, trading actions
//! are never doubled, and every route of the route table answers only what the OpenAPI
//! document lists when 16 requests arrive at once (so a new route is covered by
//! construction).

use std::collections::BTreeSet;

use actix_web::test::TestRequest;
use alphapulse_api::route_table;
use alphapulse_domain::{PositionSide, Role, TenantId};
use futures_util::future::join_all;
use serde_json::{json, Value};

use super::common::{trading::*, *};

/// Three tenants with holdings, hedges and a regime universe each, over shared candles. The
/// burst limits are out of the way: these tests are about simultaneous requests, not about
/// plans (tests/api/quotas.rs is), and a 429 would hide what they look for.
fn world() -> (TestApp, Vec<(TenantId, String)>) {
    let mut app = TestApp::with_settings(&roomy_settings());
    seed_market(&mut app);
    let specs: [(&str, &str, &str); 3] = [
        ("acme-capital", "BTCUSDT", "2"),
        ("beta-quant", "ETHUSDT", "30"),
        ("gamma-macro", "SOLUSDT", "500"),
    ];
    let mut tenants = Vec::new();
    for (slug, symbol, qty) in specs {
        let (tenant, _) = seed_tenant(
            &mut app,
            slug,
            &[(symbol, qty, "10")],
            &[(symbol, PositionSide::Short, "0.1", "10")],
            &[(symbol, 1.0)],
        );
        let (_, admin) = app.user_with_token(tenant, &format!("admin@{slug}.example"), Role::Admin);
        tenants.push((tenant, admin));
    }
    (app, tenants)
}

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

#[actix_web::test]
async fn cold_regime_requests_fit_once_per_tenant_and_never_conflict() {
    let (app, tenants) = world();
    let svc = test_service!(app);
    // 96 simultaneous requests right after start, 32 per tenant.
    let current = (0..96).map(|i| get("/api/v1/regime/current", &tenants[i % 3].1).to_request());
    let answers = join_all(current.map(|r| call(&svc, r))).await;
    let statuses: BTreeSet<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses,
        BTreeSet::from([200]),
        "{:?}",
        answers.last().map(|a| &a.body)
    );
    // Every tenant's requests got one and the same fit.
    for (i, (_, _)) in tenants.iter().enumerate() {
        let trained: BTreeSet<String> = answers
            .iter()
            .skip(i)
            .step_by(3)
            .map(|a| a.body["model"]["trained_at"].to_string())
            .collect();
        assert_eq!(
            trained.len(),
            1,
            "tenant {i} was fitted {} times",
            trained.len()
        );
    }
    let history =
        (0..48).map(|i| get("/api/v1/regime/history?days=30", &tenants[i % 3].1).to_request());
    let answers = join_all(history.map(|r| call(&svc, r))).await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let days: Vec<&str> = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&&str> = days.iter().collect();
        assert_eq!((days.len(), unique.len()), (30, 30), "one row per day");
        assert!(days.windows(2).all(|w| w[0] < w[1]), "newest last");
    }
}

#[actix_web::test]
async fn simultaneous_executes_place_one_order_set() {
    let (app, tenants) = world();
    let (_, admin) = &tenants[0];
    let svc = test_service!(app);
    let execute = || {
        TestRequest::post()
            .uri("/api/v1/hedging/execute")
            .insert_header(bearer(admin))
            .set_json(json!({"target_hedge_ratio": 1.0}))
            .to_request()
    };
    let answers = join_all((0..4).map(|_| call(&svc, execute()))).await;
    let mut outcomes: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{:?}", a.body);
            a.body["status"].as_str().unwrap().to_owned()
        })
        .collect();
    outcomes.sort();
    // One execution placed the hedge; the three that waited for it found nothing to do.
    assert_eq!(
        outcomes,
        [
            "executed",
            "nothing_to_do",
            "nothing_to_do",
            "nothing_to_do"
        ]
    );
    let metrics = call(&svc, get("/api/v1/positions/metrics", admin).to_request()).await;
    let ratio = metrics.body["hedge_ratio"].as_f64().unwrap();
    // 2 BTC held, 0.1 short before: the one order sold 1.9 more (a multiple of the 0.001
    // step), so the ratio is 1.0 at the same mark price, never 1.9 or 3.8.
    assert!((ratio - 1.0).abs() < 1e-9, "hedge ratio {ratio}");
}

/// A path of the table with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{regime_type}", "bull")
        .replace("{symbol}", "BTCUSDT")
        .replace("{id}", "00000000-0000-4000-8000-000000000001")
}

#[actix_web::test]
async fn every_route_answers_only_documented_statuses_under_simultaneous_requests() {
    let (app, tenants) = world();
    let owner = app
        .user_with_token(app.platform_tenant, "owner@sweep.example", Role::Owner)
        .1;
    let doc: Value = serde_json::to_value(alphapulse_api::openapi()).unwrap();
    let svc = test_service!(app);
    let mut swept = 0;
    for route in route_table() {
        let method = route.method.as_str().to_lowercase();
        let documented: BTreeSet<u16> = match route.access {
            // Console pages (HTML, not in the document): a bearer token is no session.
            alphapulse_api::Access::Console(Some(_)) => BTreeSet::from([303]),
            alphapulse_api::Access::Console(None) => BTreeSet::from([200, 403]),
            _ => doc["paths"][&route.path][&method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|s| s.parse().unwrap())
                .collect(),
        };
        let requests = (0..16).map(|i| {
            // Mixed tenants, and the platform owner.
            let token = if i % 4 == 3 {
                &owner
            } else {
                &tenants[i % 3].1
            };
            let mut req = TestRequest::default()
                .method(route.method.clone())
                .uri(&concrete(&route.path))
                .insert_header(bearer(token));
            if route.method != actix_web::http::Method::GET {
                req = req.set_json(json!({}));
            }
            req.to_request()
        });
        for answer in join_all(requests.map(|r| call(&svc, r))).await {
            let status = answer.status.as_u16();
            assert!(
                documented.contains(&status),
                "{} {}: {status} is not documented ({documented:?}): {:?}",
                route.method,
                route.path,
                answer.body
            );
            assert!(
                status < 500,
                "{} {}: {:?}",
                route.method,
                route.path,
                answer.body
            );
            if route.method == actix_web::http::Method::GET {
                assert_ne!(status, 409, "a GET conflicted: {}", route.path);
            }
        }
        swept += 1;
    }
    assert!(swept >= 30, "{swept}");
    // The sweep executed each tenant's hedge 16 times at once (empty body: the tenant's
    // default target), then closed its hedges 16 times at once: the data is as one execute
    // and one close leave it: one order set each, no short left.
    for (tenant, admin) in &tenants {
        let metrics = call(&svc, get("/api/v1/positions/metrics", admin).to_request()).await;
        assert_eq!(
            metrics.body["hedge_ratio"].as_f64(),
            Some(0.0),
            "{:?}",
            metrics.body
        );
        let placed: Vec<(String, String)> = app
            .audit_entries(*tenant)
            .into_iter()
            .filter(|e| e.details["status"] == "executed")
            .map(|e| {
                (
                    e.action,
                    e.details["status"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                ("hedging.close".to_owned(), "executed".to_owned()),
                ("hedging.execute".to_owned(), "executed".to_owned())
            ],
            "newest first: one close, one execute"
        );
    }
}
