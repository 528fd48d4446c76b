-- 0016_store_reindex.sql — rebuilding the search index when what it indexes
-- changes.
--
-- Index rows are derived from each resource by the search parameter table
-- (fhir/search/params_r4.c) and the extraction (adapters/store/index.c).  A
-- release that adds parameters (Goal, FamilyMemberHistory and CareTeam
-- gained theirs) or changes the extraction leaves the resources stored
-- before it without the new rows: they exist but no search finds them.  As
-- HAPI FHIR reindexes when a SearchParameter changes, the adapter compares
-- the fingerprint of what its code indexes with the one recorded here and,
-- when they differ, rewrites every resource's index rows in the background
-- (adapters/store/reindex.c, adapters/daemon/reindex.c), resuming from
-- `next_pk` after a restart.

-- The one row: the fingerprint the stored index rows follow ('' when not
-- known: a store that held resources before this migration), and a pass in
-- progress towards `pending`, done for every pk below `next_pk`.
CREATE TABLE IF NOT EXISTS store.index_state (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    fingerprint  text NOT NULL,
    pending      text,
    next_pk      bigint NOT NULL DEFAULT 0,
    started_at   timestamptz,
    finished_at  timestamptz
);

-- The index rows of the resources p_pk (types p_type); rows name their
-- resource by its 1-based position in those arrays.  Shared by
-- store.write() and store.reindex().
CREATE OR REPLACE FUNCTION store.put_index(
    p_pk bigint[], p_type text[],
    tk_res integer[], tk_param text[], tk_system text[], tk_code text[], tk_text text[],
    tk_text_raw text[], tk_of_type text[],
    st_res integer[], st_param text[], st_value text[], st_norm text[],
    dt_res integer[], dt_param text[], dt_low bigint[], dt_high bigint[],
    rf_res integer[], rf_param text[], rf_type text[], rf_id text[], rf_version text[],
    rf_url text[], rf_id_system text[], rf_id_value text[],
    qt_res integer[], qt_param text[], qt_low numeric[], qt_high numeric[],
    qt_low_open boolean[], qt_high_open boolean[], qt_system text[], qt_code text[],
    qt_unit text[],
    ur_res integer[], ur_param text[], ur_value text[],
    id_res integer[], id_system text[], id_value text[])
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    -- a statement only where there are rows (each costs a call)
    IF cardinality(tk_res) > 0 THEN
        INSERT INTO store.idx_token (res_pk, res_type, param, system, code, text_norm,
                                     text_raw, of_type)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_system, t.t_code, t.t_text,
               t.t_text_raw, t.t_of_type::jsonb
          FROM unnest(tk_res, tk_param, tk_system, tk_code, tk_text, tk_text_raw, tk_of_type)
               AS t(t_r, t_param, t_system, t_code, t_text, t_text_raw, t_of_type);
    END IF;
    IF cardinality(st_res) > 0 THEN
        INSERT INTO store.idx_string (res_pk, res_type, param, value, norm)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_value, t.t_norm
          FROM unnest(st_res, st_param, st_value, st_norm) AS t(t_r, t_param, t_value, t_norm);
    END IF;
    IF cardinality(dt_res) > 0 THEN
        INSERT INTO store.idx_date (res_pk, res_type, param, low, high)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_low, t.t_high
          FROM unnest(dt_res, dt_param, dt_low, dt_high) AS t(t_r, t_param, t_low, t_high);
    END IF;
    IF cardinality(rf_res) > 0 THEN
        INSERT INTO store.idx_reference (res_pk, res_type, param, ref_type, ref_id, ref_version,
                                         ref_url, id_system, id_value)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_type, t.t_id, t.t_version, t.t_url,
               t.t_id_system, t.t_id_value
          FROM unnest(rf_res, rf_param, rf_type, rf_id, rf_version, rf_url, rf_id_system,
                      rf_id_value)
               AS t(t_r, t_param, t_type, t_id, t_version, t_url, t_id_system, t_id_value);
    END IF;
    IF cardinality(qt_res) > 0 THEN
        INSERT INTO store.idx_quantity (res_pk, res_type, param, low, high, low_open, high_open,
                                        system, code, unit)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_low, t.t_high, t.t_low_open,
               t.t_high_open, t.t_system, t.t_code, t.t_unit
          FROM unnest(qt_res, qt_param, qt_low, qt_high, qt_low_open, qt_high_open, qt_system,
                      qt_code, qt_unit)
               AS t(t_r, t_param, t_low, t_high, t_low_open, t_high_open, t_system, t_code,
                    t_unit);
    END IF;
    IF cardinality(ur_res) > 0 THEN
        INSERT INTO store.idx_uri (res_pk, res_type, param, value)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_param, t.t_value
          FROM unnest(ur_res, ur_param, ur_value) AS t(t_r, t_param, t_value);
    END IF;
    IF cardinality(id_res) > 0 THEN
        INSERT INTO store.identifier (res_pk, res_type, system, value)
        SELECT p_pk[t.t_r], p_type[t.t_r], t.t_system, t.t_value
          FROM unnest(id_res, id_system, id_value) AS t(t_r, t_system, t_value);
    END IF;
