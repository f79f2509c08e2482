-- Tenants, the two NOLOGIN roles, and the helper that puts a table under forced,
-- fail-closed row-level security. Later migrations call alphapulse_enable_tenant_rls().

CREATE TABLE tenants (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL CHECK (length(btrim(name)) > 0),
    slug VARCHAR(100) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$'),
    subscription_tier VARCHAR(50) NOT NULL CHECK (subscription_tier IN ('starter', 'pro', 'enterprise')),
    status VARCHAR(50) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'cancelled')),
    max_users INT NOT NULL DEFAULT 5 CHECK (max_users > 0),
    max_api_calls_per_day INT NOT NULL DEFAULT 10000 CHECK (max_api_calls_per_day > 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX idx_tenants_slug ON tenants (slug);
CREATE INDEX idx_tenants_status ON tenants (status);
CREATE INDEX idx_tenants_tier ON tenants (subscription_tier);
CREATE INDEX idx_tenants_created ON tenants (created_at, id);

-- The platform tenant owns the platform's own users (owner, staff).
INSERT INTO tenants (name, slug, subscription_tier, max_users)
VALUES ('AlphaPulse Platform', 'platform', 'enterprise', 1000);

-- Roles are cluster-wide: create them only if another database of the cluster has not.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'alphapulse_tenant') THEN
        CREATE ROLE alphapulse_tenant NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'alphapulse_platform') THEN
        CREATE ROLE alphapulse_platform NOLOGIN BYPASSRLS;
    END IF;
END
$$;

-- The migrating (owner) user switches into these roles per transaction.
DO $$
BEGIN
    EXECUTE format('GRANT alphapulse_tenant TO %I', current_user);
    EXECUTE format('GRANT alphapulse_platform TO %I', current_user);
END
$$;

GRANT USAGE ON SCHEMA public TO alphapulse_tenant, alphapulse_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO alphapulse_platform;
-- A tenant may read its own tenant row (policy below), never write it.
GRANT SELECT ON tenants TO alphapulse_tenant;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_self_select ON tenants FOR SELECT
    USING (id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid));

-- Puts a table with a tenant_id column under forced RLS with one policy per command, in the
-- fail-closed form: no (or an empty) app.current_tenant_id setting matches no row.
-- The (SELECT ...) wrapper makes PostgreSQL evaluate the setting once per query (InitPlan).
CREATE FUNCTION alphapulse_enable_tenant_rls(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cond text := 'tenant_id = (SELECT NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)';
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY tenant_isolation_select ON %s FOR SELECT USING (%s)', tbl, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_insert ON %s FOR INSERT WITH CHECK (%s)', tbl, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, cond, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_delete ON %s FOR DELETE USING (%s)', tbl, cond);
END
$$;
