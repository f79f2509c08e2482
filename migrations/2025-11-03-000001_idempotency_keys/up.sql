-- Idempotency keys of trading actions: a retry with the same key and body returns the stored
-- answer and places nothing twice; the same key with another body is a conflict.
CREATE TABLE idempotency_keys (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    scope VARCHAR(50) NOT NULL,
    key VARCHAR(200) NOT NULL CHECK (length(key) > 0),
    request_hash CHAR(64) NOT NULL,
    status_code INT,
    response JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, scope, key)
);
CREATE INDEX idx_idempotency_keys_tenant ON idempotency_keys (tenant_id);
CREATE INDEX idx_idempotency_keys_tenant_created ON idempotency_keys (tenant_id, created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('idempotency_keys');
