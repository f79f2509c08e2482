-- Spot holdings with the latest daily close, as a view so the API can query it with a
-- statically known (prepared, plan-cached) statement. security_invoker: the caller's
-- row-level security applies to the underlying tables (a tenant sees only its own rows).
CREATE VIEW spot_holdings_priced WITH (security_invoker = true) AS
SELECT p.tenant_id,
       p.symbol,
       p.quantity,
       p.entry_price,
       (SELECT m.close FROM market_candles m
         WHERE m.symbol = p.symbol AND m.interval = '1d'
         ORDER BY m.open_time DESC LIMIT 1) AS close
  FROM positions p
 WHERE p.market = 'spot' AND p.quantity > 0;

GRANT SELECT ON spot_holdings_priced TO alphapulse_tenant, alphapulse_platform;
