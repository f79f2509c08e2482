//! Row-level security, proven against real PostgreSQL: for every table with a `tenant_id`,
//! tenant A (through `TenantScope`) cannot see, insert, update or delete tenant B's rows; no
//! tenant context means no rows; `PlatformScope` sees everything; and the catalog shows every
//! such table under forced RLS with the fail-closed policies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::{ports::Actor, TenantId, UserId};
use alphapulse_persistence::{testing::TestDb, Db, Error};
use diesel::{
    sql_query,
    sql_types::{BigInt, Bool, Text, Uuid as SqlUuid},
    Connection, PgConnection, QueryableByName, RunQueryDsl,
};
use uuid::Uuid;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Tables whose rows must never cross tenants, with an INSERT for one row of tenant `$1`
/// (`$2` is a user of that tenant). Append-only tables have no UPDATE/DELETE grant at all.
const FIXTURES: &[(&str, &str, bool)] = &[
    ("users", "INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, 'x' || gen_random_uuid() || '@t.example', 'h', 'viewer')", false),
    ("user_tenants", "INSERT INTO user_tenants (tenant_id, user_id) VALUES ($1, $2)", false),
    ("orders", "INSERT INTO orders (tenant_id, client_order_id, symbol, market, side, order_type, quantity) VALUES ($1, gen_random_uuid()::text, 'BTCUSDT', 'spot', 'buy', 'market', 1.5)", false),
    ("trades", "INSERT INTO trades (tenant_id, symbol, market, side, quantity, price) VALUES ($1, 'BTCUSDT', 'spot', 'buy', 1, 50000)", false),
    ("positions", "INSERT INTO positions (tenant_id, symbol, market, quantity, entry_price) VALUES ($1, 'S' || left(gen_random_uuid()::text, 8), 'spot', 1, 10)", false),
    ("portfolio_snapshots", "INSERT INTO portfolio_snapshots (tenant_id, total_value, cash, positions_value) VALUES ($1, 100, 50, 50)", false),
    ("risk_metrics", "INSERT INTO risk_metrics (tenant_id, metric, value) VALUES ($1, 'var_95', 0.05)", false),
    ("agent_signals", "INSERT INTO agent_signals (tenant_id, agent_id, agent_type, symbol, signal, confidence) VALUES ($1, 'a1', 'technical', 'BTCUSDT', 0.5, 0.9)", false),
    ("exchange_accounts", "INSERT INTO exchange_accounts (tenant_id, adapter, active) VALUES ($1, 'paper', false)", false),
    ("regime_configs", "INSERT INTO regime_configs (tenant_id, universe) SELECT $1, '[{\"symbol\":\"BTCUSDT\",\"weight\":1}]' WHERE NOT EXISTS (SELECT 1 FROM regime_configs WHERE tenant_id = $1)", false),
    ("regime_history", "INSERT INTO regime_history (tenant_id, day, regime, confidence) VALUES ($1, DATE '2020-01-01' + (random() * 3000)::int, 'bull', 0.9)", false),
    ("alerts", "INSERT INTO alerts (tenant_id, source, severity, title, message, dedup_key) VALUES ($1, 'risk', 'warning', 't', 'm', gen_random_uuid()::text)", false),
    ("idempotency_keys", "INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash) VALUES ($1, 'hedging.execute', gen_random_uuid()::text, repeat('a', 64))", false),
    ("tenant_risk_limits", "INSERT INTO tenant_risk_limits (tenant_id, max_position_weight, max_leverage, max_drawdown, target_volatility) SELECT $1, 0.2, 1.5, 0.25, 0.15 WHERE NOT EXISTS (SELECT 1 FROM tenant_risk_limits WHERE tenant_id = $1)", false),
    ("api_usage_daily", "INSERT INTO api_usage_daily (tenant_id, day, calls) VALUES ($1, current_date, 1) ON CONFLICT DO NOTHING", false),
    ("ensembles", "INSERT INTO ensembles (tenant_id, name, method, created_by) VALUES ($1, 'e', 'weighted_average', $2)", false),
    ("ensemble_agents", "WITH e AS (INSERT INTO ensembles (tenant_id, name, method) VALUES ($1, 'e', 'majority_vote') RETURNING tenant_id, id) INSERT INTO ensemble_agents (tenant_id, ensemble_id, agent_id, agent_type, weight) SELECT tenant_id, id, 'a1', 'technical', 1 FROM e", false),
    ("ensemble_predictions", "WITH e AS (INSERT INTO ensembles (tenant_id, name, method) VALUES ($1, 'e', 'weighted_average') RETURNING tenant_id, id) INSERT INTO ensemble_predictions (tenant_id, ensemble_id, symbol, inputs, prediction, confidence, contributions, weights_version) SELECT tenant_id, id, 'BTCUSDT', '[]', 0.5, 0.7, '[]', 0 FROM e", true),
    ("ensemble_weight_history", "WITH e AS (INSERT INTO ensembles (tenant_id, name, method) VALUES ($1, 'e', 'weighted_average') RETURNING tenant_id, id) INSERT INTO ensemble_weight_history (tenant_id, ensemble_id, version, method, weights) SELECT tenant_id, id, 1, 'equal', '{\"a1\": 1}' FROM e", true),
    ("risk_budgets", "INSERT INTO risk_budgets (tenant_id, version, allocation_method, total_budget, volatility_target, leverage_limit, created_by) VALUES ($1, 1 + (random() * 1000000)::int, 'equal_weight', 1000, 0.15, 1.5, $2)", true),
    ("risk_budget_allocations", "WITH b AS (INSERT INTO risk_budgets (tenant_id, version, allocation_method, total_budget, volatility_target, leverage_limit) VALUES ($1, 1 + (random() * 1000000)::int, 'equal_weight', 1000, 0.15, 1.5) RETURNING tenant_id, id) INSERT INTO risk_budget_allocations (tenant_id, budget_id, ordinal, entity, entity_type, allocated_amount) SELECT tenant_id, id, 0, 'spot', 'strategy', 500 FROM b", true),
    ("tenant_settings", "INSERT INTO tenant_settings (tenant_id, autopost_enabled, autopost_threshold, llm_tenant_cap_usd, updated_by) SELECT $1, true, 0.9, 100, $2 WHERE NOT EXISTS (SELECT 1 FROM tenant_settings WHERE tenant_id = $1)", false),
    ("decisions", "WITH e AS (INSERT INTO ensembles (tenant_id, name, method) VALUES ($1, 'e', 'weighted_average') RETURNING tenant_id, id) INSERT INTO decisions (tenant_id, id, ensemble_id, symbol, side, regime, prediction, raw_confidence, calibrated_p, calibrated, threshold_used, action, reasons, vendor_normalized, user_id) SELECT tenant_id, gen_random_uuid(), id, 'BTCUSDT', 'buy', 'bull', 0.5, 0.9, 0.9, false, 0.9, 'queued', '{no_rule}', 'paper:BTCUSDT', $2 FROM e", true),
    ("decision_audit_log", "INSERT INTO decision_audit_log (tenant_id, txn_id, vendor_normalized, action, not_auto_post_reason, calibrated_p, threshold_used, user_id) VALUES ($1, gen_random_uuid(), 'paper:BTCUSDT', 'queued', 'no_rule', 0.9, 0.9, $2)", true),
    ("rule_candidates", "WITH e AS (INSERT INTO ensembles (tenant_id, name, method) VALUES ($1, 'e', 'weighted_average') RETURNING tenant_id, id) INSERT INTO rule_candidates (tenant_id, symbol, side, ensemble_id, regime, evidence_count, evidence_precision, evidence_std_dev) SELECT tenant_id, 'BTCUSDT', 'buy', id, 'bull', 30, 0.7, 0.02 FROM e", false),
    ("rules_versions", "INSERT INTO rules_versions (tenant_id, version, rules, change, rolled_back_to, created_by) SELECT $1, coalesce(max(version), 0) + 1, '[]', 'rollback', 1, $2 FROM rules_versions WHERE tenant_id = $1", true),
    ("audit_log", "INSERT INTO audit_log (tenant_id, user_id, action, target, outcome) VALUES ($1, $2, 'test.insert', 'x', 'success')", true),
];

