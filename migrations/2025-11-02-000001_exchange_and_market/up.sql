-- Per-tenant exchange accounts (credentials encrypted by the application with AES-GCM, the
-- tenant id as associated data), and market candles (shared market data, not tenant data).

CREATE TABLE exchange_accounts (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    adapter VARCHAR(20) NOT NULL CHECK (adapter IN ('paper', 'binance')),
    label VARCHAR(100) NOT NULL DEFAULT 'default',
    -- base64(nonce || AES-256-GCM ciphertext) of the credentials JSON; NULL for paper.
    credentials_encrypted TEXT,
    -- Paper exchange: quote-asset cash and fee rate.
    paper_cash NUMERIC(36, 18) NOT NULL DEFAULT 0 CHECK (paper_cash >= 0),
    fee_rate NUMERIC(10, 8) NOT NULL DEFAULT 0.001 CHECK (fee_rate >= 0 AND fee_rate < 0.1),
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (adapter = 'paper' OR credentials_encrypted IS NOT NULL)
);
-- One active account per tenant.
CREATE UNIQUE INDEX uq_exchange_accounts_active ON exchange_accounts (tenant_id) WHERE active;
CREATE INDEX idx_exchange_accounts_tenant ON exchange_accounts (tenant_id);
CREATE INDEX idx_exchange_accounts_tenant_created ON exchange_accounts (tenant_id, created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON exchange_accounts TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('exchange_accounts');

CREATE TABLE market_candles (
    symbol VARCHAR(32) NOT NULL,
    interval VARCHAR(8) NOT NULL DEFAULT '1d' CHECK (interval IN ('1d')),
    open_time TIMESTAMPTZ NOT NULL,
    open NUMERIC(36, 18) NOT NULL CHECK (open > 0),
    high NUMERIC(36, 18) NOT NULL CHECK (high > 0),
    low NUMERIC(36, 18) NOT NULL CHECK (low > 0),
    close NUMERIC(36, 18) NOT NULL CHECK (close > 0),
    volume NUMERIC(36, 18) NOT NULL CHECK (volume >= 0),
    CHECK (low <= open AND low <= close AND high >= open AND high >= close),
    PRIMARY KEY (symbol, interval, open_time)
);
-- Readable by every tenant, writable only by the platform (imports, demo generator).
GRANT SELECT ON market_candles TO alphapulse_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON market_candles TO alphapulse_platform;
