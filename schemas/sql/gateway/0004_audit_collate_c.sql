-- 0004_audit_collate_c.sql — byte order for the audit trail's identifiers.
--
-- The indexed text columns of audit.event hold identifiers (chain, user,
-- organization, patient and resource references, request ids), never words:
-- no search or report needs a language's collation.  With the database's
-- default collation every comparison in those indexes goes through the C
-- library's strcoll() (C.UTF-8 in our clusters; zh_CN.UTF-8 or en_US.UTF-8
-- at a hospital, which are slower still), and the GIN index on entities
-- compares some fifty of them per row of a federated search whenever its
-- pending list is merged.  In byte order ("C", as the adapter store's index
-- tables already are) one ~18 KB row of a 30-member search cost about a
-- third less server CPU (docs/design/storage.md, "Measurements").
--
-- Only the collation changes, so rows are not rewritten; the indexes on
-- these columns are rebuilt, on the parent and every partition.  The view
-- over every column has to be dropped and made again around it, and a
-- changed column type forgets its compression, so entities gets LZ4 back
-- as in 0003 (where the server has it).

DROP VIEW audit.event_json;

ALTER TABLE audit.event
    ALTER COLUMN chain_id    TYPE text   COLLATE "C",
    ALTER COLUMN agent_user  TYPE text   COLLATE "C",
    ALTER COLUMN agent_org   TYPE text   COLLATE "C",
    ALTER COLUMN patient_ref TYPE text   COLLATE "C",
    ALTER COLUMN entities    TYPE text[] COLLATE "C",
    ALTER COLUMN request_id  TYPE text   COLLATE "C";

DO $$
DECLARE
    part regclass;
BEGIN
    BEGIN
        ALTER TABLE audit.event ALTER COLUMN entities SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN
        RETURN;
    END;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'audit.event'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN entities SET COMPRESSION lz4', part);
    END LOOP;
END
$$;

CREATE VIEW audit.event_json AS
    SELECT e.*, e.event_text::jsonb AS event FROM audit.event e;
ALTER VIEW audit.event_json OWNER TO fhirgate_owner;
GRANT SELECT ON audit.event_json TO fhirgate_service;