fn tables_with_tenant_id(conn: &mut PgConnection) -> Vec<String> {
    let mut names: Vec<String> = sql_query(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect();
    names.sort();
    names
}

struct World {
    _test_db: TestDb,
    db: Db,
    owner: PgConnection,
    a: (TenantId, UserId),
    b: (TenantId, UserId),
}

fn create_tenant(conn: &mut PgConnection, slug: &str) -> (TenantId, UserId) {
    #[derive(QueryableByName)]
    struct Ids {
        #[diesel(sql_type = SqlUuid)]
        t: Uuid,
        #[diesel(sql_type = SqlUuid)]
        u: Uuid,
    }
    let ids: Ids = sql_query(
        "WITH t AS (INSERT INTO tenants (name, slug, subscription_tier) VALUES ($1, $1, 'pro') RETURNING id) \
         , u AS (INSERT INTO users (tenant_id, email, password_hash, role) SELECT id, $1 || '@example.com', 'h', 'admin' FROM t RETURNING id, tenant_id) \
         SELECT tenant_id AS t, id AS u FROM u",
    )
    .bind::<Text, _>(slug)
    .get_result(conn)
    .unwrap();
    (TenantId(ids.t), UserId(ids.u))
}

fn world() -> World {
    let mut test_db = TestDb::new();
    let db = test_db.db();
    let mut owner = test_db.connection();
    let a = create_tenant(&mut owner, "tenant-a");
    let b = create_tenant(&mut owner, "tenant-b");
    // One row per table per tenant, written as the owner (bypasses nothing: FORCE RLS applies
    // to the owner too, so go through the platform role).
    for (table, insert, _) in FIXTURES {
        for (t, u) in [a, b] {
            db.platform()
                .run(|c| {
                    sql_query(*insert)
                        .bind::<SqlUuid, _>(t.as_uuid())
                        .bind::<SqlUuid, _>(u.as_uuid())
                        .execute(c)
                        .map_err(Error::from)
                })
                .unwrap_or_else(|e| panic!("fixture for {table}: {e}"));
        }
    }
    World {
        _test_db: test_db,
        db,
        owner,
        a,
        b,
    }
}

fn count_in(c: &mut PgConnection, table: &str, filter: &str) -> i64 {
    sql_query(format!("SELECT count(*) AS n FROM {table} {filter}"))
        .get_result::<Count>(c)
        .unwrap()
        .n
}

#[test]
fn every_table_with_tenant_id_has_a_fixture_here() {
    let mut w = world();
    let mut expected: Vec<String> = FIXTURES.iter().map(|(t, _, _)| (*t).to_owned()).collect();
    expected.sort();
    assert_eq!(
        tables_with_tenant_id(&mut w.owner),
        expected,
        "a table with tenant_id must be added to FIXTURES so the RLS matrix covers it"
    );
}

#[test]
fn catalog_shows_forced_fail_closed_rls_on_every_tenant_table() {
    let mut w = world();
    let tables = tables_with_tenant_id(&mut w.owner);
    assert!(tables.len() >= 9, "{tables:?}");
    for table in tables {
        #[derive(QueryableByName)]
        struct Flags {
            #[diesel(sql_type = Bool)]
            enabled: bool,
            #[diesel(sql_type = Bool)]
            forced: bool,
        }
        let flags: Flags = sql_query(
            "SELECT relrowsecurity AS enabled, relforcerowsecurity AS forced FROM pg_class \
             WHERE oid = $1::regclass",
        )
        .bind::<Text, _>(&table)
        .get_result(&mut w.owner)
        .unwrap();
        assert!(
            flags.enabled && flags.forced,
            "{table}: RLS enabled={} forced={}",
            flags.enabled,
            flags.forced
        );

        #[derive(QueryableByName)]
        struct Policy {
            #[diesel(sql_type = Text)]
            cmd: String,
            #[diesel(sql_type = Text)]
            using_expr: String,
            #[diesel(sql_type = Text)]
            check_expr: String,
        }
        let policies: Vec<Policy> = sql_query(
            "SELECT cmd, coalesce(qual, '') AS using_expr, coalesce(with_check, '') AS check_expr \
             FROM pg_policies WHERE schemaname = 'public' AND tablename = $1",
        )
        .bind::<Text, _>(&table)
        .load(&mut w.owner)
        .unwrap();
        // Without a sub-query: Citus refuses policies with one, on both engines the same.
        let fail_closed = |e: &str| {
            e.contains("tenant_id =")
                && e.contains(
                    "NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text)",
                )
                && !e.contains("SELECT")
        };
        for cmd in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            let covering: Vec<&Policy> = policies
                .iter()
                .filter(|p| p.cmd == cmd || p.cmd == "ALL")
                .collect();
            assert!(!covering.is_empty(), "{table}: no {cmd} policy");
            for p in covering {
                match cmd {
                    "INSERT" => assert!(
                        fail_closed(&p.check_expr),
                        "{table} {cmd}: {}",
                        p.check_expr
                    ),
                    "UPDATE" => assert!(
                        fail_closed(&p.using_expr) && fail_closed(&p.check_expr),
                        "{table} {cmd}: {} / {}",
                        p.using_expr,
                        p.check_expr
                    ),
                    _ => assert!(
                        fail_closed(&p.using_expr),
                        "{table} {cmd}: {}",
                        p.using_expr
                    ),
                }
            }
        }
    }
}

