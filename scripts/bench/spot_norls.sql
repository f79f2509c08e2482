-- pgbench (-M simple), BENCH-ONLY no-RLS variant of spot_rls.sql: the same batch and query
-- as the BYPASSRLS platform role, so only the explicit WHERE tenant_id filters rows.
-- Never a production path: it exists to measure what the RLS policies cost.
\set t random(10, 59)
BEGIN \; SELECT set_config('role', 'alphapulse_platform', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000:t', true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000:t', true), set_config('statement_timeout', '30000', true);
SELECT p.symbol, p.quantity, p.entry_price, c.close FROM positions p LEFT JOIN LATERAL (SELECT m.close FROM market_candles m WHERE m.symbol = p.symbol AND m.interval = '1d' ORDER BY m.open_time DESC LIMIT 1) c ON true WHERE p.tenant_id = '00000000-0000-4000-8000-0000000000:t' AND p.market = 'spot' AND p.quantity > 0 ORDER BY p.symbol;
COMMIT;
