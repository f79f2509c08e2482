use std::sync::Arc;

use alphapulse_domain::{
    ports::{
        DecisionAction, DecisionReason, MockDecisionRepo, MockMarketDataRepo, MockRulesRepo,
        MockTenantRepo, SystemClock,
    },
    Regime, Role, UserId,
};
use alphapulse_ensemble::Closes;
use chrono::{NaiveDate, TimeZone};
use rust_decimal::Decimal;

use super::*;

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0).unwrap()
}

fn decision(
    day: u32,
    side: Option<Side>,
    action: DecisionAction,
    reasons: &[DecisionReason],
) -> Decision {
    Decision {
        id: Uuid::new_v4(),
        prediction_id: None,
        ensemble_id: Uuid::nil(),
        symbol: sym("BTCUSDT"),
        side,
        regime: Some(Regime::Bull),
        prediction: 0.5,
        raw_confidence: 0.9,
        calibrated_p: 0.9,
        calibrated: false,
        threshold_used: 0.9,
        action,
        reasons: reasons.to_vec(),
        detail: None,
        vendor_normalized: "paper:BTCUSDT".into(),
        client_order_id: None,
        order_status: None,
        quantity: None,
        llm_cost_usd: Decimal::ZERO,
        user_id: None,
        created_at: at(day),
    }
}

#[test]
fn evidence_counts_precision_and_spread_of_directional_returns() {
    // Closes: 1 Mar 100, 2 Mar 110, 3 Mar 99, 4 Mar 99 (returns +10 %, −10 %, 0 %).
    let day = |d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap();
    let closes: HashMap<Symbol, Closes> = HashMap::from([(
        sym("BTCUSDT"),
        Closes::new(vec![
            (day(1), 100.0),
            (day(2), 110.0),
            (day(3), 99.0),
            (day(4), 99.0),
        ]),
    )]);
    let q = DecisionAction::Queued;
    let ds = [
        decision(1, Some(Side::Buy), q, &[]),  // +0.10: hit
        decision(2, Some(Side::Buy), q, &[]),  // −0.10: miss
        decision(3, Some(Side::Buy), q, &[]),  // 0: miss (not strictly positive)
        decision(2, Some(Side::Sell), q, &[]), // sell into −10 %: +0.10, hit
        decision(4, Some(Side::Buy), q, &[]),  // no later close: not counted
        decision(1, None, q, &[]),             // no side: not a pattern
    ];
    let evidence = evidence_by_pattern(&ds, &closes);
    assert_eq!(evidence.len(), 2);
    let buy = evidence
        .iter()
        .find(|(p, _)| p.side == Side::Buy)
        .unwrap()
        .1;
    assert_eq!(buy.count, 3);
    assert!((buy.precision - 1.0 / 3.0).abs() < 1e-12);
    // Returns 0.10, −0.10, 0: mean 0, sample variance (0.01 + 0.01 + 0) / 2 = 0.01 → 0.1.
    assert!((buy.std_dev.unwrap() - 0.1).abs() < 1e-12);
    let sell = evidence
        .iter()
        .find(|(p, _)| p.side == Side::Sell)
        .unwrap()
        .1;
    assert_eq!((sell.count, sell.precision, sell.std_dev), (1, 1.0, None));
}

