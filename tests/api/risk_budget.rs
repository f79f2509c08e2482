//! Issue 11's risk-budget routes and the portfolio snapshot job over real PostgreSQL: the
//! first rebalance writes version 1 (audited), a second without trigger is skipped (audited),
//! `Idempotency-Key` replays, budgets never cross tenants, and two composed applications
//! ("two server processes") on one database write one snapshot per tenant per interval.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use actix_web::test::TestRequest;
use alphapulse::compose;
use alphapulse_domain::{
    ports::{Actor, PortfolioSnapshotRepo},
    Role,
};
use alphapulse_persistence::PgPortfolioSnapshotRepo;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    common::*,
    risk::{get, world},
};

const BUDGET_READS: [&str; 5] = [
    "/api/v1/risk-budget/current",
    "/api/v1/risk-budget/utilization",
    "/api/v1/risk-budget/recommendations",
    "/api/v1/risk-budget/history?days=30",
    "/api/v1/risk-budget/regime/crisis",
];

fn rebalance(token: &str, key: Option<&str>, force: bool) -> TestRequest {
    let mut req = TestRequest::post()
        .uri(&format!("/api/v1/risk-budget/rebalance?force={force}"))
        .insert_header(bearer(token));
    if let Some(key) = key {
        req = req.insert_header(("Idempotency-Key", key));
    }
    req
}

