//! Migrations: all up, all down, all up again with an identical schema; each migration in
//! order redone (down one, up one) with the schema compared before and after each step; and
//! `schema.rs` matches the migrated catalog. The schema compared includes privileges,
//! row-level security and policies, so GRANT/REVOKE drift between `up.sql` and `down.sql`
//! fails too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use alphapulse_persistence::{
    cluster::PgBinaries,
    migrations::{self, MIGRATIONS},
    schema,
    testing::TestDb,
};
use diesel::{
    debug_query, pg::Pg, sql_query, sql_types::Text, QueryDsl, QueryableByName, RunQueryDsl,
};
use diesel_migrations::MigrationHarness;

/// The schema of the database at `url`: `pg_dump --schema-only` with privileges (GRANT and
/// REVOKE lines; it has RLS flags and policies too), without the migrations bookkeeping.
fn dump(url: &str) -> String {
    let bins = PgBinaries::find(None).expect("PostgreSQL binaries");
    let out = Command::new(bins.dir().join("pg_dump"))
        .args([
            "--schema-only",
            "--no-owner",
            "--exclude-table=__diesel_schema_migrations",
        ])
        .arg(url)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `\restrict <random key>` lines differ on every dump by design: drop them.
    String::from_utf8(out.stdout)
        .expect("utf-8 dump")
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_same_schema(before: &str, after: &str, step: &str) {
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let only_before: Vec<&&str> = b.iter().filter(|l| !a.contains(l)).take(10).collect();
    let only_after: Vec<&&str> = a.iter().filter(|l| !b.contains(l)).take(10).collect();
    assert!(
        before == after,
        "{step}: schema differs: only before {only_before:?}; only after {only_after:?}"
    );
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn user_tables(conn: &mut diesel::PgConnection) -> Vec<String> {
    sql_query(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

#[test]
fn all_up_all_down_all_up_gives_the_same_schema() {
    let db = TestDb::empty();
    let mut conn = db.connection();
    let applied = migrations::run_pending(&mut conn).unwrap();
    assert!(applied.len() >= 3, "{applied:?}");
    let first = dump(db.url());
    assert!(
        first.contains("CREATE TABLE public.tenants"),
        "dump lacks tenants"
    );
    for part in [
        "ENABLE ROW LEVEL SECURITY",
        "FORCE ROW LEVEL SECURITY",
        "CREATE POLICY",
        "GRANT SELECT,INSERT ON TABLE public.audit_log TO alphapulse_tenant",
        "GRANT USAGE ON SCHEMA public TO alphapulse_tenant",
    ] {
        assert!(first.contains(part), "the dump lacks {part:?}");
    }

    let reverted = migrations::revert_all(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert_eq!(
        user_tables(&mut conn),
        Vec::<String>::new(),
        "down left tables behind"
    );
    assert!(migrations::status(&mut conn)
        .unwrap()
        .iter()
        .all(|m| !m.applied));

    migrations::run_pending(&mut conn).unwrap();
    assert_same_schema(&first, &dump(db.url()), "all up again");
    assert!(migrations::status(&mut conn)
        .unwrap()
        .iter()
        .all(|m| m.applied));
}

#[test]
fn each_migration_redoes_cleanly_one_step_at_a_time() {
    let db = TestDb::empty();
    let mut conn = db.connection();
    let all = migrations::status(&mut conn).unwrap();
    assert!(all.len() >= 3 && all.iter().all(|m| !m.applied), "{all:?}");
    // For every migration in order: up, down (the schema is the one before it), up again
    // (the schema is the one after its first up).
    let mut before = dump(db.url());
    for m in &all {
        let up = conn
            .run_next_migration(MIGRATIONS)
            .unwrap_or_else(|e| panic!("{}: up: {e}", m.name));
        assert_eq!(up.to_string(), m.version, "applied out of order");
        let after = dump(db.url());
        let reverted =
            migrations::revert_last(&mut conn).unwrap_or_else(|e| panic!("{}: down: {e}", m.name));
        assert_eq!(reverted.as_deref(), Some(m.version.as_str()));
        assert_same_schema(&before, &dump(db.url()), &format!("{} down", m.name));
        conn.run_next_migration(MIGRATIONS)
            .unwrap_or_else(|e| panic!("{}: up again: {e}", m.name));
        assert_same_schema(&after, &dump(db.url()), &format!("{} up again", m.name));
        before = after;
    }
    assert!(migrations::status(&mut conn)
        .unwrap()
        .iter()
        .all(|m| m.applied));
}

fn column_names(sql: &str) -> Vec<String> {
    let select = sql.split(" FROM ").next().unwrap_or_default();
    select
        .trim_start_matches("SELECT ")
        .split(", ")
        .map(|col| {
            col.rsplit('.')
                .next()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

macro_rules! columns_of {
    ($($table:ident)::+) => {
        column_names(
            &debug_query::<Pg, _>(
                &schema::$($table)::+::table.select(schema::$($table)::+::all_columns),
            )
            .to_string(),
        )
    };
}

#[test]
fn schema_rs_matches_the_migrated_catalog() {
    let db = TestDb::new();
    let mut conn = db.connection();
    let declared: Vec<(&str, Vec<String>)> = vec![
        ("tenants", columns_of!(tenants)),
        ("users", columns_of!(users)),
        ("user_tenants", columns_of!(user_tenants)),
        ("orders", columns_of!(orders)),
        ("trades", columns_of!(trades)),
        ("positions", columns_of!(positions)),
        ("portfolio_snapshots", columns_of!(portfolio_snapshots)),
        ("risk_metrics", columns_of!(risk_metrics)),
        ("agent_signals", columns_of!(agent_signals)),
        ("audit_log", columns_of!(audit_log)),
        ("exchange_accounts", columns_of!(exchange_accounts)),
        ("market_candles", columns_of!(market_candles)),
        ("regime_configs", columns_of!(regime_configs)),
        ("regime_history", columns_of!(regime_history)),
        ("alerts", columns_of!(alerts)),
        ("idempotency_keys", columns_of!(idempotency_keys)),
        ("tenant_risk_limits", columns_of!(tenant_risk_limits)),
        ("api_usage_daily", columns_of!(api_usage_daily)),
        ("ensembles", columns_of!(ensembles)),
        ("ensemble_agents", columns_of!(ensemble_agents)),
        ("ensemble_predictions", columns_of!(ensemble_predictions)),
        (
            "ensemble_weight_history",
            columns_of!(ensemble_weight_history),
        ),
        ("risk_budgets", columns_of!(risk_budgets)),
        (
            "risk_budget_allocations",
            columns_of!(risk_budget_allocations),
        ),
        ("tenant_settings", columns_of!(tenant_settings)),
        ("decisions", columns_of!(decisions)),
        ("decision_audit_log", columns_of!(decision_audit_log)),
        ("rule_candidates", columns_of!(rule_candidates)),
        ("rules_versions", columns_of!(rules_versions)),
    ];
    let views: Vec<(&str, Vec<String>)> = vec![
        (
            "spot_holdings_priced",
            columns_of!(views::spot_holdings_priced),
        ),
        (
            "futures_positions_marked",
            columns_of!(views::futures_positions_marked),
        ),
    ];
    let mut declared_tables: Vec<&str> = declared.iter().map(|(t, _)| *t).collect();
    declared_tables.sort();
    assert_eq!(
        user_tables(&mut conn),
        declared_tables,
        "tables in schema.rs vs database"
    );
    let mut declared_views: Vec<&str> = views.iter().map(|(v, _)| *v).collect();
    declared_views.sort();
    let actual_views: Vec<String> = sql_query(
        "SELECT viewname::text AS name FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    )
    .load::<Name>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect();
    assert_eq!(
        actual_views, declared_views,
        "views in schema.rs vs database"
    );
    let declared: Vec<(&str, Vec<String>)> = declared.into_iter().chain(views).collect();
    for (table, columns) in declared {
        let actual: Vec<String> = sql_query(
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind::<Text, _>(table)
        .load::<Name>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
        assert_eq!(columns, actual, "columns of {table}: schema.rs vs database");
    }
}
