-- 0003_audit_lz4.sql — compress the stored AuditEvent with LZ4.
--
-- A federated search names every returned resource, so event_text is often
-- 10-20 KB and always compressed out of line, and the row is still over the
-- TOAST target after that, so the entities array is compressed too.  With
-- the default (pglz) compression alone was about a tenth of PostgreSQL's
-- work per audited request in the gateway benchmark; LZ4 does the same job
-- for a fraction of the CPU at a similar ratio on this repetitive text
-- (docs/design/storage.md, "Measurements").  Existing rows keep their
-- compression; the setting is per column, so the parent, every existing
-- partition and (inherited from the parent) every future one take it.  A
-- server built without LZ4 keeps pglz: the trail is the same, only slower to
-- write.
DO $$
DECLARE
    part regclass;
BEGIN
    BEGIN
        ALTER TABLE audit.event ALTER COLUMN event_text SET COMPRESSION lz4,
                                ALTER COLUMN entities SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported THEN
        RAISE NOTICE 'this PostgreSQL has no LZ4; the audit trail stays pglz';
        RETURN;
    END;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                 WHERE inhparent = 'audit.event'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN event_text SET COMPRESSION lz4, '
                       'ALTER COLUMN entities SET COMPRESSION lz4', part);
    END LOOP;
END
$$;
