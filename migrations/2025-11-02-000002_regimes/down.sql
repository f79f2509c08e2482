DROP TABLE regime_alerts;
DROP TABLE regime_history;
DROP TABLE regime_configs;
