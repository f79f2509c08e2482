DROP TABLE audit_log;
DROP TABLE agent_signals;
DROP TABLE risk_metrics;
DROP TABLE portfolio_snapshots;
DROP TABLE positions;
DROP TABLE trades;
DROP TABLE orders;
