-- Users belong to exactly one tenant; platform users (owner, staff) to the platform tenant.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    email VARCHAR(254) NOT NULL UNIQUE CHECK (email = lower(email) AND position('@' IN email) > 1),
    password_hash TEXT NOT NULL,
    role VARCHAR(20) NOT NULL CHECK (role IN ('owner', 'staff', 'admin', 'trader', 'viewer')),
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Lets tenant-scoped tables reference (tenant_id, user id) pairs.
    UNIQUE (tenant_id, id)
);
CREATE INDEX idx_users_tenant ON users (tenant_id);
CREATE INDEX idx_users_tenant_created ON users (tenant_id, created_at, id);

-- Staff assignments (seed 004): which tenants a platform staff user may see. tenant_id is the
-- assigned tenant; the staff user lives in the platform tenant.
CREATE TABLE user_tenants (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX idx_user_tenants_user ON user_tenants (user_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_tenants TO alphapulse_tenant, alphapulse_platform;

SELECT alphapulse_enable_tenant_rls('users');
SELECT alphapulse_enable_tenant_rls('user_tenants');
