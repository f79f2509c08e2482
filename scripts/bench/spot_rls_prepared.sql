-- pgbench (-M prepared) variant of spot_rls.sql. A prepared statement cannot hold two
-- commands, so BEGIN is its own round trip here (4 round trips per transaction, the API
-- does 3); ids are built from the parameter :t (10..59).
\set t random(10, 59)
BEGIN;
SELECT set_config('role', 'alphapulse_tenant', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000' || :t, true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000' || :t, true), set_config('statement_timeout', '30000', true);
SELECT p.symbol, p.quantity, p.entry_price, c.close FROM positions p LEFT JOIN LATERAL (SELECT m.close FROM market_candles m WHERE m.symbol = p.symbol AND m.interval = '1d' ORDER BY m.open_time DESC LIMIT 1) c ON true WHERE p.tenant_id = ('00000000-0000-4000-8000-0000000000' || :t)::uuid AND p.market = 'spot' AND p.quantity > 0 ORDER BY p.symbol;
COMMIT;