#[test]
fn tenant_a_cannot_touch_tenant_b_rows_in_any_table() {
    let w = world();
    let (a, ua) = w.a;
    let (b, ub) = w.b;
    let scope = w.db.tenant(Actor::user(a, ua));
    for (table, insert, append_only) in FIXTURES {
        let b_filter = format!("WHERE tenant_id = '{b}'");
        // Reads: only A's row is visible, even when asking for B's explicitly.
        let (all, of_b) = scope
            .run(|c| Ok::<_, Error>((count_in(c, table, ""), count_in(c, table, &b_filter))))
            .unwrap();
        assert!(all >= 1, "{table}: A sees none of its own rows");
        assert_eq!(of_b, 0, "{table}: A sees B's rows");

        // Insert with B's tenant_id: rejected by the WITH CHECK policy.
        let inserted = scope.run(|c| {
            sql_query(*insert)
                .bind::<SqlUuid, _>(b.as_uuid())
                .bind::<SqlUuid, _>(ub.as_uuid())
                .execute(c)
                .map_err(Error::from)
        });
        let err = inserted
            .expect_err(&format!("{table}: A inserted a row for B"))
            .to_string();
        assert!(err.contains("row-level security"), "{table}: {err}");

        // Update and delete of B's rows: no row touched (or no grant at all).
        for stmt in [
            format!("UPDATE {table} SET tenant_id = tenant_id {b_filter}"),
            format!("DELETE FROM {table} {b_filter}"),
        ] {
            let result = scope.run(|c| sql_query(&stmt).execute(c).map_err(Error::from));
            match (append_only, result) {
                (false, Ok(n)) => assert_eq!(n, 0, "{table}: `{stmt}` touched B's rows"),
                (true, Err(e)) => {
                    assert!(e.to_string().contains("permission denied"), "{table}: {e}")
                }
                (_, other) => panic!("{table}: `{stmt}` gave {other:?}"),
            }
        }
        if !append_only {
            // Moving A's own row to B is refused by the UPDATE WITH CHECK.
            let moved = scope.run(|c| {
                sql_query(format!("UPDATE {table} SET tenant_id = '{b}'"))
                    .execute(c)
                    .map_err(Error::from)
            });
            let msg = moved
                .expect_err(&format!("{table}: moved a row to B"))
                .to_string();
            // Citus refuses any change of a distributed table's distribution column before
            // the policy is even evaluated: refused all the same.
            let citus_refusal = w._test_db.is_citus()
                && msg.contains("modifying the partition value of rows is not allowed");
            assert!(
                msg.contains("row-level security") || citus_refusal,
                "{table}: {msg}"
            );
        }
    }
    // B's rows are all still there.
    let mut owner_view =
        w.db.platform()
            .run(|c| {
                Ok::<_, Error>(
                    FIXTURES
                        .iter()
                        .map(|(t, _, _)| count_in(c, t, &format!("WHERE tenant_id = '{b}'")))
                        .collect::<Vec<_>>(),
                )
            })
            .unwrap();
    owner_view.retain(|n| *n < 1);
    assert!(owner_view.is_empty(), "B lost rows");
}

