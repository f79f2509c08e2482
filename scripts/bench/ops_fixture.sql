-- Fixture of the operations benchmark (scripts/bench/ops.sh): 30 days of hourly portfolio
-- snapshots (720 per tenant) and 200 alerts per tenant, for every demo tenant, so each
-- tenant-scoped query also has other tenants' rows beside its own.
INSERT INTO portfolio_snapshots (tenant_id, total_value, cash, positions_value, taken_at)
SELECT t.id,
       1000000 + 50000 * sin(g / 24.0) - 200 * g,
       250000,
       750000 + 50000 * sin(g / 24.0) - 200 * g,
       date_trunc('hour', now()) - make_interval(hours => g)
FROM tenants t, generate_series(0, 719) g
WHERE t.slug <> 'platform';

INSERT INTO alerts (tenant_id, source, severity, title, message, tags, dedup_key, created_at)
SELECT t.id,
       (ARRAY['risk', 'risk_budget', 'correlation', 'quota', 'exchange'])[1 + g % 5],
       (ARRAY['info', 'warning', 'critical'])[1 + g % 3],
       'Benchmark alert ' || g,
       'Condition ' || g || ' crossed its threshold',
       ARRAY['bench', 'g' || g],
       'bench:' || g,
       now() - make_interval(mins => g * 7)
FROM tenants t, generate_series(1, 200) g
WHERE t.slug <> 'platform';
