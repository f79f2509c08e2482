-- Back to plain tables and the (SELECT ...) policy form. On Citus the tables are first turned
-- back into local tables on the coordinator (undistribute_table copies the rows back) and the
-- roles lose LOGIN again.
DO $$
DECLARE
    tbl regclass;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        FOR tbl IN EXECUTE 'SELECT logicalrelid FROM pg_dist_partition ORDER BY logicalrelid::text'
        LOOP
            IF EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = tbl) THEN
                PERFORM undistribute_table(tbl, cascade_via_foreign_keys => true);
            END IF;
        END LOOP;
        ALTER ROLE alphapulse_tenant RESET citus.skip_advisory_lock_permission_checks;
        ALTER ROLE alphapulse_tenant NOLOGIN;
        ALTER ROLE alphapulse_platform NOLOGIN;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION alphapulse_enable_tenant_rls(tbl regclass) RETURNS void
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

DO $$
DECLARE
    tbl regclass;
BEGIN
    FOR tbl IN SELECT DISTINCT p.polrelid::regclass FROM pg_policy p
                WHERE p.polname = 'tenant_isolation_select'
    LOOP
        EXECUTE format('DROP POLICY tenant_isolation_select ON %s', tbl);
        EXECUTE format('DROP POLICY tenant_isolation_insert ON %s', tbl);
        EXECUTE format('DROP POLICY tenant_isolation_update ON %s', tbl);
        EXECUTE format('DROP POLICY tenant_isolation_delete ON %s', tbl);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
        PERFORM alphapulse_enable_tenant_rls(tbl);
    END LOOP;
END
$$;

DROP POLICY tenant_self_select ON tenants;
CREATE POLICY tenant_self_select ON tenants FOR SELECT
    USING (id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid));

DROP FUNCTION alphapulse_distribute_tenant_table(regclass);
DROP FUNCTION alphapulse_tenant_policies(regclass);
