-- A tenant's risk limits (one row; a tenant without a row has the defaults). The ranges are
-- the API's, checked here too.
CREATE TABLE tenant_risk_limits (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    max_position_weight DOUBLE PRECISION NOT NULL
        CHECK (max_position_weight > 0 AND max_position_weight <= 1),
    max_leverage DOUBLE PRECISION NOT NULL CHECK (max_leverage >= 1 AND max_leverage <= 10),
    max_drawdown DOUBLE PRECISION NOT NULL CHECK (max_drawdown > 0 AND max_drawdown <= 1),
    target_volatility DOUBLE PRECISION NOT NULL
        CHECK (target_volatility > 0 AND target_volatility <= 2),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by UUID,
    PRIMARY KEY (tenant_id),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES users (tenant_id, id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_risk_limits TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('tenant_risk_limits');
