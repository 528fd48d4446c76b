-- 0001_roles.sql — roles of an adapter's database (one per member hospital).
--
--   fhirgate_adapter_owner    owns the adapter store's objects (NOLOGIN).
--   fhirgate_adapter_service  what the adapter daemon may do (NOLOGIN group);
--                             later migrations grant it per table.
--   fhirgate_adapter_app      the adapter daemon's login, member of the service role.
--
-- Roles are cluster-wide: create them only when missing, tolerating a
-- concurrent creator (see gateway/0001_roles.sql).

DO $$
DECLARE
    r text;
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the adapter database must use the UTF8 encoding';
    END IF;
    FOREACH r IN ARRAY ARRAY['fhirgate_adapter_owner', 'fhirgate_adapter_service'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_adapter_app') THEN
        BEGIN
            CREATE ROLE fhirgate_adapter_app LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

GRANT fhirgate_adapter_service TO fhirgate_adapter_app;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO fhirgate_adapter_owner',
                   current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO fhirgate_adapter_service',
                   current_database());
END
$$;

GRANT USAGE ON SCHEMA fhirgate_meta TO fhirgate_adapter_service;
GRANT SELECT ON fhirgate_meta.migration TO fhirgate_adapter_service;
