-- Portfolio snapshots from the snapshot job and on demand. The job's snapshot carries its
-- interval number (`bucket` = floor(unix time / interval)); the unique key on
-- (tenant_id, bucket) makes "one snapshot per tenant per interval" a database guarantee, so
-- several server processes on one database write it once (INSERT ... ON CONFLICT DO
-- NOTHING). On-demand snapshots have no bucket (NULLs never conflict). Gross exposure is kept
-- for the risk-budget history. Trades are listed newest first by execution time.
ALTER TABLE portfolio_snapshots
    ADD COLUMN gross_exposure NUMERIC(36, 18) CHECK (gross_exposure >= 0),
    ADD COLUMN source VARCHAR(10) NOT NULL DEFAULT 'reload' CHECK (source IN ('job', 'reload')),
    ADD COLUMN bucket BIGINT,
    ADD CONSTRAINT portfolio_snapshots_tenant_bucket_key UNIQUE (tenant_id, bucket);
CREATE INDEX idx_portfolio_snapshots_tenant_taken ON portfolio_snapshots (tenant_id, taken_at);
CREATE INDEX idx_trades_tenant_executed ON trades (tenant_id, executed_at, id);
