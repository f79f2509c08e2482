//! `PgEnsembleRepo` against real PostgreSQL: creation and listing, registration with
//! renormalised, versioned weights, predictions with their signals and audit rows in one
//! transaction, optimistic weight updates, and tenant isolation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{
        Actor, AgentRegistration, AuditRepo, EnsembleMethod, EnsembleRepo, NewEnsemble,
        NewPrediction, SignalInput, TenantRepo, UserRepo, WeightSource, WeightUpdate,
    },
    AuditOutcome, Email, NewAuditEntry, NewTenant, NewUser, PageRequest, RepoError, Role, Slug,
    SubscriptionTier, Symbol, TenantId,
};
use alphapulse_persistence::{
    testing::TestDb, Error, PgAuditRepo, PgEnsembleRepo, PgTenantRepo, PgUserRepo,
};
use diesel::{sql_query, sql_types::BigInt, QueryableByName, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::common::note;

/// Fields drop in order: the pools before the database.
struct World {
    repo: PgEnsembleRepo,
    db: alphapulse_persistence::Db,
    a: Actor,
    b: Actor,
    _db: TestDb,
}

fn tenant_with_user(t: &mut TestDb, slug: &str) -> Actor {
    let tenant = PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: slug.to_owned(),
                slug: Slug::parse(slug).unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: Some(5),
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap()
        .id;
    let user = PgUserRepo::new(t.db())
        .create(
            &Actor::system(tenant),
            NewUser {
                tenant_id: tenant,
                email: Email::parse(&format!("trader@{slug}.example")).unwrap(),
                password_hash: "h".to_owned(),
                role: Role::Trader,
            },
            5,
            &note("test.write"),
        )
        .unwrap()
        .id;
    Actor::user(tenant, user)
}

fn world() -> World {
    let mut t = TestDb::new();
    let a = tenant_with_user(&mut t, "ens-a");
    let b = tenant_with_user(&mut t, "ens-b");
    let db = t.db();
    World {
        repo: PgEnsembleRepo::new(db.clone()),
        db,
        _db: t,
        a,
        b,
    }
}

fn entry(actor: &Actor, action: &str) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: actor.tenant_id,
        user_id: actor.user_id,
        action: action.to_owned(),
        target: "ensemble:test".to_owned(),
        outcome: AuditOutcome::Success,
        request_id: None,
        details: json!({}),
    }
}

fn create(w: &World, actor: &Actor, name: &str) -> Uuid {
    let new = NewEnsemble {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        method: EnsembleMethod::WeightedAverage,
        config: json!({"horizon": "1d"}),
    };
    w.repo
        .create(actor, &new, &entry(actor, "ensemble.create"))
        .unwrap()
        .id
}

fn register(w: &World, actor: &Actor, id: Uuid, agent: &str, weight: f64) -> BTreeMap<String, f64> {
    w.repo
        .register_agent(
            actor,
            id,
            &AgentRegistration {
                agent_id: agent.to_owned(),
                agent_type: "technical".to_owned(),
            },
            weight,
            &entry(actor, "ensemble.register_agent"),
        )
        .unwrap()
        .weights
}

fn count(w: &World, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    w.db.platform()
        .run(|c| sql_query(sql).get_result::<N>(c).map_err(Error::from))
        .unwrap()
        .n
}

