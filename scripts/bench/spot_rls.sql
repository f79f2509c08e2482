-- pgbench (-M simple): what one `GET /api/v1/positions/spot` does in the database, as the
-- tenant role under forced RLS. Mirrors crates/persistence/src/scope.rs (BEGIN and the
-- settings in ONE batch) and the spot hot path (the `spot_holdings_priced` view: positions with the latest close of each,
-- explicit tenant_id filter kept as in the API). :t is substituted textually (simple mode),
-- so the ids are literals, as the API inlines them.
\set t random(10, 59)
BEGIN \; SELECT set_config('role', 'alphapulse_tenant', true), set_config('app.current_tenant_id', '00000000-0000-4000-8000-0000000000:t', true), set_config('app.current_user_id', '00000000-0000-4000-9000-0000000000:t', true), set_config('statement_timeout', '30000', true);
SELECT symbol, quantity, entry_price, close FROM spot_holdings_priced WHERE tenant_id = '00000000-0000-4000-8000-0000000000:t' ORDER BY symbol;
COMMIT;
