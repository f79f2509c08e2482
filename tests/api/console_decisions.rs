//! Decisions (seed 004) through the predict route: queued with the reasons while autopost is
//! off or no rule covers the pattern, auto-executed through the paper exchange once every check
//! passes, never twice for a retried request, the LLM cap, and the trail row of each.

use actix_web::test::TestRequest;
use alphapulse_domain::{
    ports::{Actor, RiskLimits, RiskLimitsRepo},
    PositionSide, Role,
};
use alphapulse_persistence::PgRiskLimitsRepo;
use diesel::{sql_query, sql_types::BigInt, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};

use super::common::{trading::*, *};

fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn orders(app: &TestApp) -> i64 {
    app.repos
        .db
        .platform()
        .run(|c| {
            sql_query("SELECT count(*) AS n FROM orders")
                .get_result::<Count>(c)
                .map_err(alphapulse_persistence::Error::from)
        })
        .unwrap()
        .n
}

struct Desk {
    app: TestApp,
    admin: String,
    trader: String,
    ensemble: String,
}

/// A tenant with a paper book (BTC spot, an ETH short), an ensemble with two agents.
async fn desk() -> Desk {
    let mut app = TestApp::new();
    seed_market(&mut app);
    let (tenant, _) = seed_tenant(
        &mut app,
        "pilot-desk",
        &[("BTCUSDT", "1", "30000"), ("ETHUSDT", "10", "2000")],
        &[("SOLUSDT", PositionSide::Short, "50", "100")],
        &[("BTCUSDT", 1.0)],
    );
    PgRiskLimitsRepo::new(app.repos.db.clone())
        .set(
            &Actor::system(tenant),
            &RiskLimits {
                max_position_weight: 1.0,
                ..RiskLimits::default()
            },
            &fixture_note(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, admin) = app.user_with_token(tenant, "admin@pilot-desk.example", Role::Admin);
    let (_, trader) = app.user_with_token(tenant, "trader@pilot-desk.example", Role::Trader);
    let created = app
        .send(post(
            "/api/v1/ensemble/create",
            &trader,
            json!({"name": "Core", "method": "weighted_average"}),
        ))
        .await;
    let ensemble = created.body["ensemble_id"].as_str().unwrap().to_owned();
    for (agent, kind) in [("tech", "technical"), ("llm", "sentiment")] {
        let res = app
            .send(post(
                &format!("/api/v1/ensemble/{ensemble}/register-agent"),
                &trader,
                json!({"agent_id": agent, "agent_type": kind}),
            ))
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
    Desk {
        app,
        admin,
        trader,
        ensemble,
    }
}

fn signals(cost: &str) -> Value {
    json!({"symbol": "ETHUSDT", "signals": [
        {"agent_id": "tech", "signal": 0.8, "confidence": 0.95},
        {"agent_id": "llm", "signal": 0.6, "confidence": 0.93, "cost_usd": cost},
    ]})
}

impl Desk {
    async fn predict(&self, cost: &str, key: Option<&str>) -> JsonResponse {
        let mut req = post(
            &format!("/api/v1/ensemble/{}/predict", self.ensemble),
            &self.trader,
            signals(cost),
        );
        if let Some(key) = key {
            req = req.insert_header(("idempotency-key", key));
        }
        let res = self.app.send(req).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        res
    }
}

#[actix_web::test]
async fn predictions_become_audited_decisions_and_auto_execute_once_every_check_passes() {
    let d = desk().await;
    // Autopost off (the default): queued, with every failing check.
    let first = d.predict("0.02", None).await;
    let decision = &first.body["decision"];
    assert_eq!(decision["action"], "queued", "{decision}");
    assert_eq!(decision["not_auto_post_reason"], "autopost_disabled");
    assert_eq!(decision["reasons"], json!(["autopost_disabled", "no_rule"]));
    assert_eq!(
        decision["calibrated"], false,
        "raw confidence until there are outcomes"
    );
    assert_eq!(decision["vendor_normalized"], "paper:ETHUSDT");
    assert_eq!(decision["side"], "buy");
    assert_eq!(decision["llm_cost_usd"], "0.02");
    assert!(decision["quantity"].is_string(), "sized: {decision}");
    assert_eq!(first.body["prediction_id"], decision["decision_id"]);
    let regime = decision["regime"].clone();

    // Autopost on, threshold 0.80, and a rule for the pattern: auto-executed.
    let set = d
        .app
        .send(post(
            &format!("/api/v1/tenants/{}/settings", tenant_of(&d).await),
            &d.admin,
            json!({"autopost_enabled": true, "autopost_threshold": 0.8}),
        ))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    accept_rule_for(&d, &regime).await;
    let before = orders(&d.app);
    let auto = d.predict("0.02", Some("retry-key-1")).await;
    assert_eq!(
        auto.body["decision"]["action"], "auto_executed",
        "{}",
        auto.body["decision"]
    );
    assert_eq!(auto.body["decision"]["order_status"], "filled");
    assert_eq!(orders(&d.app), before + 1);
    // The same request again (a client retry): the venue sees the same client order id.
    let retry = d.predict("0.02", Some("retry-key-1")).await;
    assert_eq!(
        retry.body["decision"]["client_order_id"],
        auto.body["decision"]["client_order_id"]
    );
    assert_eq!(
        orders(&d.app),
        before + 1,
        "a retried prediction traded twice"
    );

    // The LLM cap: 0.05 this month, three predictions of 0.02 already: the next is capped.
    let cap = d
        .app
        .send(post(
            &format!("/api/v1/tenants/{}/settings", tenant_of(&d).await),
            &d.admin,
            json!({"llm_tenant_cap_usd": "0.07"}),
        ))
        .await;
    assert_eq!(cap.status, 200);
    let capped = d.predict("0.02", None).await;
    assert_eq!(capped.body["decision"]["action"], "queued");
    assert_eq!(
        capped.body["decision"]["reasons"],
        json!(["llm_cap_reached"])
    );

    // Every decision has its trail row with the seed's columns.
    let trail = d.app.send(get("/api/v1/audit?limit=500", &d.admin)).await;
    let decisions: Vec<&Value> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            ["queued", "auto_executed", "rejected", "failed"]
                .contains(&i["action"].as_str().unwrap())
        })
        .collect();
    assert_eq!(decisions.len(), 4);
    let row = decisions
        .iter()
        .find(|r| r["txn_id"] == first.body["prediction_id"])
        .unwrap();
    let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 9);
    assert_eq!(row["not_auto_post_reason"], "autopost_disabled");
    assert_eq!(row["threshold_used"], 0.9);
    // Bad costs are 422 and predict nothing.
    let bad = d
        .app
        .send(post(
            &format!("/api/v1/ensemble/{}/predict", d.ensemble),
            &d.trader,
            signals("-1"),
        ))
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
}