END
$$;

-- store.write() of 0012, its index rows now by store.put_index().
CREATE OR REPLACE FUNCTION store.write(
    p_op text[], p_pk bigint[], p_type text[], p_id text[], p_version integer[],
    p_ts bigint[], p_hash text[],
    tk_res integer[], tk_param text[], tk_system text[], tk_code text[], tk_text text[],
    tk_text_raw text[], tk_of_type text[],
    st_res integer[], st_param text[], st_value text[], st_norm text[],
    dt_res integer[], dt_param text[], dt_low bigint[], dt_high bigint[],
    rf_res integer[], rf_param text[], rf_type text[], rf_id text[], rf_version text[],
    rf_url text[], rf_id_system text[], rf_id_value text[],
    qt_res integer[], qt_param text[], qt_low numeric[], qt_high numeric[],
    qt_low_open boolean[], qt_high_open boolean[], qt_system text[], qt_code text[],
    qt_unit text[],
    ur_res integer[], ur_param text[], ur_value text[],
    id_res integer[], id_system text[], id_value text[],
    lg_source text, lg_message_id text, lg_status integer, lg_hash bytea, lg_ack text,
    lg_result jsonb, VARIADIC p_content jsonb[])
RETURNS integer
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    replaced bigint[];
    n integer;
BEGIN
    SELECT array_agg(w.w_pk) INTO replaced
      FROM unnest(p_op, p_pk) AS w(w_op, w_pk) WHERE w.w_op <> 'c';
    IF replaced IS NOT NULL THEN
        INSERT INTO store.resource_history (pk, version, last_updated, deleted, content)
        SELECT r.pk, r.version, r.last_updated, r.deleted, r.content
          FROM unnest(p_op, p_pk, p_version) AS w(w_op, w_pk, w_version)
          JOIN store.resource r ON r.pk = w.w_pk AND r.version = w.w_version - 1
         WHERE w.w_op <> 'c';
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> cardinality(replaced) THEN
            RAISE EXCEPTION 'resource version changed concurrently' USING ERRCODE = '40001';
        END IF;
        UPDATE store.resource r
           SET version = w.w_version, last_updated = w.w_ts, deleted = (w.w_op = 'd'),
               content_hash = decode(w.w_hash, 'hex'), content = w.w_content
          FROM unnest(p_op, p_pk, p_version, p_ts, p_hash, p_content)
               AS w(w_op, w_pk, w_version, w_ts, w_hash, w_content)
         WHERE r.pk = w.w_pk AND w.w_op <> 'c';
        PERFORM store.drop_index(replaced);
    END IF;
    IF 'c' = ANY (p_op) THEN
        INSERT INTO store.resource (pk, res_type, id, version, last_updated, deleted,
                                    content_hash, content)
        SELECT u.w_pk, u.w_type, u.w_id, u.w_version, u.w_ts, false, decode(u.w_hash, 'hex'),
               u.w_content
          FROM unnest(p_op, p_pk, p_type, p_id, p_version, p_ts, p_hash, p_content)
               AS u(w_op, w_pk, w_type, w_id, w_version, w_ts, w_hash, w_content)
         WHERE u.w_op = 'c';
    END IF;
    PERFORM store.put_index(p_pk, p_type, tk_res, tk_param, tk_system, tk_code, tk_text,
                            tk_text_raw, tk_of_type, st_res, st_param, st_value, st_norm,
                            dt_res, dt_param, dt_low, dt_high, rf_res, rf_param, rf_type, rf_id,
                            rf_version, rf_url, rf_id_system, rf_id_value, qt_res, qt_param,
                            qt_low, qt_high, qt_low_open, qt_high_open, qt_system, qt_code,
                            qt_unit, ur_res, ur_param, ur_value, id_res, id_system, id_value);
    IF lg_source IS NOT NULL THEN
        INSERT INTO store.ingest_ledger (source, message_id, status, message_hash, ack, result)
        VALUES (lg_source, lg_message_id, lg_status, lg_hash, lg_ack, lg_result);
    END IF;
    RETURN coalesce(cardinality(p_pk), 0);
