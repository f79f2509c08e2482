-- AI-agent ensembles: the ensemble, its registered agents with their current weights, the
-- stored predictions (inputs and output, scored later against market closes) and every
-- version of the weights. Tenant tables like all others: PRIMARY KEY (tenant_id, id),
-- tenant-including foreign keys, indexes led by tenant_id, forced fail-closed RLS. The
-- signals a prediction consumes are also written to agent_signals.

CREATE TABLE ensembles (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL CHECK (length(btrim(name)) > 0),
    method VARCHAR(30) NOT NULL
        CHECK (method IN ('weighted_average', 'majority_vote', 'confidence_weighted')),
    config JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(config) = 'object'),
    weights_version INT NOT NULL DEFAULT 0 CHECK (weights_version >= 0),
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);

CREATE TABLE ensemble_agents (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    ensemble_id UUID NOT NULL,
    agent_id VARCHAR(64) NOT NULL CHECK (length(agent_id) > 0),
    agent_type VARCHAR(64) NOT NULL CHECK (length(agent_type) > 0),
    -- The weights of an ensemble's active agents sum to 1 (NaN fails the upper bound).
    weight DOUBLE PRECISION NOT NULL CHECK (weight >= 0 AND weight <= 1),
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, ensemble_id, agent_id),
    FOREIGN KEY (tenant_id, ensemble_id) REFERENCES ensembles (tenant_id, id) ON DELETE CASCADE
);

-- Append-only: a prediction is a record of what was said, scored later from market_candles.
CREATE TABLE ensemble_predictions (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    ensemble_id UUID NOT NULL,
    symbol VARCHAR(32) NOT NULL,
    -- [{"agent_id", "agent_type", "signal", "confidence"}]
    inputs JSONB NOT NULL CHECK (jsonb_typeof(inputs) = 'array'),
    prediction DOUBLE PRECISION NOT NULL CHECK (prediction BETWEEN -1 AND 1),
    confidence DOUBLE PRECISION NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    -- [{"agent_id", "agent_type", "signal", "confidence", "weight", "contribution"}]
    contributions JSONB NOT NULL CHECK (jsonb_typeof(contributions) = 'array'),
    weights_version INT NOT NULL CHECK (weights_version >= 0),
    -- The symbol's latest close when the prediction was made (NULL without market data).
    price_at NUMERIC(36, 18) CHECK (price_at > 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ensemble_id) REFERENCES ensembles (tenant_id, id) ON DELETE CASCADE
);

-- Append-only: every version of an ensemble's weights ({"agent_id": weight}, sum 1).
CREATE TABLE ensemble_weight_history (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    ensemble_id UUID NOT NULL,
    version INT NOT NULL CHECK (version > 0),
    method VARCHAR(30) NOT NULL
        CHECK (method IN ('registration', 'performance', 'inverse_variance', 'equal')),
    weights JSONB NOT NULL CHECK (jsonb_typeof(weights) = 'object'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, ensemble_id, version),
    FOREIGN KEY (tenant_id, ensemble_id) REFERENCES ensembles (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX idx_ensembles_tenant ON ensembles (tenant_id);
CREATE INDEX idx_ensembles_tenant_created ON ensembles (tenant_id, created_at);
CREATE INDEX idx_ensemble_agents_tenant ON ensemble_agents (tenant_id);
CREATE INDEX idx_ensemble_agents_tenant_created ON ensemble_agents (tenant_id, created_at);
CREATE INDEX idx_ensemble_agents_tenant_agent ON ensemble_agents (tenant_id, agent_id);
CREATE INDEX idx_ensemble_predictions_tenant ON ensemble_predictions (tenant_id);
CREATE INDEX idx_ensemble_predictions_tenant_created ON ensemble_predictions (tenant_id, created_at);
CREATE INDEX idx_ensemble_predictions_tenant_ensemble
    ON ensemble_predictions (tenant_id, ensemble_id, created_at);
CREATE INDEX idx_ensemble_weight_history_tenant ON ensemble_weight_history (tenant_id);
CREATE INDEX idx_ensemble_weight_history_tenant_created
    ON ensemble_weight_history (tenant_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON ensembles, ensemble_agents
    TO alphapulse_tenant, alphapulse_platform;
GRANT SELECT, INSERT ON ensemble_predictions, ensemble_weight_history
    TO alphapulse_tenant, alphapulse_platform;

SELECT alphapulse_enable_tenant_rls('ensembles');
SELECT alphapulse_enable_tenant_rls('ensemble_agents');
SELECT alphapulse_enable_tenant_rls('ensemble_predictions');
SELECT alphapulse_enable_tenant_rls('ensemble_weight_history');
