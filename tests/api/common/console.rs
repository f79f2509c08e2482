//! Firm console fixtures: tenants with an admin, a trader and a viewer, the platform owner and
//! a staff user assigned to the first tenant; ensembles, decisions and rule candidates written
//! straight through the repositories; table checksums.

use alphapulse_domain::{
    ports::{
        Actor, Decision, DecisionAction, DecisionReason, DecisionRepo, EnsembleMethod,
        EnsembleRepo, Evidence, MinedCandidate, NewEnsemble, RuleCandidate, RulePattern, RulesRepo,
    },
    AuditOutcome, NewAuditEntry, Regime, Role, Side, Symbol, TenantId, UserId,
};
use alphapulse_persistence::{Error, PgDecisionRepo, PgEnsembleRepo, PgRulesRepo};
use chrono::{DateTime, Duration, Utc};
use diesel::{sql_query, sql_types::Text, QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{TestApp, PASSWORD};

/// A tenant and its users' tokens.
#[derive(Debug, Clone)]
pub struct FirmTenant {
    pub id: TenantId,
    pub admin_id: UserId,
    pub admin: String,
    pub trader: String,
    pub viewer: String,
}

/// Two tenants, the owner and a staff user assigned to `a`.
#[derive(Debug)]
pub struct Firm {
    pub app: TestApp,
    pub a: FirmTenant,
    pub b: FirmTenant,
    pub owner: String,
    pub staff: String,
}

pub fn firm_tenant(app: &TestApp, slug: &str) -> FirmTenant {
    let id = app.create_tenant(slug, 20);
    let (admin_id, admin) = app.user_with_token(id, &format!("admin@{slug}.example"), Role::Admin);
    let (_, trader) = app.user_with_token(id, &format!("trader@{slug}.example"), Role::Trader);
    let (_, viewer) = app.user_with_token(id, &format!("viewer@{slug}.example"), Role::Viewer);
    FirmTenant {
        id,
        admin_id,
        admin,
        trader,
        viewer,
    }
}

pub fn firm() -> Firm {
    let app = TestApp::new();
    let a = firm_tenant(&app, "pilot-acme");
    let b = firm_tenant(&app, "pilot-beta");
    let owner_id = app.create_platform_user("owner@console.example", Role::Owner);
    let staff_id = app.create_platform_user("staff@console.example", Role::Staff);
    app.assign_staff(staff_id, a.id);
    let owner = app.token_for(owner_id, app.platform_tenant, Role::Owner);
    let staff = app.token_for(staff_id, app.platform_tenant, Role::Staff);
    let _ = PASSWORD;
    Firm {
        app,
        a,
        b,
        owner,
        staff,
    }
}

/// An ensemble of `tenant` (no agents).
pub fn ensemble_fixture(app: &TestApp, tenant: TenantId) -> Uuid {
    let id = Uuid::new_v4();
    PgEnsembleRepo::new(app.repos.db.clone())
        .create(
            &Actor::system(tenant),
            &NewEnsemble {
                id,
                name: "Core momentum".into(),
                method: EnsembleMethod::WeightedAverage,
                config: serde_json::json!({}),
            },
            &NewAuditEntry {
                tenant_id: tenant,
                user_id: None,
                action: super::FIXTURE.into(),
                target: format!("ensemble:{id}"),
                outcome: AuditOutcome::Success,
                request_id: None,
                details: serde_json::json!({}),
            },
        )
        .unwrap();
    id
}

/// A decision of `tenant` made `days_ago` days ago.
#[allow(clippy::too_many_arguments)]
pub fn decision_fixture(
    app: &TestApp,
    tenant: TenantId,
    ensemble: Uuid,
    symbol: &str,
    side: Option<Side>,
    action: DecisionAction,
    reasons: &[DecisionReason],
    at: DateTime<Utc>,
) -> Decision {
    let d = Decision {
        id: Uuid::new_v4(),
        prediction_id: None,
        ensemble_id: ensemble,
        symbol: Symbol::parse(symbol).unwrap(),
        side,
        regime: Some(Regime::Bull),
        prediction: if side == Some(Side::Sell) { -0.6 } else { 0.6 },
        raw_confidence: 0.91,
        calibrated_p: 0.88,
        calibrated: true,
        threshold_used: 0.85,
        action,
        reasons: reasons.to_vec(),
        detail: None,
        vendor_normalized: format!("paper:{symbol}"),
        client_order_id: None,
        order_status: None,
        quantity: None,
        llm_cost_usd: Decimal::new(12, 3),
        user_id: None,
        created_at: at,
    };
    PgDecisionRepo::new(app.repos.db.clone())
        .record(&Actor::system(tenant), &d)
        .unwrap()
}

/// A pending candidate of `tenant` for (symbol, buy, ensemble, bull).
pub fn candidate_fixture(
    app: &TestApp,
    tenant: TenantId,
    ensemble: Uuid,
    symbol: &str,
) -> RuleCandidate {
    PgRulesRepo::new(app.repos.db.clone())
        .upsert_candidates(
            &Actor::system(tenant),
            &[MinedCandidate {
                pattern: RulePattern {
                    symbol: Symbol::parse(symbol).unwrap(),
                    side: Side::Buy,
                    ensemble_id: ensemble,
                    regime: Some(Regime::Bull),
                },
                evidence: Evidence {
                    count: 42,
                    precision: 0.71,
                    std_dev: Some(0.018),
                },
            }],
            Utc::now(),
        )
        .unwrap()
        .remove(0)
}

/// `days` days before now.
pub fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = Text)]
    md5: String,
}

/// The tables the console writes, and `audit_log`.
pub const CONSOLE_TABLES: [&str; 6] = [
    "tenant_settings",
    "decisions",
    "decision_audit_log",
    "rule_candidates",
    "rules_versions",
    "audit_log",
];

/// An MD5 checksum of every row of each table (read through the platform role).
pub fn checksums(app: &TestApp) -> Vec<(&'static str, String)> {
    CONSOLE_TABLES
        .iter()
        .map(|table| {
            let sql = format!(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5 FROM {table} t"
            );
            let sum: Sum = app
                .repos
                .db
                .platform()
                .run(|c| sql_query(&sql).get_result(c).map_err(Error::from))
                .unwrap();
            (*table, sum.md5)
        })
        .collect()
}
