-- Bench fixture (scripts/bench/run.sh): 50 tenants, each with one admin user, an active paper
-- exchange account and 1000 positions (20 spot longs on symbols with 30 daily candles each,
-- 980 futures positions on other symbols). Run as the database owner with psql on the
-- bench's own throw-away cluster; rows are written through the BYPASSRLS platform role
-- (FORCE ROW LEVEL SECURITY applies to table owners too).
--
-- Ids are deterministic so pgbench scripts can build them from a random number n in 10..59:
--   tenant  00000000-0000-4000-8000-0000000000<n>
--   user    00000000-0000-4000-9000-0000000000<n>
\set ON_ERROR_STOP on

-- Registry of the bench tenants (read by run.sh to mint tokens); created as the owner.
CREATE TABLE bench_tenants (
    n INT PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    user_id UUID NOT NULL UNIQUE
);
INSERT INTO bench_tenants (n, id, user_id)
SELECT n - 9,
       ('00000000-0000-4000-8000-0000000000' || n)::uuid,
       ('00000000-0000-4000-9000-0000000000' || n)::uuid
FROM generate_series(10, 59) AS n;
GRANT SELECT ON bench_tenants TO alphapulse_platform;

BEGIN;
SELECT set_config('role', 'alphapulse_platform', true);

-- Enterprise plans (burst 500/s each) and the largest daily quota: the load stays under every
-- limit, so no answer is a (cheaper) 429.
INSERT INTO tenants (id, name, slug, subscription_tier, max_users, max_api_calls_per_day)
SELECT id, 'Bench tenant ' || n, 'bench-' || n, 'enterprise', 10, 2147483647 FROM bench_tenants;

INSERT INTO users (id, tenant_id, email, password_hash, role)
SELECT user_id, id, 'admin@bench-' || n || '.bench', 'bench-fixture-no-login', 'admin'
FROM bench_tenants;

INSERT INTO exchange_accounts (tenant_id, adapter, label, paper_cash, active)
SELECT id, 'paper', 'bench', 1000000, true FROM bench_tenants;

-- 20 spot symbols with 30 daily candles each (the newest is today).
CREATE TEMP TABLE bench_spot_symbols (i INT, symbol TEXT) ON COMMIT DROP;
INSERT INTO bench_spot_symbols
SELECT i, s FROM unnest(ARRAY[
    'BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'AVAXUSDT',
    'DOTUSDT', 'LINKUSDT', 'MATICUSDT', 'LTCUSDT', 'TRXUSDT', 'ATOMUSDT', 'UNIUSDT', 'XLMUSDT',
    'ETCUSDT', 'FILUSDT', 'APTUSDT', 'NEARUSDT'
]) WITH ORDINALITY AS t(s, i);

INSERT INTO market_candles (symbol, interval, open_time, open, high, low, close, volume)
SELECT s.symbol, '1d', date_trunc('day', now()) - d * interval '1 day',
       p, p * 1.02, p * 0.98, p * 1.01, 1000 + d
FROM bench_spot_symbols s
CROSS JOIN generate_series(0, 29) AS d
CROSS JOIN LATERAL (SELECT (100 * s.i + 30 - d)::numeric AS p) AS price;

-- 20 spot long positions per tenant.
INSERT INTO positions (tenant_id, symbol, market, side, quantity, entry_price, leverage)
SELECT t.id, s.symbol, 'spot', 'long', (t.n + s.i)::numeric / 10, 95 * s.i, 1
FROM bench_tenants t CROSS JOIN bench_spot_symbols s;

-- 980 futures positions per tenant on other symbols (F0001USDT .. F0980USDT).
INSERT INTO positions (tenant_id, symbol, market, side, quantity, entry_price, leverage)
SELECT t.id, 'F' || lpad(k::text, 4, '0') || 'USDT', 'futures',
       CASE WHEN k % 2 = 0 THEN 'long' ELSE 'short' END,
       (k % 17 + 1)::numeric / 4, 10 + k, 1 + k % 5
FROM bench_tenants t CROSS JOIN generate_series(1, 980) AS k;

COMMIT;

ANALYZE tenants, users, exchange_accounts, positions, market_candles, bench_tenants;

SELECT (SELECT count(*) FROM bench_tenants) AS tenants,
       (SELECT count(*) FROM positions) AS positions,
       (SELECT count(*) FROM positions WHERE market = 'spot') AS spot_positions,
       (SELECT count(*) FROM market_candles) AS candles;
