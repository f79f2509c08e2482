-- The metric series routes read snapshots and risk metrics by time.
CREATE INDEX idx_portfolio_snapshots_tenant_taken ON portfolio_snapshots (tenant_id, taken_at);
CREATE INDEX idx_risk_metrics_tenant_metric_calculated
    ON risk_metrics (tenant_id, metric, calculated_at);
