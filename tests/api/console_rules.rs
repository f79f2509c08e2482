//! Rules (seed 004): mining from decision history, dry runs that write nothing (table
//! checksums), accept/reject with reviewed_by/at and a new version, versions stored whole,
//! rollback to a new version equal to the old one, 404/409 answers, tenant isolation.

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{DecisionAction as A, DecisionReason as R},
    Side,
};
use serde_json::{json, Value};

use super::common::{console::*, trading::seed_market, *};

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

/// Tenant `a` with an ensemble, decisions of BTCUSDT and ETHUSDT, and two pending candidates.
fn world() -> (Firm, uuid::Uuid, Vec<String>) {
    let f = firm();
    let ensemble = ensemble_fixture(&f.app, f.a.id);
    let buy = Some(Side::Buy);
    for day in 1..=6 {
        decision_fixture(
            &f.app,
            f.a.id,
            ensemble,
            "BTCUSDT",
            buy,
            A::Queued,
            &[R::NoRule],
            days_ago(day),
        );
    }
    decision_fixture(
        &f.app,
        f.a.id,
        ensemble,
        "BTCUSDT",
        buy,
        A::Queued,
        &[R::BelowThreshold, R::NoRule],
        days_ago(7),
    );
    decision_fixture(
        &f.app,
        f.a.id,
        ensemble,
        "ETHUSDT",
        buy,
        A::Queued,
        &[R::NoRule],
        days_ago(2),
    );
    decision_fixture(
        &f.app,
        f.a.id,
        ensemble,
        "ETHUSDT",
        buy,
        A::AutoExecuted,
        &[],
        days_ago(3),
    );
    let candidates = ["BTCUSDT", "ETHUSDT"]
        .iter()
        .map(|s| {
            candidate_fixture(&f.app, f.a.id, ensemble, s)
                .id
                .to_string()
        })
        .collect();
    (f, ensemble, candidates)
}

#[actix_web::test]
async fn test_dryrun_no_mutation() {
    let (f, _, candidates) = world();
    let before = checksums(&f.app);
    let res = f
        .app
        .send(post(
            "/api/v1/rules/dryrun",
            &f.a.admin,
            json!({"candidate_id": candidates[0]}),
        ))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    // 9 decisions, 1 automated; the BTC rule releases the 6 blocked only by no_rule.
    assert_eq!(res.body["decisions_considered"], 9);
    assert!((res.body["automation_rate_before"].as_f64().unwrap() - 1.0 / 9.0).abs() < 1e-9);
    assert!((res.body["automation_rate_after"].as_f64().unwrap() - 7.0 / 9.0).abs() < 1e-9);
    assert_eq!(res.body["affected_decisions"], 6);
    assert_eq!(res.body["affected"].as_array().unwrap().len(), 6);
    assert_eq!(
        res.body["reason_deltas"]["no_rule"],
        json!({"before": 7, "after": 1, "delta": -6})
    );
    assert_eq!(res.body["reason_deltas"]["below_threshold"]["delta"], 0);
    // Staff (read only) may dry-run an assigned tenant's candidate too.
    let staff = f
        .app
        .send(post(
            &format!("/api/v1/rules/dryrun?tenant_id={}", f.a.id),
            &f.staff,
            json!({"candidate_id": candidates[1]}),
        ))
        .await;
    assert_eq!(staff.status, 200, "{:?}", staff.body);
    assert_eq!(checksums(&f.app), before, "a dry run changed a table");
    // Another tenant's candidate is not found (and still nothing is written).
    let other = f
        .app
        .send(post(
            "/api/v1/rules/dryrun",
            &f.b.admin,
            json!({"candidate_id": candidates[0]}),
        ))
        .await;
    assert_eq!(other.status, 404, "{:?}", other.body);
    assert_eq!(checksums(&f.app), before);
}