#[test]
fn no_tenant_context_sees_no_rows_and_raises_no_error() {
    let mut w = world();
    for (table, _, _) in FIXTURES {
        for setup in [
            "SET LOCAL ROLE alphapulse_tenant",
            "SET LOCAL ROLE alphapulse_tenant; SET LOCAL app.current_tenant_id = ''",
            // After a SET LOCAL in an earlier transaction the setting exists but reads ''.
            "SET LOCAL ROLE alphapulse_tenant; SELECT set_config('app.current_tenant_id', '', true)",
        ] {
            let n = w
                .owner
                .transaction::<_, diesel::result::Error, _>(|c| {
                    diesel::connection::SimpleConnection::batch_execute(c, setup)?;
                    Ok(count_in(c, table, ""))
                })
                .unwrap_or_else(|e| panic!("{table} with `{setup}`: {e}"));
            assert_eq!(n, 0, "{table} visible without a tenant (`{setup}`)");
        }
    }
}

#[test]
fn platform_scope_sees_every_tenant() {
    let w = world();
    let (a, _) = w.a;
    let (b, _) = w.b;
    for (table, _, _) in FIXTURES {
        let (of_a, of_b) =
            w.db.platform()
                .run(|c| {
                    Ok::<_, Error>((
                        count_in(c, table, &format!("WHERE tenant_id = '{a}'")),
                        count_in(c, table, &format!("WHERE tenant_id = '{b}'")),
                    ))
                })
                .unwrap();
        assert!(
            of_a >= 1 && of_b >= 1,
            "{table}: platform saw A={of_a} B={of_b}"
        );
    }
}

