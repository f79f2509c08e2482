-- pgbench (-M simple), BENCH-ONLY no-RLS variant of spot_rls.sql: the same batch and query
-- as the BYPASSRLS platform role, so only the explicit WHERE tenant_id filters rows.
-- Never a production path: it exists to measure what the RLS policies cost.
\set t random(10, 59)
BEGIN \; SELECT set_config('role', 'alphapulse_platform', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000:t', true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000:t', true), set_config('statement_timeout', '30000', true);
SELECT symbol, quantity, entry_price, close FROM spot_holdings_priced WHERE tenant_id = '00000000-0000-4000-8000-0000000000:t' ORDER BY symbol;
COMMIT;
