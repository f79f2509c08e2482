-- Seed 002's six domain tables and the audit log. Every one: tenant_id NOT NULL, a primary
-- key and foreign keys that include tenant_id (Citus-ready), indexes led by tenant_id, and
-- forced fail-closed RLS. Exact quantities and prices are NUMERIC; statistics are float8.

CREATE TABLE orders (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    client_order_id VARCHAR(64) NOT NULL,
    exchange_order_id VARCHAR(64),
    symbol VARCHAR(32) NOT NULL,
    market VARCHAR(10) NOT NULL CHECK (market IN ('spot', 'futures')),
    side VARCHAR(4) NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type VARCHAR(10) NOT NULL CHECK (order_type IN ('market', 'limit')),
    quantity NUMERIC(36, 18) NOT NULL CHECK (quantity > 0),
    price NUMERIC(36, 18) CHECK (price > 0),
    filled_quantity NUMERIC(36, 18) NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
    status VARCHAR(20) NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'partially_filled', 'filled', 'cancelled', 'rejected')),
    reduce_only BOOLEAN NOT NULL DEFAULT false,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, client_order_id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);

CREATE TABLE trades (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    order_id UUID,
    symbol VARCHAR(32) NOT NULL,
    market VARCHAR(10) NOT NULL CHECK (market IN ('spot', 'futures')),
    side VARCHAR(4) NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity NUMERIC(36, 18) NOT NULL CHECK (quantity > 0),
    price NUMERIC(36, 18) NOT NULL CHECK (price > 0),
    fee NUMERIC(36, 18) NOT NULL DEFAULT 0 CHECK (fee >= 0),
    fee_asset VARCHAR(16),
    realized_pnl NUMERIC(36, 18),
    executed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id)
);

CREATE TABLE positions (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    symbol VARCHAR(32) NOT NULL,
    market VARCHAR(10) NOT NULL CHECK (market IN ('spot', 'futures')),
    side VARCHAR(5) NOT NULL DEFAULT 'long' CHECK (side IN ('long', 'short')),
    quantity NUMERIC(36, 18) NOT NULL CHECK (quantity >= 0),
    entry_price NUMERIC(36, 18) NOT NULL CHECK (entry_price >= 0),
    leverage NUMERIC(10, 2) NOT NULL DEFAULT 1 CHECK (leverage >= 1),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, market, symbol, side)
);

CREATE TABLE portfolio_snapshots (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    total_value NUMERIC(36, 18) NOT NULL,
    cash NUMERIC(36, 18) NOT NULL,
    positions_value NUMERIC(36, 18) NOT NULL,
    holdings JSONB NOT NULL DEFAULT '[]'::jsonb,
    taken_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE risk_metrics (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    metric VARCHAR(64) NOT NULL,
    scope VARCHAR(64) NOT NULL DEFAULT 'portfolio',
    value DOUBLE PRECISION NOT NULL,
    window_days INT CHECK (window_days > 0),
    calculated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE agent_signals (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    agent_id VARCHAR(64) NOT NULL,
    agent_type VARCHAR(64) NOT NULL,
    symbol VARCHAR(32) NOT NULL,
    signal DOUBLE PRECISION NOT NULL CHECK (signal BETWEEN -1 AND 1),
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- Append-only: the tenant and platform roles may insert and read, never change or delete.
CREATE TABLE audit_log (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    user_id UUID,
    action VARCHAR(100) NOT NULL,
    target VARCHAR(255) NOT NULL,
    outcome VARCHAR(20) NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    request_id VARCHAR(100),
    details JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX idx_orders_tenant ON orders (tenant_id);
CREATE INDEX idx_orders_tenant_created ON orders (tenant_id, created_at);
CREATE INDEX idx_trades_tenant ON trades (tenant_id);
CREATE INDEX idx_trades_tenant_created ON trades (tenant_id, created_at);
CREATE INDEX idx_trades_tenant_order ON trades (tenant_id, order_id);
CREATE INDEX idx_positions_tenant ON positions (tenant_id);
CREATE INDEX idx_positions_tenant_created ON positions (tenant_id, created_at);
CREATE INDEX idx_portfolio_snapshots_tenant ON portfolio_snapshots (tenant_id);
CREATE INDEX idx_portfolio_snapshots_tenant_created ON portfolio_snapshots (tenant_id, created_at);
CREATE INDEX idx_risk_metrics_tenant ON risk_metrics (tenant_id);
CREATE INDEX idx_risk_metrics_tenant_created ON risk_metrics (tenant_id, created_at);
CREATE INDEX idx_agent_signals_tenant ON agent_signals (tenant_id);
CREATE INDEX idx_agent_signals_tenant_created ON agent_signals (tenant_id, created_at);
CREATE INDEX idx_audit_log_tenant ON audit_log (tenant_id);
CREATE INDEX idx_audit_log_tenant_created ON audit_log (tenant_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE
    ON orders, trades, positions, portfolio_snapshots, risk_metrics, agent_signals
    TO alphapulse_tenant, alphapulse_platform;
GRANT SELECT, INSERT ON audit_log TO alphapulse_tenant, alphapulse_platform;

SELECT alphapulse_enable_tenant_rls('orders');
SELECT alphapulse_enable_tenant_rls('trades');
SELECT alphapulse_enable_tenant_rls('positions');
SELECT alphapulse_enable_tenant_rls('portfolio_snapshots');
SELECT alphapulse_enable_tenant_rls('risk_metrics');
SELECT alphapulse_enable_tenant_rls('agent_signals');
SELECT alphapulse_enable_tenant_rls('audit_log');