#[test]
fn a_pooled_connection_never_carries_one_tenants_context_into_the_next() {
    let mut test_db = TestDb::new();
    let mut owner = test_db.connection();
    let a = create_tenant(&mut owner, "pool-a");
    let b = create_tenant(&mut owner, "pool-b");
    let _ = test_db.db();
    // Exactly one connection: every scope below reuses the same backend.
    let db = test_db.pool_of(1);

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Ctx {
        #[diesel(sql_type = Text)]
        tenant: String,
        #[diesel(sql_type = Text)]
        role: String,
        #[diesel(sql_type = BigInt)]
        pid: i64,
        #[diesel(sql_type = BigInt)]
        users: i64,
    }
    let ctx_sql = "SELECT coalesce(current_setting('app.current_tenant_id', true), '') AS tenant, \
                   current_user::text AS role, pg_backend_pid()::bigint AS pid, \
                   (SELECT count(*) FROM users) AS users";
    let in_a: Ctx = db
        .tenant(Actor::user(a.0, a.1))
        .run(|c| sql_query(ctx_sql).get_result(c).map_err(Error::from))
        .unwrap();
    let in_b: Ctx = db
        .tenant(Actor::user(b.0, b.1))
        .run(|c| sql_query(ctx_sql).get_result(c).map_err(Error::from))
        .unwrap();
    assert_eq!(in_a.pid, in_b.pid, "not the same pooled connection");
    assert_eq!(in_a.tenant, a.0.to_string());
    assert_eq!(in_b.tenant, b.0.to_string());
    assert_eq!(
        (in_a.role.as_str(), in_b.role.as_str()),
        ("alphapulse_tenant", "alphapulse_tenant")
    );
    assert_eq!((in_a.users, in_b.users), (1, 1));

    // A failed scope (rolled back) leaves nothing behind either.
    let failed: Result<(), Error> = db.tenant(Actor::user(a.0, a.1)).run(|c| {
        sql_query("SELECT 1/0").execute(c)?;
        Ok(())
    });
    assert!(
        matches!(&failed, Err(Error::Database(e)) if e.to_string().contains("division by zero")),
        "{failed:?}"
    );
    let mut raw = db.owner_connection().unwrap();
    let after: Ctx = sql_query(ctx_sql).get_result(&mut *raw).unwrap();
    assert_eq!(after.pid, in_a.pid);
    assert_eq!(
        after.tenant, "",
        "tenant setting leaked out of the transaction"
    );
    assert_ne!(
        after.role, "alphapulse_tenant",
        "role leaked out of the transaction"
    );
    assert_eq!(
        after.users, 2,
        "the owner sees both tenants' users outside a scope? {after:?}"
    );
}

