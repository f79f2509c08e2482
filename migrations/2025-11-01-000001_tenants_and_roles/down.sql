DROP FUNCTION alphapulse_enable_tenant_rls(regclass);
DROP TABLE tenants;
REVOKE USAGE ON SCHEMA public FROM alphapulse_tenant, alphapulse_platform;
-- Other databases of the cluster may still use the roles: drop them only when nothing does.
DO $$
BEGIN
    BEGIN
        DROP ROLE IF EXISTS alphapulse_tenant;
    EXCEPTION WHEN dependent_objects_still_exist THEN
        RAISE NOTICE 'alphapulse_tenant still used elsewhere; kept';
    END;
    BEGIN
        DROP ROLE IF EXISTS alphapulse_platform;
    EXCEPTION WHEN dependent_objects_still_exist THEN
        RAISE NOTICE 'alphapulse_platform still used elsewhere; kept';
    END;
END
$$;
