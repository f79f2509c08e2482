-- Restores regime_alerts (as 2025-11-02-000002 created it) with the regime alerts moved back.
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
CREATE INDEX idx_regime_alerts_tenant ON regime_alerts (tenant_id);
CREATE INDEX idx_regime_alerts_tenant_created ON regime_alerts (tenant_id, created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON regime_alerts TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('regime_alerts');

SET LOCAL ROLE alphapulse_platform;
INSERT INTO regime_alerts (tenant_id, id, from_regime, to_regime, confidence, message,
                           acknowledged, changed_on, created_at)
SELECT tenant_id, id, details ->> 'from_regime', details ->> 'to_regime',
       (details ->> 'confidence')::double precision, message, acknowledged,
       (details ->> 'changed_on')::date, created_at
FROM alerts
WHERE source = 'regime';
RESET ROLE;

DROP TABLE alerts;