/// The async read path (`AsyncReads`): the query leaves in the same write as the context
/// batch, so these check that it still runs after it, inside the transaction, on a new
/// connection (whose statement is prepared first: an extra round trip) and on a reused one,
/// and that nothing stays behind on the connection.
#[test]
fn async_reads_run_inside_the_tenant_transaction_and_leave_nothing_behind() {
    use futures_util::{future::BoxFuture, FutureExt as _, TryFutureExt as _};

    #[derive(Debug, PartialEq)]
    struct Ctx {
        tenant: String,
        role: String,
        read_only: String,
        pid: i64,
        users: i64,
    }
    // A DSL statement (cached per connection, so from the second read on it leaves without a
    // prepare round trip in front of it), in one text column.
    const CTX: &str =
        "concat_ws('|', coalesce(current_setting('app.current_tenant_id', true), ''), \
                       current_user, current_setting('transaction_read_only'), pg_backend_pid(), \
                       (SELECT count(*) FROM users))";
    fn parse(row: &str) -> Ctx {
        let f: Vec<&str> = row.split('|').collect();
        Ctx {
            tenant: f[0].to_owned(),
            role: f[1].to_owned(),
            read_only: f[2].to_owned(),
            pid: f[3].parse().unwrap(),
            users: f[4].parse().unwrap(),
        }
    }

    let mut test_db = TestDb::new();
    let mut owner = test_db.connection();
    let a = create_tenant(&mut owner, "async-a");
    let b = create_tenant(&mut owner, "async-b");
    let _ = test_db.db();
    // One async connection: every read below reuses the same backend.
    let reads = test_db.pool_of(1).async_reads().unwrap();
    let runtime = crate::common::runtime();
    let ctx = |actor: Actor| {
        let reads = reads.clone();
        async move {
            reads
                .tenant(actor)
                .run(|conn| {
                    let mut conn = conn;
                    diesel_async::RunQueryDsl::get_result::<String>(
                        diesel::select(diesel::dsl::sql::<Text>(CTX)),
                        &mut conn,
                    )
                    .boxed()
                })
                .await
                .map(|row| parse(&row))
        }
    };
    let (in_a, in_b, again_a) = runtime.block_on(async {
        (
            ctx(Actor::user(a.0, a.1)).await.unwrap(), // new connection: prepared first
            ctx(Actor::user(b.0, b.1)).await.unwrap(), // cached statement
            ctx(Actor::user(a.0, a.1)).await.unwrap(),
        )
    });
    assert_eq!(in_a.pid, in_b.pid, "not the same pooled connection");
    assert_eq!(in_a.tenant, a.0.to_string());
    assert_eq!(in_b.tenant, b.0.to_string());
    assert_eq!(again_a, in_a);
    for c in [&in_a, &in_b] {
        assert_eq!(c.role, "alphapulse_tenant", "{c:?}");
        assert_eq!(c.read_only, "on", "{c:?}");
        assert_eq!(c.users, 1, "RLS not in force: {c:?}");
    }

    // A DSL query diesel caches per connection: from the second read on it leaves at once,
    // right behind the context batch. Outside the transaction (as the owner, no tenant) it
    // would count both tenants' users.
    let count_users = |actor: Actor| {
        runtime
            .block_on(reads.tenant(actor).run(|conn| {
                let mut conn = conn;
                diesel_async::RunQueryDsl::get_result::<i64>(
                    diesel::QueryDsl::count(alphapulse_persistence::schema::users::table),
                    &mut conn,
                )
                .boxed()
            }))
            .unwrap()
    };
    for actor in [a, b, a, b].map(|(t, u)| Actor::user(t, u)) {
        assert_eq!(count_users(actor), 1, "users seen by {actor:?}");
    }

    // `load`: the first time on this connection in two round trips, from then on in one
    // (context, query and COMMIT in one write); the same answer, in the tenant's transaction
    // (after COMMIT the session floor would find no user, the owner both).
    diesel::define_sql_function!(fn current_setting(setting: Text, missing_ok: Bool) -> Text);
    let load_users = |actor: Actor| {
        use alphapulse_persistence::schema::users;
        // A query type with a static query id and bound values: diesel caches it.
        let query = diesel::QueryDsl::select(
            users::table,
            (
                users::tenant_id,
                current_setting("app.current_tenant_id".to_owned(), true),
                current_setting("transaction_read_only".to_owned(), false),
            ),
        );
        runtime
            .block_on(reads.tenant(actor).load::<_, (Uuid, String, String)>(query))
            .unwrap()
    };
    let (_, pipelined_before) = reads.counts();
    for (t, u) in [a, b, a, b, b] {
        assert_eq!(
            load_users(Actor::user(t, u)),
            vec![(t.as_uuid(), t.to_string(), "on".to_owned())],
            "read as {t}"
        );
    }
    let (_, pipelined_after) = reads.counts();
    // On Citus the settings need a message of their own after BEGIN's answer: no pipelining.
    let expected = if test_db.is_citus() { 0 } else { 4 };
    assert_eq!(
        pipelined_after - pipelined_before,
        expected,
        "every read after the first in one round trip (plain PostgreSQL)"
    );

    // Three statements in one transaction (load3): the context reaches all three, the first
    // time (prepared in the transaction) and once they are prepared (one write with the
    // context and COMMIT); with any of them outside the transaction it would find nothing.
    let load_three = |actor: Actor| {
        use alphapulse_persistence::schema::{tenants, users};
        runtime
            .block_on(
                reads
                    .tenant(actor)
                    .load3::<_, Uuid, _, Uuid, _, (String, String)>(
                        diesel::QueryDsl::select(users::table, users::tenant_id),
                        diesel::QueryDsl::select(tenants::table, tenants::id),
                        diesel::QueryDsl::select(
                            users::table,
                            (
                                current_setting("app.current_tenant_id".to_owned(), true),
                                current_setting("transaction_read_only".to_owned(), false),
                            ),
                        ),
                    ),
            )
            .unwrap()
    };
    let (_, pipelined_before) = reads.counts();
    for (t, u) in [a, b, a] {
        assert_eq!(
            load_three(Actor::user(t, u)),
            (
                vec![t.as_uuid()],
                vec![t.as_uuid()],
                vec![(t.to_string(), "on".to_owned())]
            ),
            "three statements as {t}"
        );
    }
    let expected = if test_db.is_citus() { 0 } else { 2 };
    assert_eq!(
        reads.counts().1 - pipelined_before,
        expected,
        "three statements in one round trip once prepared (plain PostgreSQL)"
    );

    // The floor under the ordering: a statement on these connections outside any read's
    // transaction runs as alphapulse_tenant with no tenant, and finds no row (the owner's
    // connections see both tenants' users there, see the test above).
    let (role, users) = runtime
        .block_on(reads.outside_any_scope(|conn| {
            let mut conn = conn;
            diesel_async::RunQueryDsl::get_result::<String>(
                diesel::select(diesel::dsl::sql::<Text>(
                    "current_user || '|' || (SELECT count(*) FROM users)",
                )),
                &mut conn,
            )
            .boxed()
        }))
        .unwrap()
        .split_once('|')
        .map(|(r, n)| (r.to_owned(), n.parse::<i64>().unwrap()))
        .unwrap();
    assert_eq!((role.as_str(), users), ("alphapulse_tenant", 0));

    // A failed read is rolled back and the connection serves the next tenant cleanly.
    let failed = runtime.block_on(reads.tenant(Actor::user(a.0, a.1)).run(|conn| {
        let mut conn = conn;
        diesel_async::RunQueryDsl::execute(sql_query("SELECT 1/0"), &mut conn).boxed()
    }));
    assert!(
        matches!(&failed, Err(Error::Database(e)) if e.to_string().contains("division by zero")),
        "{failed:?}"
    );
    // Writes are refused: the transaction is READ ONLY.
    let write = runtime.block_on(reads.tenant(Actor::user(a.0, a.1)).run(|conn| {
        let mut conn = conn;
        diesel_async::RunQueryDsl::execute(sql_query("UPDATE users SET role = role"), &mut conn)
            .boxed()
    }));
    assert!(
        matches!(&write, Err(e) if e.to_string().contains("read-only transaction")),
        "{write:?}"
    );
    let after_failures = runtime.block_on(ctx(Actor::user(b.0, b.1))).unwrap();
    assert_eq!(
        after_failures, in_b,
        "the reused connection after a failed read"
    );

    // Between reads the backend is idle, outside any transaction: the settings, being
    // transaction-local, are gone with it.
    #[derive(QueryableByName)]
    struct State {
        #[diesel(sql_type = Text)]
        state: String,
    }
    let state: State = sql_query("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind::<BigInt, _>(in_a.pid)
        .get_result(&mut owner)
        .unwrap();
    assert_eq!(state.state, "idle");

    // A read whose future is dropped half-way (a client that disconnects): its connection,
    // inside A's transaction, leaves the pool instead of serving the next read.
    let cut_off = |read: BoxFuture<'_, alphapulse_persistence::Result<()>>| {
        let outcome = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(50), read).await
        });
        assert!(
            outcome.is_err(),
            "the read should have been cut off: {outcome:?}"
        );
    };
    let before = runtime.block_on(ctx(Actor::user(a.0, a.1))).unwrap();
    cut_off(
        reads
            .tenant(Actor::user(a.0, a.1))
            .run(|conn| {
                let mut conn = conn;
                diesel_async::RunQueryDsl::execute(sql_query("SELECT pg_sleep(0.3)"), &mut conn)
                    .map_ok(drop)
                    .boxed()
            })
            .boxed(),
    );
    let next = runtime.block_on(ctx(Actor::user(b.0, b.1))).unwrap();
    assert_ne!(
        next.pid, before.pid,
        "the cut-off read's connection went back to the pool"
    );
    assert_eq!((next.tenant, next.users), (b.0.to_string(), 1));

    // The same for a one-round-trip read (context, query and COMMIT already sent when the
    // future is dropped).
    sql_query(
        "CREATE FUNCTION test_sleep(s float8) RETURNS text LANGUAGE sql \
         AS $$ SELECT pg_sleep(s)::text $$",
    )
    .execute(&mut owner)
    .unwrap();
    diesel::define_sql_function!(fn test_sleep(s: diesel::sql_types::Double) -> Text);
    let sleepy = |secs: f64| {
        use alphapulse_persistence::schema::users;
        let query = diesel::QueryDsl::select(users::table, (users::tenant_id, test_sleep(secs)));
        let reads = &reads;
        async move {
            reads
                .tenant(Actor::user(a.0, a.1))
                .load::<_, (Uuid, String)>(query)
                .await
        }
    };
    assert_eq!(runtime.block_on(sleepy(0.0)).unwrap().len(), 1);
    let (_, pipelined_before) = reads.counts();
    runtime.block_on(sleepy(0.0)).unwrap();
    // Now this connection takes this query in one round trip, as the cut-off read below.
    let expected = u64::from(!test_db.is_citus());
    assert_eq!(reads.counts().1 - pipelined_before, expected);
    cut_off(sleepy(0.3).map_ok(drop).boxed());
    let after_cut = runtime.block_on(ctx(Actor::user(b.0, b.1))).unwrap();
    assert_ne!(
        after_cut.pid, next.pid,
        "the cut-off one-round-trip read's connection went back to the pool"
    );
    assert_eq!((after_cut.tenant, after_cut.users), (b.0.to_string(), 1));
}