fn audit_actions(w: &World, tenant: TenantId) -> Vec<String> {
    PgAuditRepo::new(w.db.clone())
        .list(&Actor::system(tenant), &PageRequest::default())
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn registration_renormalises_weights_as_new_versions() {
    let w = world();
    let id = create(&w, &w.a, "core");
    assert_eq!(w.repo.get(&w.a, id).unwrap().weights_version, 0);
    assert_eq!(register(&w, &w.a, id, "a", 1.0)["a"], 1.0);
    // Current weights scaled to average 1 (a: 1), b 1 → 0.5 / 0.5.
    let two = register(&w, &w.a, id, "b", 1.0);
    assert_eq!((two["a"], two["b"]), (0.5, 0.5));
    // a, b at 1 each, c at 2 → 0.25, 0.25, 0.5.
    let three = register(&w, &w.a, id, "c", 2.0);
    assert_eq!((three["a"], three["b"], three["c"]), (0.25, 0.25, 0.5));
    let (ensemble, agents) = w.repo.agents(&w.a, id).unwrap();
    assert_eq!((ensemble.weights_version, ensemble.agent_count), (3, 3));
    let stored: f64 = agents.iter().map(|a| a.weight).sum();
    assert!((stored - 1.0).abs() < 1e-12);
    assert_eq!(
        count(&w, &format!("SELECT count(*) AS n FROM ensemble_weight_history WHERE ensemble_id = '{id}' AND method = 'registration'")),
        3
    );

    // A duplicate is a conflict and changes nothing (version, agents, audit).
    let dup = w.repo.register_agent(
        &w.a,
        id,
        &AgentRegistration {
            agent_id: "a".into(),
            agent_type: "x".into(),
        },
        1.0,
        &entry(&w.a, "ensemble.register_agent"),
    );
    assert!(matches!(dup, Err(RepoError::Conflict(_))), "{dup:?}");
    assert_eq!(w.repo.get(&w.a, id).unwrap().weights_version, 3);
    let actions = audit_actions(&w, w.a.tenant_id);
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "ensemble.register_agent")
            .count(),
        3
    );
}

#[test]
fn predictions_store_inputs_signals_and_audit_together() {
    let w = world();
    let id = create(&w, &w.a, "core");
    register(&w, &w.a, id, "a", 1.0);
    let input = SignalInput {
        agent_id: "a".into(),
        agent_type: "technical".into(),
        signal: 0.4,
        confidence: 0.9,
    };
    let new = NewPrediction {
        id: Uuid::new_v4(),
        ensemble_id: id,
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        inputs: vec![input],
        prediction: 0.4,
        confidence: 0.9,
        contributions: vec![],
        weights_version: 1,
        price_at: Some("42000.5".parse().unwrap()),
    };
    let stored = w
        .repo
        .record_prediction(&w.a, &new, &entry(&w.a, "ensemble.predict"))
        .unwrap();
    assert_eq!(stored.price_at, new.price_at);
    let listed = w.repo.predictions(&w.a, id, 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].inputs, new.inputs);
    let signals = w.repo.recent_signals(&w.a, 10).unwrap();
    assert_eq!(signals.len(), 1);
    assert_eq!(
        (signals[0].agent_id.as_str(), signals[0].signal),
        ("a", 0.4)
    );
    assert!(audit_actions(&w, w.a.tenant_id).contains(&"ensemble.predict".to_owned()));

    // An audit row the database refuses (another tenant's id) rolls the prediction back.
    let mut bad = entry(&w.a, "ensemble.predict");
    bad.tenant_id = w.b.tenant_id;
    let again = NewPrediction {
        id: Uuid::new_v4(),
        ..new
    };
    // Refused by the audit_log WITH CHECK policy (row-level security), which the repository
    // reports as a storage failure.
    let refused = w.repo.record_prediction(&w.a, &again, &bad);
    assert!(
        matches!(&refused, Err(RepoError::Internal(m)) if m.contains("row-level security policy for table \"audit_log\"")),
        "{refused:?}"
    );
    assert_eq!(w.repo.predictions(&w.a, id, 10).unwrap().len(), 1);
    assert_eq!(w.repo.recent_signals(&w.a, 10).unwrap().len(), 1);
}

#[test]
fn weight_updates_are_versioned_and_optimistic() {
    let w = world();
    let id = create(&w, &w.a, "core");
    register(&w, &w.a, id, "a", 1.0);
    register(&w, &w.a, id, "b", 1.0);
    let update = |base: i32, weights: &[(&str, f64)]| WeightUpdate {
        base_version: base,
        source: WeightSource::Performance,
        weights: weights.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    };
    let audit = entry(&w.a, "ensemble.optimize_weights");
    let v = w
        .repo
        .set_weights(&w.a, id, &update(2, &[("a", 0.7), ("b", 0.3)]), &audit)
        .unwrap();
    assert_eq!(v, 3);
    let (_, agents) = w.repo.agents(&w.a, id).unwrap();
    assert_eq!((agents[0].weight, agents[1].weight), (0.7, 0.3));
    // Stale version, wrong agents: conflicts.
    assert!(matches!(
        w.repo
            .set_weights(&w.a, id, &update(2, &[("a", 0.5), ("b", 0.5)]), &audit),
        Err(RepoError::Conflict(_))
    ));
    assert!(matches!(
        w.repo
            .set_weights(&w.a, id, &update(3, &[("a", 1.0)]), &audit),
        Err(RepoError::Conflict(_))
    ));
    assert_eq!(w.repo.get(&w.a, id).unwrap().weights_version, 3);
    assert_eq!(
        count(&w, &format!("SELECT count(*) AS n FROM ensemble_weight_history WHERE ensemble_id = '{id}' AND version = 3 AND method = 'performance'")),
        1
    );
}

