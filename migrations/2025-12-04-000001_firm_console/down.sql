DROP TABLE rules_versions;
DROP TABLE rule_candidates;
DROP TABLE decision_audit_log;
DROP TABLE decisions;
DROP TABLE tenant_settings;
