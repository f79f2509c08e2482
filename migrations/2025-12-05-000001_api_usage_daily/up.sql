-- API calls per tenant and UTC day, for the daily quota (max_api_calls_per_day). Written by
-- every server process in batches (one upsert a second with its own counts), so the processes
-- share one count and a restart loses none.
CREATE TABLE api_usage_daily (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    day DATE NOT NULL,
    calls BIGINT NOT NULL DEFAULT 0 CHECK (calls >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON api_usage_daily TO alphapulse_tenant, alphapulse_platform;
SELECT alphapulse_enable_tenant_rls('api_usage_daily');