#[actix_web::test]
async fn test_promote_persists_and_version_increments() {
    let (f, ensemble, candidates) = world();
    let listed = f
        .app
        .send(get("/api/v1/rules/candidates", &f.a.admin))
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let accept = |id: &str| format!("/api/v1/rules/candidates/{id}/accept");
    let first = f
        .app
        .send(post(&accept(&candidates[0]), &f.a.admin, json!({})))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["candidate"]["status"], "accepted");
    assert_eq!(
        first.body["candidate"]["reviewed_by"],
        f.a.admin_id.to_string()
    );
    assert!(first.body["candidate"]["reviewed_at"].is_string());
    assert_eq!(first.body["version"]["version"], 1);
    assert_eq!(first.body["version"]["parent_version"], Value::Null);
    let second = f
        .app
        .send(post(&accept(&candidates[1]), &f.a.admin, json!({})))
        .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["version"]["version"], 2);
    assert_eq!(second.body["version"]["parent_version"], 1);
    let rules = second.body["version"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "versions are stored whole");
    assert_eq!(rules[0]["symbol"], "BTCUSDT");
    assert_eq!(rules[0]["ensemble_id"], ensemble.to_string());
    assert_eq!(rules[0]["regime"], "bull");
    // Persisted: the versions list and the pending list.
    let versions = f.app.send(get("/api/v1/rules/versions", &f.a.admin)).await;
    let items = versions.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [2, 1]
    );
    let pending = f
        .app
        .send(get("/api/v1/rules/candidates", &f.a.admin))
        .await;
    assert_eq!(pending.body["items"], json!([]));
    let accepted = f
        .app
        .send(get("/api/v1/rules/candidates?status=accepted", &f.a.admin))
        .await;
    assert_eq!(accepted.body["items"].as_array().unwrap().len(), 2);
    // Accepting twice is a conflict; rejecting an accepted candidate too.
    let again = f
        .app
        .send(post(&accept(&candidates[0]), &f.a.admin, json!({})))
        .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let reject = format!("/api/v1/rules/candidates/{}/reject", candidates[0]);
    assert_eq!(
        f.app
            .send(post(&reject, &f.a.admin, json!({})))
            .await
            .status,
        409
    );
    // Audited: one row per accept, in both logs.
    let actions: Vec<String> = f
        .app
        .audit_entries(f.a.id)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["rules.accept", "rules.accept"]);
    let trail = f
        .app
        .send(get("/api/v1/audit?action=rule_accepted", &f.a.admin))
        .await;
    assert_eq!(trail.body["items"].as_array().unwrap().len(), 2);
    // Staff may not accept; another tenant's admin does not find the candidate.
    let other = firm_tenant(&f.app, "pilot-gamma");
    let c3 = candidate_fixture(&f.app, f.a.id, ensemble, "SOLUSDT").id;
    assert_eq!(
        f.app
            .send(post(
                &format!("{}?tenant_id={}", accept(&c3.to_string()), f.a.id),
                &f.staff,
                json!({})
            ))
            .await
            .status,
        403
    );
    assert_eq!(
        f.app
            .send(post(&accept(&c3.to_string()), &other.admin, json!({})))
            .await
            .status,
        404
    );
    assert_eq!(
        f.app
            .send(get("/api/v1/rules/versions", &other.admin))
            .await
            .body["items"],
        json!([])
    );
}

