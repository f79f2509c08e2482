-- Futures positions marked at the latest daily close (the paper exchange's mark price), as a
-- view so the request path reads them with one statically known (prepared, plan-cached)
-- statement, like spot_holdings_priced. security_invoker: the caller's row-level security
-- applies to the underlying tables (a tenant sees only its own rows, also on Citus shards).
CREATE VIEW futures_positions_marked WITH (security_invoker = true) AS
SELECT p.tenant_id,
       p.symbol,
       p.side,
       p.quantity,
       p.entry_price,
       p.leverage,
       (SELECT m.close FROM market_candles m
         WHERE m.symbol = p.symbol AND m.interval = '1d'
         ORDER BY m.open_time DESC LIMIT 1) AS mark
  FROM positions p
 WHERE p.market = 'futures' AND p.quantity > 0;

GRANT SELECT ON futures_positions_marked TO alphapulse_tenant, alphapulse_platform;