#[test]
fn audit_log_is_append_only_for_the_tenant_and_the_platform_role() {
    let mut w = world();
    let (a, ua) = w.a;
    let rows_before = count_in(&mut w.owner, "audit_log", "");
    assert!(
        rows_before >= 2,
        "the fixtures wrote A's and B's audit rows"
    );
    for role in ["alphapulse_tenant", "alphapulse_platform"] {
        // The scope runs as the role it is named for.
        let current = in_scope(&w, role, "SELECT current_user::text AS name").unwrap();
        assert_eq!(current, role);
        // Appending is allowed ...
        let inserted = in_scope(
            &w,
            role,
            &format!(
                "INSERT INTO audit_log (tenant_id, user_id, action, target, outcome) \
                 VALUES ('{a}', '{ua}', 'test.append', 'x', 'success')"
            ),
        );
        assert_eq!(inserted.unwrap(), "1", "{role} appends a row");
        // ... rewriting and deleting are not, not even of the scope's own tenant's rows.
        for stmt in [
            format!("UPDATE audit_log SET action = 'rewritten' WHERE tenant_id = '{a}'"),
            format!("DELETE FROM audit_log WHERE tenant_id = '{a}'"),
            "TRUNCATE audit_log".to_owned(),
        ] {
            match in_scope(&w, role, &stmt) {
                Err(Error::Database(e)) => assert!(
                    e.to_string()
                        .contains("permission denied for table audit_log"),
                    "{role}: `{stmt}` failed for another reason: {e}"
                ),
                other => panic!("{role}: `{stmt}` gave {other:?}"),
            }
        }
    }
    assert_eq!(
        count_in(&mut w.owner, "audit_log", ""),
        rows_before + 2,
        "only the two appended rows changed the log"
    );
    assert_eq!(
        count_in(&mut w.owner, "audit_log", "WHERE action = 'rewritten'"),
        0
    );
}