#[actix_web::test]
async fn test_rollback_restores_prior_version() {
    let (f, _, candidates) = world();
    for id in &candidates {
        let res = f
            .app
            .send(post(
                &format!("/api/v1/rules/candidates/{id}/accept"),
                &f.a.admin,
                json!({}),
            ))
            .await;
        assert_eq!(res.status, 200);
    }
    let v1 = f
        .app
        .send(get("/api/v1/rules/versions", &f.a.admin))
        .await
        .body["items"][1]
        .clone();
    let res = f
        .app
        .send(post(
            "/api/v1/rules/rollback",
            &f.a.admin,
            json!({"to_version": 1}),
        ))
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["version"], 3);
    assert_eq!(res.body["parent_version"], 2);
    assert_eq!(res.body["change"], "rollback");
    assert_eq!(res.body["rolled_back_to"], 1);
    assert_eq!(
        res.body["rules"], v1["rules"],
        "the rules of version 1, whole"
    );
    // History kept: 3 versions.
    let versions = f.app.send(get("/api/v1/rules/versions", &f.a.admin)).await;
    assert_eq!(versions.body["items"].as_array().unwrap().len(), 3);
    // Unknown versions are 404 and write nothing.
    let before = checksums(&f.app);
    for v in [json!({"to_version": 99}), json!({"to_version": 4.0})] {
        let res = f
            .app
            .send(post("/api/v1/rules/rollback", &f.a.admin, v))
            .await;
        assert_eq!(res.status, 404, "{:?}", res.body);
    }
    assert_eq!(
        f.app
            .send(post(
                "/api/v1/rules/rollback",
                &f.a.admin,
                json!({"to_version": 0})
            ))
            .await
            .status,
        422
    );
    assert_eq!(checksums(&f.app), before);
    let trail = f
        .app
        .send(get("/api/v1/audit?action=rules_rolled_back", &f.a.admin))
        .await;
    assert_eq!(trail.body["items"][0]["vendor_normalized"], "rules:v3");
}

#[actix_web::test]
async fn mining_proposes_patterns_from_realised_outcomes() {
    let mut f = firm();
    seed_market(&mut f.app);
    let ensemble = ensemble_fixture(&f.app, f.a.id);
    // 30 BTC buys over the last 40 days: each has a realised next-day return.
    for day in 2..32 {
        decision_fixture(
            &f.app,
            f.a.id,
            ensemble,
            "BTCUSDT",
            Some(Side::Buy),
            A::Queued,
            &[R::NoRule],
            days_ago(day),
        );
    }
    let strict = f
        .app
        .send(post(
            "/api/v1/rules/mine",
            &f.a.admin,
            json!({"min_count": 31}),
        ))
        .await;
    assert_eq!(strict.status, 200, "{:?}", strict.body);
    assert_eq!(strict.body["candidates"], json!([]));
    let loose = json!({"min_count": 30, "min_precision": 0.0, "max_std_dev": 1.0});
    let res = f
        .app
        .send(post("/api/v1/rules/mine", &f.a.admin, loose.clone()))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let found = res.body["candidates"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let c = &found[0];
    assert_eq!(
        (
            c["symbol"].as_str(),
            c["side"].as_str(),
            c["regime"].as_str()
        ),
        (Some("BTCUSDT"), Some("buy"), Some("bull"))
    );
    assert_eq!(c["evidence"]["count"], 30);
    let precision = c["evidence"]["precision"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&precision));
    assert!(c["evidence"]["std_dev"].as_f64().unwrap() > 0.0);
    // Mining again refreshes the same pending candidate rather than adding one.
    let again = f
        .app
        .send(post("/api/v1/rules/mine", &f.a.admin, loose))
        .await;
    assert_eq!(again.body["candidates"][0]["id"], c["id"]);
    let listed = f
        .app
        .send(get("/api/v1/rules/candidates", &f.a.admin))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    // The job mines every active tenant with its thresholds.
    let job = alphapulse_console::MiningThresholds {
        min_count: 30,
        min_precision: 0.0,
        max_std_dev: 1.0,
        lookback_days: 90,
    };
    let found = alphapulse::jobs::mine_rules_once(
        &alphapulse_persistence::PgTenantRepo::new(f.app.repos.db.clone()),
        &f.app.state.console.rules,
        &job,
    )
    .unwrap();
    assert_eq!(found, 1, "tenant a's pattern, refreshed");
    // Thresholds out of range are 422; staff may not mine.
    let bad = f
        .app
        .send(post(
            "/api/v1/rules/mine",
            &f.a.admin,
            json!({"min_precision": 1.5}),
        ))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        f.app
            .send(post(
                &format!("/api/v1/rules/mine?tenant_id={}", f.a.id),
                &f.staff,
                json!({})
            ))
            .await
            .status,
        403
    );
}
