-- Risk budgets: versioned allocations of a tenant's exposure budget to strategies and asset
-- classes. A rebalance appends a version (the newest is in force); versions are never
-- changed, so both tables are append-only for the application roles. Tenant tables like all
-- others: PRIMARY KEY (tenant_id, id), tenant-including foreign keys, indexes led by
-- tenant_id, forced fail-closed RLS.
CREATE TABLE risk_budgets (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    version INT NOT NULL CHECK (version > 0),
    allocation_method VARCHAR(30) NOT NULL
        CHECK (allocation_method IN ('equal_weight', 'inverse_volatility', 'equal_risk', 'proportional')),
    total_budget NUMERIC(36, 18) NOT NULL CHECK (total_budget >= 0),
    volatility_target DOUBLE PRECISION NOT NULL CHECK (volatility_target > 0),
    leverage_limit DOUBLE PRECISION NOT NULL CHECK (leverage_limit > 0),
    regime VARCHAR(20) CHECK (regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery')),
    reason TEXT NOT NULL DEFAULT '',
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, version),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX idx_risk_budgets_tenant ON risk_budgets (tenant_id);
CREATE INDEX idx_risk_budgets_tenant_created ON risk_budgets (tenant_id, created_at);

CREATE TABLE risk_budget_allocations (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    budget_id UUID NOT NULL,
    ordinal INT NOT NULL CHECK (ordinal >= 0),
    entity VARCHAR(64) NOT NULL CHECK (length(btrim(entity)) > 0),
    entity_type VARCHAR(20) NOT NULL CHECK (entity_type IN ('strategy', 'asset_class')),
    allocated_amount NUMERIC(36, 18) NOT NULL CHECK (allocated_amount >= 0),
    scope JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(scope) = 'object'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, budget_id, entity_type, entity),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES risk_budgets (tenant_id, id)
);
CREATE INDEX idx_risk_budget_allocations_tenant ON risk_budget_allocations (tenant_id);
CREATE INDEX idx_risk_budget_allocations_tenant_created
    ON risk_budget_allocations (tenant_id, created_at);

GRANT SELECT, INSERT ON risk_budgets, risk_budget_allocations
    TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('risk_budgets');
SELECT alphapulse_enable_tenant_rls('risk_budget_allocations');
