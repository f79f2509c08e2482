-- The metric series routes read snapshots and risk metrics by time. The snapshot index is
-- also created by 2025-12-02-000001 (both branches added it): IF NOT EXISTS, so a fresh
-- database migrates whichever ran first.
CREATE INDEX IF NOT EXISTS idx_portfolio_snapshots_tenant_taken ON portfolio_snapshots (tenant_id, taken_at);
CREATE INDEX idx_risk_metrics_tenant_metric_calculated
    ON risk_metrics (tenant_id, metric, calculated_at);