END
$$;

-- Remove the index rows of the resources p_pk.
CREATE OR REPLACE FUNCTION store.drop_index(p_pk bigint[])
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    DELETE FROM store.idx_token WHERE res_pk = ANY (p_pk);
    DELETE FROM store.idx_string WHERE res_pk = ANY (p_pk);
    DELETE FROM store.idx_date WHERE res_pk = ANY (p_pk);
    DELETE FROM store.idx_reference WHERE res_pk = ANY (p_pk);
    DELETE FROM store.idx_quantity WHERE res_pk = ANY (p_pk);
    DELETE FROM store.idx_uri WHERE res_pk = ANY (p_pk);
    DELETE FROM store.identifier WHERE res_pk = ANY (p_pk);
END
$$;

-- Rewrite the index rows of the resources p_pk and move the pass on to
-- p_next_pk; the caller holds the writers' lock (store.clock).
CREATE OR REPLACE FUNCTION store.reindex(
    p_pending text, p_next_pk bigint, p_pk bigint[], p_type text[],
    tk_res integer[], tk_param text[], tk_system text[], tk_code text[], tk_text text[],
    tk_text_raw text[], tk_of_type text[],
    st_res integer[], st_param text[], st_value text[], st_norm text[],
    dt_res integer[], dt_param text[], dt_low bigint[], dt_high bigint[],
    rf_res integer[], rf_param text[], rf_type text[], rf_id text[], rf_version text[],
    rf_url text[], rf_id_system text[], rf_id_value text[],
    qt_res integer[], qt_param text[], qt_low numeric[], qt_high numeric[],
    qt_low_open boolean[], qt_high_open boolean[], qt_system text[], qt_code text[],
    qt_unit text[],
    ur_res integer[], ur_param text[], ur_value text[],
    id_res integer[], id_system text[], id_value text[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM store.drop_index(p_pk);
    PERFORM store.put_index(p_pk, p_type, tk_res, tk_param, tk_system, tk_code, tk_text,
                            tk_text_raw, tk_of_type, st_res, st_param, st_value, st_norm,
                            dt_res, dt_param, dt_low, dt_high, rf_res, rf_param, rf_type, rf_id,
                            rf_version, rf_url, rf_id_system, rf_id_value, qt_res, qt_param,
                            qt_low, qt_high, qt_low_open, qt_high_open, qt_system, qt_code,
                            qt_unit, ur_res, ur_param, ur_value, id_res, id_system, id_value);
    UPDATE store.index_state SET next_pk = p_next_pk WHERE pending = p_pending;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reindex pass superseded' USING ERRCODE = '40001';
    END IF;
END
$$;

-- The keyed plans of 0014, which CREATE OR REPLACE reset for store.write().
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'store' AND p.proname IN ('write', 'drop_index') LOOP
        EXECUTE format('ALTER FUNCTION %s SET enable_seqscan = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_hashjoin = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_mergejoin = off', f.sig);
        EXECUTE format('ALTER FUNCTION %s SET enable_bitmapscan = off', f.sig);
    END LOOP;
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'store' AND p.proname IN ('put_index', 'drop_index', 'reindex')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO fhirgate_adapter_owner', f.sig);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO fhirgate_adapter_service', f.sig);
    END LOOP;
END
$$;

ALTER TABLE store.index_state OWNER TO fhirgate_adapter_owner;
GRANT SELECT, INSERT, UPDATE ON store.index_state TO fhirgate_adapter_service;
