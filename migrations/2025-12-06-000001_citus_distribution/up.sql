-- Scale-out on Citus (docs/scale-out.md). Runs on plain PostgreSQL and on Citus.
--
-- 1. Both engines: the fail-closed policies lose their (SELECT ...) wrapper. Citus refuses a
--    policy expression that contains a sub-query ("unexpected non-SELECT command in SubLink"),
--    at CREATE POLICY and when distributing a table that has one. The condition stays
--    fail-closed (no or an empty app.current_tenant_id matches no row); current_setting() is
--    STABLE, so PostgreSQL still evaluates it once per scan as an index condition.
-- 2. Citus only (the `citus` extension is present): the application roles get LOGIN (Citus
--    connects to the workers as the role a transaction runs as; their credentials are the
--    deployment's: .pgpass or pg_dist_authinfo, no password is set here), the platform and
--    shared tables become reference tables (a copy on every node: `tenants`, `users` with its
--    global unique e-mail, `market_candles`), and every other table with forced RLS and a
--    tenant_id is distributed by tenant_id, co-located with `orders`. Policies exist before
--    the tables are distributed, so Citus copies them into every shard; tables created by later
--    migrations are distributed by alphapulse_enable_tenant_rls(), after their policies.
-- On plain PostgreSQL step 2 does nothing.

-- The four fail-closed policies of a tenant table (replacing any of the same names).
CREATE FUNCTION alphapulse_tenant_policies(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cond text := 'tenant_id = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid';
BEGIN
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation_select ON %s', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation_insert ON %s', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation_update ON %s', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation_delete ON %s', tbl);
    EXECUTE format('CREATE POLICY tenant_isolation_select ON %s FOR SELECT USING (%s)', tbl, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_insert ON %s FOR INSERT WITH CHECK (%s)', tbl, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl, cond, cond);
    EXECUTE format('CREATE POLICY tenant_isolation_delete ON %s FOR DELETE USING (%s)', tbl, cond);
END
$$;

-- On Citus: distributes a tenant table by tenant_id, co-located with the other tenant tables
-- (the first one distributed is the anchor). Does nothing on plain PostgreSQL, or for a table
-- Citus already manages (a reference table, say).
CREATE FUNCTION alphapulse_distribute_tenant_table(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    anchor text;
    managed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    -- Distributed already, or a reference table. (A table with a foreign key to a reference
    -- table is a "Citus local table" until distributed: partmethod 'n', repmodel 's'.)
    EXECUTE $q$SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1
                              AND (partmethod = 'h' OR repmodel = 't'))$q$
        INTO managed USING tbl;
    IF managed THEN
        RETURN;
    END IF;
    EXECUTE $q$SELECT min(logicalrelid::regclass::text) FROM pg_dist_partition
               WHERE partmethod = 'h' AND logicalrelid = 'orders'::regclass$q$ INTO anchor;
    EXECUTE 'SELECT create_distributed_table($1, ''tenant_id'', colocate_with => $2)'
        USING tbl, coalesce(anchor, 'default');
END
$$;

-- Forced RLS and the four fail-closed policies, then (on Citus) distribution: the order Citus
-- needs for the policies to reach every shard.
CREATE OR REPLACE FUNCTION alphapulse_enable_tenant_rls(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    PERFORM alphapulse_tenant_policies(tbl);
    PERFORM alphapulse_distribute_tenant_table(tbl);
END
$$;

-- Step 1: every table that has the tenant policies gets them without the sub-query.
SELECT alphapulse_tenant_policies(c.oid)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public'
   AND EXISTS (SELECT 1 FROM pg_policy p
                WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation_select');

DROP POLICY tenant_self_select ON tenants;
CREATE POLICY tenant_self_select ON tenants FOR SELECT
    USING (id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);

-- Step 2, on Citus only.
DO $$
DECLARE
    ref text;
    tbl regclass;
    fk record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;

    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'alphapulse_tenant') THEN
        ALTER ROLE alphapulse_tenant LOGIN;
    END IF;
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'alphapulse_platform') THEN
        ALTER ROLE alphapulse_platform LOGIN;
    END IF;
    -- A write to a reference table (users) that references another reference table (tenants)
    -- makes Citus lock the referenced table's shard on the first worker through
    -- lock_shard_resources(), which demands a write privilege on the *referenced* table; the
    -- tenant role may only read tenants. Rather than granting writes on tenants, the role skips
    -- that check, which only guards that internal advisory lock (a denial-of-service concern),
    -- not any row: privileges and RLS on every table stay as they are. Needs a superuser.
    -- (Roles are cluster-wide: left alone when another database's migration set it already.)
    IF NOT EXISTS (
        SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
         WHERE r.rolname = 'alphapulse_tenant' AND s.setdatabase = 0
           AND 'citus.skip_advisory_lock_permission_checks=on' = ANY (s.setconfig)
    ) THEN
        ALTER ROLE alphapulse_tenant SET citus.skip_advisory_lock_permission_checks = on;
    END IF;

    -- A table with a foreign key to a reference table becomes a "Citus local table", and a
    -- Citus local table cannot reference a distributed one nor be referenced by one: take the
    -- foreign keys off while the tables are placed, then put them back (Citus checks them on
    -- every shard as they are added).
    CREATE TEMPORARY TABLE alphapulse_saved_fks ON COMMIT DROP AS
        SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS def
          FROM pg_constraint
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace;
    FOR fk IN SELECT * FROM alphapulse_saved_fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;

    FOREACH ref IN ARRAY ARRAY['tenants', 'users', 'market_candles'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition
                        WHERE logicalrelid = ref::regclass AND repmodel = 't') THEN
            PERFORM create_reference_table(ref);
        END IF;
    END LOOP;

    -- The anchor of the co-location group first, then every other table under forced RLS
    -- with a tenant_id.
    PERFORM alphapulse_distribute_tenant_table('orders');
    FOR tbl IN
        SELECT c.oid::regclass
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
           AND EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
         ORDER BY c.relname
    LOOP
        PERFORM alphapulse_distribute_tenant_table(tbl);
    END LOOP;

    FOR fk IN SELECT * FROM alphapulse_saved_fks LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
    END LOOP;

    IF EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
           AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid
                              AND (d.partmethod = 'h' OR d.repmodel = 't'))
    ) THEN
        RAISE EXCEPTION 'a table under row-level security was left undistributed';
    END IF;
END
$$;
