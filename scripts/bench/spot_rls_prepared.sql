-- pgbench (-M prepared) variant of spot_rls.sql. A prepared statement cannot hold two
-- commands, so BEGIN is its own round trip here (4 round trips per transaction, the API
-- does 3); ids are built from the parameter :t (10..59).
\set t random(10, 59)
BEGIN;
SELECT set_config('role', 'alphapulse_tenant', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000' || :t, true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000' || :t, true), set_config('statement_timeout', '30000', true);
SELECT symbol, quantity, entry_price, close FROM spot_holdings_priced WHERE tenant_id = ('00000000-0000-4000-8000-0000000000' || :t)::uuid ORDER BY symbol;
COMMIT;
