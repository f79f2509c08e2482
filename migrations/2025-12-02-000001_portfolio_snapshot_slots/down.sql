DROP INDEX idx_trades_tenant_executed;
DROP INDEX idx_portfolio_snapshots_tenant_taken;
ALTER TABLE portfolio_snapshots
    DROP CONSTRAINT portfolio_snapshots_tenant_bucket_key,
    DROP COLUMN bucket,
    DROP COLUMN source,
    DROP COLUMN gross_exposure;
