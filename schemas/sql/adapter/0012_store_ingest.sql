-- 0012_store_ingest.sql — the ingest ledger and the server-side halves of
-- a Bundle write (adapters/store/apply.c).
--
-- A write transaction is: store.take_clock(n) first (serializes writers and
-- hands out meta.lastUpdated values), then per Bundle store.match() (one
-- round trip: ledger replay, identifier matches, id lookups, new keys) and
-- store.write() (one round trip: history, current rows, index rows, ledger).
-- PL/pgSQL keeps the plans of the statements inside for the session, so a
-- Bundle costs two calls and no planning.

-- One row per received message (HL7 v2: sending application/facility +
-- MSH-10), committed with the data it produced: the same message twice
-- changes nothing and gets the answer stored here.
CREATE TABLE IF NOT EXISTS store.ingest_ledger (
    source       text NOT NULL CHECK (octet_length(source) BETWEEN 1 AND 512),
    message_id   text NOT NULL CHECK (octet_length(message_id) BETWEEN 1 AND 512),
    received_at  timestamptz NOT NULL DEFAULT now(),
    status       integer NOT NULL,         -- HTTP-style outcome: 200 applied, 4xx/5xx refused
    issue_code   text,                     -- failure: OperationOutcome issue code,
    location     text,                     --   where (Bundle.entry[n]…), client-safe
    message      text,                     --   and reason (never a value from the message)
    message_hash bytea,                    -- SHA-256 of the message as received, if given
    ack          text,                     -- the acknowledgement the adapter sent
    result       jsonb,                    -- [{"type","id","version","action","status"}, …]
    PRIMARY KEY (source, message_id)
);
-- Retention: old rows are removed by received_at.
CREATE INDEX IF NOT EXISTS ingest_ledger_received ON store.ingest_ledger (received_at);

-- Take n consecutive meta.lastUpdated values (microseconds) and hold the
-- writers' lock until the transaction ends.
CREATE OR REPLACE FUNCTION store.take_clock(n integer) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    UPDATE store.clock
       SET last_us = GREATEST(last_us + 1,
                              (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
                     + GREATEST(n, 1) - 1
    RETURNING last_us - GREATEST(n, 1) + 1
$$;

-- Everything a Bundle needs to know before it is decided, in one call.
-- Rows: kind 'l' = the ledger already has this message (ord = its status,
-- info = JSON of the stored answer; nothing else follows); 'i' = an
-- identifier query (p_iq_*) matched a live resource; 'r' = a Type/id
-- lookup (p_id_*) found a resource (live or deleted); 'p' = a new key.
-- Identifier query forms: 'c' any system, 's' system|value, 'n' |value.
CREATE OR REPLACE FUNCTION store.match(
    p_source text, p_message_id text,
    p_iq_ord integer[], p_iq_type text[], p_iq_system text[], p_iq_value text[], p_iq_form text[],
    p_id_ord integer[], p_id_type text[], p_id_id text[],
    p_n_pk integer)
RETURNS TABLE (kind text, ord integer, pk bigint, id text, version integer, hash bytea,
               deleted boolean, last_updated bigint, info text)
LANGUAGE plpgsql
-- The statements inside are the same every call: plan them once.
SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    IF p_source IS NOT NULL THEN
        RETURN QUERY
            SELECT 'l', l.status, NULL::bigint, NULL::text, NULL::integer, l.message_hash,
                   NULL::boolean, NULL::bigint,
                   jsonb_build_object('issue', l.issue_code, 'where', l.location,
                                      'msg', l.message, 'ack', l.ack, 'result', l.result)::text
              FROM store.ingest_ledger l
             WHERE l.source = p_source AND l.message_id = p_message_id;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    IF cardinality(p_iq_ord) > 0 THEN
        RETURN QUERY
        SELECT DISTINCT 'i', q.q_ord, r.pk, r.id::text, r.version, r.content_hash, r.deleted,
               r.last_updated, NULL::text
          FROM unnest(p_iq_ord, p_iq_type, p_iq_system, p_iq_value, p_iq_form)
               AS q(q_ord, q_type, q_system, q_value, q_form)
          JOIN store.identifier i
            ON i.res_type = q.q_type AND left(i.value, 100) = left(q.q_value, 100)
           AND i.value = q.q_value
           AND (q.q_form = 'c' OR (q.q_form = 's' AND i.system = q.q_system)
                OR (q.q_form = 'n' AND i.system IS NULL))
          JOIN store.resource r ON r.pk = i.res_pk AND NOT r.deleted;
    END IF;
    IF cardinality(p_id_ord) > 0 THEN
        RETURN QUERY
        SELECT 'r', q.q_ord, r.pk, r.id::text, r.version, r.content_hash, r.deleted,
               r.last_updated, NULL::text
          FROM unnest(p_id_ord, p_id_type, p_id_id) AS q(q_ord, q_type, q_id)
          JOIN store.resource r ON r.res_type = q.q_type AND r.id = q.q_id;
    END IF;
    RETURN QUERY
        SELECT 'p', g::integer, nextval('store.resource_pk_seq'), NULL::text, NULL::integer,
               NULL::bytea, NULL::boolean, NULL::bigint, NULL::text
          FROM generate_series(1, p_n_pk) AS g;
END
$$;

-- Write one Bundle's decided changes.  Resource arrays are parallel (op 'c'
-- create, 'u' update, 'd' delete); the resources themselves come last, one
-- jsonb argument each (NULL for a delete), so that each is parsed once.  Index rows name their
-- resource by its 1-based position in those arrays.  An update or delete
-- must replace version p_version - 1 exactly; anything else means another
-- writer got there first (40001), and the Bundle fails alone.
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
        DELETE FROM store.idx_token WHERE res_pk = ANY (replaced);
        DELETE FROM store.idx_string WHERE res_pk = ANY (replaced);
        DELETE FROM store.idx_date WHERE res_pk = ANY (replaced);
        DELETE FROM store.idx_reference WHERE res_pk = ANY (replaced);
        DELETE FROM store.idx_quantity WHERE res_pk = ANY (replaced);
        DELETE FROM store.idx_uri WHERE res_pk = ANY (replaced);
        DELETE FROM store.identifier WHERE res_pk = ANY (replaced);
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
    -- Index rows; a statement only where there are rows (each costs a call).
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
    IF lg_source IS NOT NULL THEN
        INSERT INTO store.ingest_ledger (source, message_id, status, message_hash, ack, result)
        VALUES (lg_source, lg_message_id, lg_status, lg_hash, lg_ack, lg_result);
    END IF;
    RETURN coalesce(cardinality(p_pk), 0);
END
$$;
