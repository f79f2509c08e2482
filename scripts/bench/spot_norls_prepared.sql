-- pgbench (-M prepared), BENCH-ONLY no-RLS variant of spot_rls_prepared.sql: the same
-- statements as the BYPASSRLS platform role (only the explicit WHERE tenant_id filters).
\set t random(10, 59)
BEGIN;
SELECT set_config('role', 'alphapulse_platform', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000' || :t, true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000' || :t, true), set_config('statement_timeout', '30000', true);
SELECT symbol, quantity, entry_price, close FROM spot_holdings_priced WHERE tenant_id = ('00000000-0000-4000-8000-0000000000' || :t)::uuid ORDER BY symbol;
COMMIT;
