-- 0013_store_grants.sql — ownership of the adapter store and what the
-- adapter daemon (fhirgate_adapter_service, login fhirgate_adapter_app) may do.
--
-- The store keeps history and an ingest ledger, so the daemon needs
-- SELECT/INSERT/UPDATE on them; DELETE only where the store itself removes
-- rows (superseded index rows of a resource being rewritten).  Schema
-- changes stay with the owner role.

ALTER SCHEMA store OWNER TO fhirgate_adapter_owner;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'store' AND c.relkind IN ('r', 'S') LOOP
        EXECUTE format('ALTER %s store.%I OWNER TO fhirgate_adapter_owner',
                       CASE t.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, t.relname);
    END LOOP;
    FOR t IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'store' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO fhirgate_adapter_owner', t.sig);
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA store TO fhirgate_adapter_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA store TO fhirgate_adapter_service;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA store TO fhirgate_adapter_service;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA store TO fhirgate_adapter_service;
