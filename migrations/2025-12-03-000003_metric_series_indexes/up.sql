-- The metric series routes read snapshots and risk metrics by time. (The snapshots'
-- `(tenant_id, taken_at)` index comes with 2025-12-02-000001_portfolio_snapshot_slots.)
CREATE INDEX idx_risk_metrics_tenant_metric_calculated
    ON risk_metrics (tenant_id, metric, calculated_at);
