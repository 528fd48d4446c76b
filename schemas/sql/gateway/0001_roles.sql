-- 0001_roles.sql — roles of the gateway database.
--
--   fhirgate_owner    owns the schemas, tables and functions (NOLOGIN).
--   fhirgate_service  what the daemons may do (NOLOGIN group).  Each migration
--                     grants it exactly what it needs; on the audit tables only
--                     SELECT and INSERT (no UPDATE, DELETE or TRUNCATE).
--   fhirgate_app      the daemons' login, member of fhirgate_service.  Give it a
--                     password (ALTER ROLE fhirgate_app PASSWORD '…') or use peer
--                     or certificate authentication in pg_hba.conf.
--
-- Roles belong to the whole cluster, not to one database: another database of
-- the same cluster may have created them already, possibly at the same moment.

DO $$
DECLARE
    r text;
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the gateway database must use the UTF8 encoding';
    END IF;
    FOREACH r IN ARRAY ARRAY['fhirgate_owner', 'fhirgate_service'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_app') THEN
        BEGIN
            CREATE ROLE fhirgate_app LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

GRANT fhirgate_service TO fhirgate_app;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO fhirgate_owner',
                   current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO fhirgate_service', current_database());
END
$$;

-- The daemons check at start-up that the schema is current.
GRANT USAGE ON SCHEMA fhirgate_meta TO fhirgate_service;
GRANT SELECT ON fhirgate_meta.migration TO fhirgate_service;