fn dec_of(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn the_first_rebalance_writes_a_budget_the_next_is_skipped_and_both_are_audited() {
    let w = world();
    for path in &BUDGET_READS[..2] {
        let res = w.app.send(get(path, &w.a_viewer)).await;
        assert_eq!(res.status, 404, "{path}: {:?}", res.body);
        assert!(res.detail().contains("rebalance"), "{}", res.detail());
    }
    let rec = w.app.send(get(BUDGET_READS[2], &w.a_viewer)).await.body;
    assert_eq!(rec["requires_rebalancing"], true);
    assert_eq!(rec["priority"], "high");

    let first = w.app.send(rebalance(&w.a_admin, None, false)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["status"], "completed");
    assert_eq!(first.body["version"], 1);
    let allocations = first.body["new_allocations"].as_array().unwrap();
    let names: Vec<&str> = allocations
        .iter()
        .map(|a| a["entity"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["spot", "futures", "majors", "altcoins"]);

    let current = w.app.send(get(BUDGET_READS[0], &w.a_viewer)).await;
    assert_eq!(current.status, 200, "{:?}", current.body);
    let total = dec_of(&current.body["total_budget"]);
    // 1.5 × the portfolio value.
    let p = w.app.send(get("/api/v1/portfolio", &w.a_viewer)).await.body;
    assert_eq!(
        total,
        (dec_of(&p["total_value"]) * Decimal::new(15, 1)).round_dp(8)
    );
    for view in ["strategy", "asset_class"] {
        let sum: Decimal = current.body["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["entity_type"] == view)
            .map(|a| dec_of(&a["allocated_amount"]))
            .sum();
        assert_eq!(sum, total, "{view} allocations add up to the budget");
    }
    // Utilisation from the live positions: the views' gross values.
    let u = w.app.send(get(BUDGET_READS[1], &w.a_viewer)).await.body;
    assert_eq!(u["budget_version"], 1);
    let gross = dec_of(
        &w.app
            .send(get("/api/v1/risk/exposure", &w.a_viewer))
            .await
            .body["gross_exposure"],
    );
    assert_eq!(dec_of(&u["utilized_budget"]), gross);
    assert!(u["by_strategy"]["spot"].as_f64().unwrap() > 0.0);

    let second = w.app.send(rebalance(&w.a_admin, None, false)).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["status"], "skipped", "{:?}", second.body);
    assert_eq!(second.body["version"], 1);
    let forced = w.app.send(rebalance(&w.a_admin, None, true)).await;
    assert_eq!(forced.body["status"], "completed");
    assert_eq!(forced.body["version"], 2);

    let audit = w.app.audit_entries(w.a);
    let statuses: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.details["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("risk_budget.rebalance", "completed"),
            ("risk_budget.rebalance", "skipped"),
            ("risk_budget.rebalance", "completed"),
        ]
    );
    let history = w.app.send(get(BUDGET_READS[3], &w.a_viewer)).await.body;
    assert_eq!(history["performance_metrics"]["rebalances"], 2);
    // Tenant B has no budget: A's is invisible to it.
    let b = w.app.send(get(BUDGET_READS[0], &w.b_admin)).await;
    assert_eq!(b.status, 404);
    assert!(w
        .app
        .audit_entries(w.b)
        .iter()
        .all(|e| e.action != "risk_budget.rebalance"));
}

#[actix_web::test]
async fn a_retried_rebalance_with_its_key_replays_and_a_reused_key_conflicts() {
    let w = world();
    let first = w.app.send(rebalance(&w.a_admin, Some("rb-1"), false)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let again = w.app.send(rebalance(&w.a_admin, Some("rb-1"), false)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let other = w.app.send(rebalance(&w.a_admin, Some("rb-1"), true)).await;
    assert_eq!(other.status, 409, "{:?}", other.body);
    // One version, one audit row.
    assert_eq!(
        w.app
            .audit_entries(w.a)
            .iter()
            .filter(|e| e.action == "risk_budget.rebalance")
            .count(),
        1
    );
    // The same key in another tenant is another key.
    let b = w.app.send(rebalance(&w.b_admin, Some("rb-1"), false)).await;
    assert_eq!(b.status, 200);
    assert!(b.header("idempotent-replayed").is_none());
}

#[actix_web::test]
async fn regime_budgets_scale_the_tenants_base_and_every_read_answers() {
    let w = world();
    assert_eq!(
        w.app.send(rebalance(&w.a_admin, None, false)).await.status,
        200
    );
    for path in BUDGET_READS {
        let res = w.app.send(get(path, &w.a_viewer)).await;
        assert_eq!(res.status, 200, "{path}: {:?}", res.body);
    }
    let crisis = w.app.send(get(BUDGET_READS[4], &w.a_viewer)).await.body;
    assert_eq!(crisis["regime"], "crisis");
    assert_eq!(
        dec_of(&crisis["total_budget"]),
        (dec_of(&crisis["base_budget"]) * Decimal::new(4, 1)).round_dp(8)
    );
    assert_eq!(crisis["leverage_limit"], 0.75);
    assert_eq!(crisis["allocation_method"], "equal_risk");
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn budget_routes_log_tenant_and_user() {
    let w = world();
    let claims = w
        .app
        .state
        .authenticator
        .verifier()
        .verify(&w.a_admin)
        .unwrap();
    assert_eq!(
        w.app.send(rebalance(&w.a_admin, None, false)).await.status,
        200
    );
    for path in BUDGET_READS {
        assert_eq!(
            w.app.send(get(path, &w.a_admin)).await.status,
            200,
            "{path}"
        );
    }
    let prefix = format!("[Tenant: {}] [User: {}]", claims.tenant_id, claims.sub);
    for op in [
        "rebalance risk budget",
        "get risk budget",
        "get risk budget utilization",
        "get risk budget recommendations",
        "get risk budget history",
        "get regime risk budget",
    ] {
        assert!(logs_contain(&format!("{prefix} {op} started")), "{op}");
        assert!(logs_contain(&format!("{prefix} {op} completed")), "{op}");
    }
}

/// Settings whose snapshot interval is so long that every pass of the test falls in one.
fn long_interval() -> compose::Settings {
    compose::Settings {
        snapshot_interval: Duration::from_secs(10 * 365 * 24 * 3600),
        ..settings()
    }
}

#[actix_web::test]
async fn two_server_processes_on_one_database_write_one_snapshot_per_tenant_per_interval() {
    let w = world();
    // Two applications composed as `serve` composes them, each with its own connection pool,
    // as two processes would be.
    let jobs: Vec<Arc<_>> = (0..2)
        .map(|_| {
            let pool = w.app.db.pool_of(4);
            Arc::new(
                compose::app_state_and_job(&pool, &long_interval())
                    .unwrap()
                    .1,
            )
        })
        .collect();
    let barrier = Arc::new(Barrier::new(4));
    let passes: Vec<_> = (0..4)
        .map(|i| {
            let (job, barrier) = (jobs[i % 2].clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                job.run_once().unwrap()
            })
        })
        .collect();
    let runs: Vec<_> = passes.into_iter().map(|p| p.join().unwrap()).collect();
    let written: usize = runs.iter().map(|r| r.written).sum();
    // Two tenants (the platform tenant holds no book): one snapshot each, whoever wrote it.
    assert_eq!(written, 2, "{runs:?}");
    let repo = PgPortfolioSnapshotRepo::new(w.app.repos.db.clone());
    for tenant in [w.a, w.b] {
        assert_eq!(repo.version(&Actor::system(tenant)).unwrap().1, 1);
    }
    // Another pass in the same interval writes nothing.
    let again = jobs[0].run_once().unwrap();
    assert_eq!((again.written, again.existing), (0, 2));
    // The job's snapshot is what the portfolio history shows.
    let p = w
        .app
        .send(get("/api/v1/portfolio?include_history=true", &w.a_viewer))
        .await
        .body;
    assert_eq!(p["history"].as_array().unwrap().len(), 1);
    assert_eq!(p["history"][0]["total_value"], p["total_value"]);
    // Reloads are extra snapshots, not the interval's.
    let token = w
        .app
        .user_with_token(w.a, "t2@acme-capital.example", Role::Trader)
        .1;
    let reload = w
        .app
        .send(
            TestRequest::post()
                .uri("/api/v1/portfolio/reload")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(reload.status, 200);
    assert_eq!(repo.version(&Actor::system(w.a)).unwrap().1, 2);
    assert_eq!(json!(again.failed), json!(0));
}