#[test]
fn another_tenants_ensemble_is_not_found_and_untouched() {
    let w = world();
    let theirs = create(&w, &w.b, "theirs");
    register(&w, &w.b, theirs, "x", 1.0);
    let a = w.a;
    let not_found = |r: Result<_, RepoError>| matches!(r, Err(RepoError::NotFound(_)));
    assert!(not_found(w.repo.get(&a, theirs).map(drop)));
    assert!(not_found(w.repo.agents(&a, theirs).map(drop)));
    assert!(not_found(w.repo.predictions(&a, theirs, 5).map(drop)));
    assert!(not_found(
        w.repo
            .register_agent(
                &a,
                theirs,
                &AgentRegistration {
                    agent_id: "y".into(),
                    agent_type: "t".into(),
                },
                1.0,
                &entry(&a, "ensemble.register_agent"),
            )
            .map(drop)
    ));
    let update = WeightUpdate {
        base_version: 1,
        source: WeightSource::Equal,
        weights: [("x".to_owned(), 1.0)].into(),
    };
    assert!(not_found(
        w.repo
            .set_weights(&a, theirs, &update, &entry(&a, "ensemble.optimize_weights"))
            .map(drop)
    ));
    assert!(w
        .repo
        .list(&a, &PageRequest::default())
        .unwrap()
        .items
        .is_empty());
    assert!(w.repo.tenant_agents(&a).unwrap().is_empty());
    let (ensemble, agents) = w.repo.agents(&w.b, theirs).unwrap();
    assert_eq!((ensemble.weights_version, agents.len()), (1, 1));
}

#[test]
fn list_pages_through_every_ensemble_with_agent_counts() {
    let w = world();
    let ids: Vec<Uuid> = (0..5).map(|i| create(&w, &w.a, &format!("e{i}"))).collect();
    register(&w, &w.a, ids[4], "a", 1.0);
    register(&w, &w.a, ids[4], "b", 1.0);
    register(&w, &w.a, ids[0], "a", 1.0);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = w
            .repo
            .list(&w.a, &PageRequest::new(Some(2), cursor).unwrap())
            .unwrap();
        seen.extend(page.items.iter().map(|e| (e.id, e.agent_count)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<(Uuid, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, [1, 0, 0, 0, 2][i]))
        .collect();
    expected.reverse();
    assert_eq!(seen.len(), 5);
    // Same timestamp within a test is possible: compare as sets, then the counts.
    let mut a = seen.clone();
    a.sort();
    let mut b = expected.clone();
    b.sort();
    assert_eq!(a, b);
    let agents = w.repo.tenant_agents(&w.a).unwrap();
    let a_agent = agents.iter().find(|t| t.agent_id == "a").unwrap();
    assert_eq!(a_agent.ensembles, 2);
}

/// JSON attributes are stored as `jsonb`, whose numbers are exact decimals: `f64::MAX` comes
/// back as a 309-digit integer, which must parse to the same `f64` (serde_json's
/// `float_roundtrip`; the approximate default parser overflowed to an error, a 500 on read).
#[test]
fn extreme_numbers_in_an_ensembles_config_read_back_as_written() {
    let w = world();
    let config =
        json!({"big": f64::MAX, "tiny": f64::MIN_POSITIVE, "neg": -1.310_907_445_871_422e183});
    let new = NewEnsemble {
        id: Uuid::new_v4(),
        name: "extremes".to_owned(),
        method: EnsembleMethod::WeightedAverage,
        config: config.clone(),
    };
    let id = w
        .repo
        .create(&w.a, &new, &entry(&w.a, "ensemble.create"))
        .unwrap()
        .id;
    assert_eq!(w.repo.get(&w.a, id).unwrap().config, config);
}
