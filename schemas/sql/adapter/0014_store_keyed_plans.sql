-- 0014_store_keyed_plans.sql — the write path's statements are keyed look-ups
-- of a handful of rows; make their cached plans say so.
--
-- store.match() and store.write() join arrays passed in (unnest) against the
-- store's tables, and delete index rows by `res_pk = ANY (…)`.  Their plans are
-- generic (force_generic_plan, 0012), and a generic plan counts an unnest as
-- 100 rows: for tables of some ten to a few hundred thousand rows the planner
-- then prefers a sequential scan and a hash join over 100 index probes.  Each
-- message paid a scan of store.resource, idx_token and idx_reference — 7 ms of
-- PostgreSQL CPU per message in the ingest benchmark at 50,000 resources —
-- and the cost grew with the store until it was large enough for the
-- estimate to flip.  A real batch is a few rows, so within these two
-- functions scans and hash/merge joins are switched off (the planner falls
-- back to them only where no index exists, which is never the case here).

DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'store' AND p.proname IN ('match', 'write') LOOP
        EXECUTE format('ALTER FUNCTION %s SET enable_seqscan = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_hashjoin = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_mergejoin = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_bitmapscan = off', f.sig);
    END LOOP;
END
$$;