async fn tenant_of(d: &Desk) -> String {
    let res = d.app.send(get("/api/v1/settings", &d.admin)).await;
    res.body["items"][0]["tenant_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Accepts a rule for (ETHUSDT, buy, the ensemble, `regime`) through a fixture candidate.
async fn accept_rule_for(d: &Desk, regime: &Value) {
    use alphapulse_domain::{
        ports::{Evidence, MinedCandidate, RulePattern, RulesRepo},
        Regime, Side, Symbol, TenantId,
    };
    let tenant = TenantId(tenant_of(d).await.parse().unwrap());
    let regime: Option<Regime> = regime.as_str().map(|r| r.parse().unwrap());
    let candidate = alphapulse_persistence::PgRulesRepo::new(d.app.repos.db.clone())
        .upsert_candidates(
            &Actor::system(tenant),
            &[MinedCandidate {
                pattern: RulePattern {
                    symbol: Symbol::parse("ETHUSDT").unwrap(),
                    side: Side::Buy,
                    ensemble_id: d.ensemble.parse().unwrap(),
                    regime,
                },
                evidence: Evidence {
                    count: 30,
                    precision: 0.7,
                    std_dev: Some(0.02),
                },
            }],
            chrono::Utc::now(),
        )
        .unwrap()
        .remove(0);
    let res = d
        .app
        .send(post(
            &format!("/api/v1/rules/candidates/{}/accept", candidate.id),
            &d.admin,
            json!({}),
        ))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}
