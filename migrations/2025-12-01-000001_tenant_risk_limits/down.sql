DROP TABLE tenant_risk_limits;
