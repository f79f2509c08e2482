-- Per-tenant regime configuration, the regime history written when the model runs, and the
-- alerts raised when the current regime changes.

CREATE TABLE regime_configs (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    -- [{"symbol": "BTCUSDT", "weight": 0.6}, ...]; weights > 0, normalised by the service.
    universe JSONB NOT NULL CHECK (jsonb_typeof(universe) = 'array' AND jsonb_array_length(universe) > 0),
    lookback_days INT NOT NULL DEFAULT 1095 CHECK (lookback_days BETWEEN 120 AND 3650),
    n_states INT NOT NULL DEFAULT 5 CHECK (n_states BETWEEN 2 AND 8),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id)
);

CREATE TABLE regime_history (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    day DATE NOT NULL,
    regime VARCHAR(20) NOT NULL CHECK (regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery')),
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, day)
);

CREATE TABLE regime_alerts (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    from_regime VARCHAR(20) CHECK (from_regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery')),
    to_regime VARCHAR(20) NOT NULL CHECK (to_regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery')),
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    message TEXT NOT NULL,
    acknowledged BOOLEAN NOT NULL DEFAULT false,
    changed_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, changed_on, to_regime)
);

CREATE INDEX idx_regime_configs_tenant ON regime_configs (tenant_id);
CREATE INDEX idx_regime_configs_tenant_created ON regime_configs (tenant_id, created_at);
CREATE INDEX idx_regime_history_tenant ON regime_history (tenant_id);
CREATE INDEX idx_regime_history_tenant_created ON regime_history (tenant_id, created_at);
CREATE INDEX idx_regime_history_tenant_day ON regime_history (tenant_id, day);
CREATE INDEX idx_regime_alerts_tenant ON regime_alerts (tenant_id);
CREATE INDEX idx_regime_alerts_tenant_created ON regime_alerts (tenant_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON regime_configs, regime_history, regime_alerts
    TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('regime_configs');
SELECT alphapulse_enable_tenant_rls('regime_history');
SELECT alphapulse_enable_tenant_rls('regime_alerts');
