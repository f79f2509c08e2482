-- Firm console (seed 004): tenant settings, decisions made from ensemble predictions, the
-- decision audit trail with exactly the seed's columns, rule candidates mined from decision
-- history and the rules versions (stored whole). Tenant tables like all others: forced,
-- fail-closed RLS, indexes led by tenant_id.

-- One row per tenant that changed its settings (the others have the defaults). The bounds
-- are the API's (threshold 0.80..=0.98, cap 0..=1e9 USD), checked here too.
CREATE TABLE tenant_settings (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    autopost_enabled BOOLEAN NOT NULL DEFAULT false,
    autopost_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.90
        CONSTRAINT tenant_settings_threshold_range
        CHECK (autopost_threshold >= 0.80 AND autopost_threshold <= 0.98),
    llm_tenant_cap_usd NUMERIC(14, 2) NOT NULL DEFAULT 100
        CONSTRAINT tenant_settings_llm_cap_range
        CHECK (llm_tenant_cap_usd >= 0 AND llm_tenant_cap_usd <= 1000000000),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A tenant admin, or the platform owner (a user of the platform tenant): no tenant FK.
    updated_by UUID,
    PRIMARY KEY (tenant_id)
);

-- What the decision policy made of each prediction (append-only).
CREATE TABLE decisions (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL,
    -- NULL for decisions imported from history (seed-demo).
    prediction_id UUID,
    ensemble_id UUID NOT NULL,
    symbol VARCHAR(32) NOT NULL,
    side VARCHAR(4) CHECK (side IN ('buy', 'sell')),
    regime VARCHAR(16) NOT NULL
        CHECK (regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery', 'unknown')),
    prediction DOUBLE PRECISION NOT NULL CHECK (prediction BETWEEN -1 AND 1),
    raw_confidence DOUBLE PRECISION NOT NULL CHECK (raw_confidence BETWEEN 0 AND 1),
    calibrated_p DOUBLE PRECISION NOT NULL CHECK (calibrated_p BETWEEN 0 AND 1),
    calibrated BOOLEAN NOT NULL,
    threshold_used DOUBLE PRECISION NOT NULL CHECK (threshold_used BETWEEN 0.80 AND 0.98),
    action VARCHAR(20) NOT NULL
        CHECK (action IN ('auto_executed', 'queued', 'rejected', 'failed')),
    -- Every check that did not pass, in precedence order.
    reasons TEXT[] NOT NULL DEFAULT '{}',
    detail VARCHAR(500),
    vendor_normalized VARCHAR(64) NOT NULL,
    client_order_id VARCHAR(64),
    order_status VARCHAR(32),
    quantity NUMERIC(36, 18) CHECK (quantity > 0),
    llm_cost_usd NUMERIC(18, 6) NOT NULL DEFAULT 0 CHECK (llm_cost_usd >= 0),
    user_id UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ensemble_id) REFERENCES ensembles (tenant_id, id),
    FOREIGN KEY (tenant_id, prediction_id) REFERENCES ensemble_predictions (tenant_id, id)
);

CREATE INDEX idx_decisions_tenant ON decisions (tenant_id);
CREATE INDEX idx_decisions_tenant_created ON decisions (tenant_id, created_at);
CREATE INDEX idx_decisions_tenant_ensemble ON decisions (tenant_id, ensemble_id, created_at);

-- The decision trail: exactly the seed's columns. Append-only for both application roles.
CREATE TABLE decision_audit_log (
    timestamp TIMESTAMPTZ NOT NULL DEFAULT now(),
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    txn_id UUID NOT NULL,
    vendor_normalized VARCHAR(64) NOT NULL,
    action VARCHAR(32) NOT NULL,
    not_auto_post_reason VARCHAR(32),
    calibrated_p DOUBLE PRECISION CHECK (calibrated_p BETWEEN 0 AND 1),
    threshold_used DOUBLE PRECISION,
    user_id UUID,
    PRIMARY KEY (tenant_id, txn_id)
);

CREATE INDEX idx_decision_audit_log_tenant ON decision_audit_log (tenant_id);
-- Keyset order of one tenant's pages and exports.
CREATE INDEX idx_decision_audit_log_tenant_created
    ON decision_audit_log (tenant_id, timestamp, txn_id);
-- Keyset order of the owner's cross-tenant export.
CREATE INDEX idx_decision_audit_log_created ON decision_audit_log (timestamp, txn_id);

-- Rule candidates mined from decision history; one pending candidate per pattern.
CREATE TABLE rule_candidates (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    symbol VARCHAR(32) NOT NULL,
    side VARCHAR(4) NOT NULL CHECK (side IN ('buy', 'sell')),
    ensemble_id UUID NOT NULL,
    regime VARCHAR(16) NOT NULL
        CHECK (regime IN ('bull', 'bear', 'sideways', 'crisis', 'recovery', 'unknown')),
    evidence_count INT NOT NULL CHECK (evidence_count >= 0),
    evidence_precision DOUBLE PRECISION NOT NULL CHECK (evidence_precision BETWEEN 0 AND 1),
    evidence_std_dev DOUBLE PRECISION CHECK (evidence_std_dev >= 0),
    status VARCHAR(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'rejected')),
    mined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reviewed_by UUID,
    reviewed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ensemble_id) REFERENCES ensembles (tenant_id, id),
    CHECK ((status = 'pending') = (reviewed_at IS NULL))
);

CREATE INDEX idx_rule_candidates_tenant ON rule_candidates (tenant_id);
CREATE INDEX idx_rule_candidates_tenant_created ON rule_candidates (tenant_id, created_at);
CREATE UNIQUE INDEX idx_rule_candidates_pending_pattern
    ON rule_candidates (tenant_id, symbol, side, ensemble_id, regime) WHERE status = 'pending';

-- Every version of the tenant's rules, stored whole (append-only).
CREATE TABLE rules_versions (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    version INT NOT NULL CHECK (version > 0),
    parent_version INT CHECK (parent_version > 0 AND parent_version < version),
    -- [{"candidate_id", "pattern": {...}, "evidence": {...}, "accepted_by", "accepted_at"}]
    rules JSONB NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
    change VARCHAR(10) NOT NULL CHECK (change IN ('accept', 'rollback')),
    candidate_id UUID,
    rolled_back_to INT,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, version),
    FOREIGN KEY (tenant_id, candidate_id) REFERENCES rule_candidates (tenant_id, id),
    CHECK ((change = 'accept') = (candidate_id IS NOT NULL)),
    CHECK ((change = 'rollback') = (rolled_back_to IS NOT NULL))
);

CREATE INDEX idx_rules_versions_tenant ON rules_versions (tenant_id);
CREATE INDEX idx_rules_versions_tenant_created ON rules_versions (tenant_id, created_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_settings, rule_candidates
    TO alphapulse_tenant, alphapulse_platform;
GRANT SELECT, INSERT ON decisions, decision_audit_log, rules_versions
    TO alphapulse_tenant, alphapulse_platform;

SELECT alphapulse_enable_tenant_rls('tenant_settings');
SELECT alphapulse_enable_tenant_rls('decisions');
SELECT alphapulse_enable_tenant_rls('decision_audit_log');
SELECT alphapulse_enable_tenant_rls('rule_candidates');
SELECT alphapulse_enable_tenant_rls('rules_versions');