#[test]
fn mining_keeps_patterns_over_every_threshold_and_not_yet_covered() {
    let pattern = |s: &str| RulePattern {
        symbol: sym(s),
        side: Side::Buy,
        ensemble_id: Uuid::nil(),
        regime: Some(Regime::Bull),
    };
    let e = |count, precision, std_dev| Evidence {
        count,
        precision,
        std_dev,
    };
    let evidence = BTreeMap::from([
        (pattern("BTCUSDT"), e(25, 0.7, Some(0.02))),  // passes
        (pattern("ETHUSDT"), e(19, 0.9, Some(0.01))),  // too few
        (pattern("SOLUSDT"), e(40, 0.55, Some(0.01))), // imprecise
        (pattern("BNBUSDT"), e(40, 0.8, Some(0.09))),  // too volatile
        (pattern("XRPUSDT"), e(40, 0.8, Some(0.01))),  // covered already
    ]);
    let current = RulesVersion {
        id: Uuid::nil(),
        version: 1,
        parent_version: None,
        rules: vec![alphapulse_domain::ports::Rule {
            candidate_id: Uuid::nil(),
            pattern: pattern("XRPUSDT"),
            evidence: e(40, 0.8, Some(0.01)),
            accepted_by: None,
            accepted_at: at(1),
        }],
        change: alphapulse_domain::ports::RulesChange::Accept,
        candidate_id: Some(Uuid::nil()),
        rolled_back_to: None,
        created_by: None,
        created_at: at(1),
    };
    let mined = mine(evidence, &MiningThresholds::default(), Some(&current));
    assert_eq!(mined.len(), 1);
    assert_eq!(mined[0].pattern.symbol, sym("BTCUSDT"));
}

#[test]
fn a_dry_run_releases_the_decisions_blocked_only_by_the_missing_rule() {
    use DecisionAction as A;
    use DecisionReason as R;
    let buy = Some(Side::Buy);
    let mut other = decision(1, buy, A::Queued, &[R::NoRule]);
    other.symbol = sym("ETHUSDT");
    let ds = vec![
        decision(1, buy, A::Queued, &[R::NoRule]), // released
        decision(2, buy, A::Queued, &[R::NoRule]), // released
        decision(3, buy, A::Queued, &[R::BelowThreshold, R::NoRule]), // still below threshold
        decision(4, buy, A::Rejected, &[R::NoRule, R::RiskLimit]), // still rejected
        decision(5, buy, A::AutoExecuted, &[]),    // already automated
        other,                                     // another pattern
    ];
    let pattern = pattern_of(&ds[0]).unwrap();
    let run = dry_run(Uuid::nil(), &pattern, &ds);
    assert_eq!(run.decisions_considered, 6);
    // 1 of 6 automated before, 3 of 6 after.
    assert!((run.automation_rate_before - 1.0 / 6.0).abs() < 1e-12);
    assert!((run.automation_rate_after - 3.0 / 6.0).abs() < 1e-12);
    assert_eq!(run.affected_decisions, 2);
    assert_eq!(run.affected[0].created_at, at(2), "newest first");
    // First reasons before: no_rule ×4 (1, 2, 4, other), below_threshold ×1.
    // After: no_rule ×1 (other), below_threshold ×1, risk_limit ×1 (decision 4).
    let d = &run.reason_deltas;
    assert_eq!(
        (d["no_rule"].before, d["no_rule"].after, d["no_rule"].delta),
        (4, 1, -3)
    );
    assert_eq!(
        (d["below_threshold"].before, d["below_threshold"].after),
        (1, 1)
    );
    assert_eq!(
        (
            d["risk_limit"].before,
            d["risk_limit"].after,
            d["risk_limit"].delta
        ),
        (0, 1, 1)
    );
}

#[test]
fn a_dry_run_of_another_tenants_candidate_is_not_found_and_writes_nothing() {
    let tenant = TenantId::new_random();
    let mut rules = MockRulesRepo::new();
    rules
        .expect_candidate()
        .returning(|_, _| Err(alphapulse_domain::RepoError::NotFound("rule candidate")));
    // No expectation on upsert_candidates, review or rollback: calling one would panic.
    let service = RulesService::new(
        Access::new(Arc::new(MockTenantRepo::new())),
        Arc::new(rules),
        Arc::new(MockDecisionRepo::new()),
        Arc::new(MockMarketDataRepo::new()),
        Arc::new(SystemClock),
        MiningThresholds::default(),
    );
    let admin = Principal {
        tenant_id: tenant,
        user_id: UserId::new_random(),
        role: Role::Admin,
        request_id: None,
        client_request_id: None,
    };
    let err = service.dry_run(&admin, None, Uuid::new_v4()).unwrap_err();
    assert!(matches!(
        err,
        ConsoleError::Repo(alphapulse_domain::RepoError::NotFound(_))
    ));
}