/// Runs `sql` in the scope of `role` (A's tenant scope, or the platform scope): the `name`
/// column of a `SELECT`, else the statement's row count as text.
fn in_scope(w: &World, role: &str, sql: &str) -> Result<String, Error> {
    let run = |c: &mut PgConnection| -> Result<String, Error> {
        if sql.starts_with("SELECT") {
            Ok(sql_query(sql).get_result::<Name>(c)?.name)
        } else {
            Ok(sql_query(sql).execute(c)?.to_string())
        }
    };
    match role {
        "alphapulse_tenant" => w.db.tenant(Actor::user(w.a.0, w.a.1)).run(run),
        "alphapulse_platform" => w.db.platform().run(run),
        other => panic!("no scope runs as {other}"),
    }
}

/// The tables Citus holds whole on every node (reference tables) rather than sharded.
const REFERENCE_TABLES: &[&str] = &["market_candles", "tenants", "users"];

#[derive(QueryableByName, Debug)]
struct Placement {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = BigInt)]
    colocation: i64,
}

/// On Citus (`ALPHAPULSE_TEST_CITUS=1`): every table with a tenant_id is distributed by
/// tenant_id in one co-location group, or is one of the reference tables; every shard
/// placement has RLS enabled and forced and the table's policies. On plain PostgreSQL: the
/// same migrations left every table a plain table (no Citus catalog at all).
#[test]
fn on_citus_every_tenant_table_is_distributed_by_tenant_id_with_its_policies_on_every_shard() {
    let mut w = world();
    let citus = w._test_db.is_citus();
    #[derive(QueryableByName)]
    struct Present {
        #[diesel(sql_type = Bool)]
        present: bool,
    }
    let present =
        sql_query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS present")
            .get_result::<Present>(&mut w.owner)
            .unwrap()
            .present;
    assert_eq!(present, citus, "citus extension present={present}");
    if !citus {
        return;
    }
    let placement = |c: &mut PgConnection, table: &str| -> Placement {
        sql_query(
            "SELECT CASE WHEN repmodel = 't' THEN 'reference' WHEN partmethod = 'h' THEN \
             'distributed' ELSE 'local' END AS kind, \
             coalesce(column_to_column_name(logicalrelid, partkey), '') AS column, \
             colocationid::bigint AS colocation \
             FROM pg_dist_partition WHERE logicalrelid = $1::regclass",
        )
        .bind::<Text, _>(table)
        .get_result(c)
        .unwrap_or_else(|e| panic!("{table} is not a Citus table: {e}"))
    };
    let anchor = placement(&mut w.owner, "orders");
    assert_eq!(anchor.kind, "distributed");
    let mut tables = tables_with_tenant_id(&mut w.owner);
    tables.extend(["tenants".to_owned(), "market_candles".to_owned()]);
    for table in &tables {
        let p = placement(&mut w.owner, table);
        if REFERENCE_TABLES.contains(&table.as_str()) {
            assert_eq!(p.kind, "reference", "{table}: {p:?}");
        } else {
            assert_eq!(
                (p.kind.as_str(), p.column.as_str(), p.colocation),
                ("distributed", "tenant_id", anchor.colocation),
                "{table} is not distributed by tenant_id, co-located with orders"
            );
        }
        #[derive(QueryableByName)]
        struct Shard {
            #[diesel(sql_type = Bool)]
            success: bool,
            #[diesel(sql_type = Text)]
            result: String,
        }
        // Every placement of every shard, on whichever node holds it.
        let shards: Vec<Shard> = sql_query(format!(
            "SELECT success, result FROM run_command_on_placements('{table}', $$\
             SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text \
             || '/' || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
             FROM pg_class c WHERE c.oid = '%s'::regclass$$)"
        ))
        .load(&mut w.owner)
        .unwrap();
        let policies = if table == "tenants" {
            1
        } else if table == "market_candles" {
            0
        } else {
            4
        };
        let expected = if table == "market_candles" {
            "false/0".to_owned()
        } else {
            format!("true/{policies}")
        };
        assert!(!shards.is_empty(), "{table}: no shard placements");
        if p.kind == "distributed" {
            assert!(shards.len() >= 4, "{table}: {} placements", shards.len());
        }
        for shard in shards {
            assert!(
                shard.success && shard.result == expected,
                "{table}: a shard placement has {} (want RLS enabled+forced / policies = {expected})",
                shard.result
            );
        }
    }
}
