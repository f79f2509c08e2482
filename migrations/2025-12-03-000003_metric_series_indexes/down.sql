DROP INDEX idx_risk_metrics_tenant_metric_calculated;
-- Kept: 2025-12-02-000001 created it too and drops it when reverted.
