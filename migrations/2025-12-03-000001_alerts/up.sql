-- Tenant alerts: what the rules raise (regime changes, limits breached, budgets used up,
-- correlation spikes, quotas, failing exchange accounts) and people acknowledge. The regime
-- change alerts of `regime_alerts` move here as alerts of source `regime`.

CREATE TABLE alerts (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    source VARCHAR(20) NOT NULL
        CHECK (source IN ('regime', 'risk', 'risk_budget', 'correlation', 'quota', 'exchange')),
    severity VARCHAR(10) NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title VARCHAR(200) NOT NULL,
    message TEXT NOT NULL,
    tags TEXT[] NOT NULL DEFAULT '{}',
    -- The condition: one unacknowledged alert per (tenant, source, dedup_key).
    dedup_key VARCHAR(200) NOT NULL,
    -- Rule-specific figures (regime alerts: from/to regime, confidence, day of the change).
    details JSONB NOT NULL DEFAULT '{}'::jsonb,
    acknowledged BOOLEAN NOT NULL DEFAULT false,
    acknowledged_by UUID,
    acknowledged_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, acknowledged_by) REFERENCES users (tenant_id, id),
    CHECK (acknowledged = (acknowledged_at IS NOT NULL))
);
-- Raising is INSERT ... ON CONFLICT DO NOTHING: atomic deduplication of open alerts.
CREATE UNIQUE INDEX uq_alerts_open ON alerts (tenant_id, source, dedup_key) WHERE NOT acknowledged;
-- A regime change (day, regime) is alerted once, acknowledged or not (as regime_alerts did).
CREATE UNIQUE INDEX uq_alerts_regime_change ON alerts (tenant_id, dedup_key) WHERE source = 'regime';
CREATE INDEX idx_alerts_tenant ON alerts (tenant_id);
CREATE INDEX idx_alerts_tenant_created ON alerts (tenant_id, created_at, id);

GRANT SELECT, INSERT, UPDATE, DELETE ON alerts TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('alerts');

-- Move the regime change alerts, as the platform role (BYPASSRLS): the migrating user may be
-- subject to the forced row-level security of both tables.
SET LOCAL ROLE alphapulse_platform;
INSERT INTO alerts (tenant_id, id, source, severity, title, message, tags, dedup_key, details,
                    acknowledged, acknowledged_at, created_at)
SELECT tenant_id, id, 'regime',
       CASE to_regime WHEN 'crisis' THEN 'critical' WHEN 'bear' THEN 'warning' ELSE 'info' END,
       'Market regime: ' || to_regime, message, ARRAY['regime', to_regime],
       'regime_change:' || changed_on || ':' || to_regime,
       jsonb_build_object('from_regime', from_regime, 'to_regime', to_regime,
                          'confidence', confidence, 'changed_on', changed_on),
       acknowledged, CASE WHEN acknowledged THEN created_at END, created_at
FROM regime_alerts;
RESET ROLE;

DROP TABLE regime_alerts;
