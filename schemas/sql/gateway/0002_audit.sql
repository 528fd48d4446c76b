-- 0002_audit.sql — the tamper-evident, append-only audit trail.
--
-- The design, the canonical form hashed into every row and the checkpoint
-- signatures are specified in docs/design/storage.md; audit.canonical() and
-- audit.checkpoint_canonical() below are reference implementations of them
-- (the gateway computes the same bytes in C; the tests check both agree).

CREATE SCHEMA audit AUTHORIZATION fhirgate_owner;
GRANT USAGE ON SCHEMA audit TO fhirgate_service;

-- One row per AuditEvent.  Rows form hash chains: one chain per gateway node
-- (chain_id), numbered 1, 2, 3, … without gaps; each row carries the hash of
-- its predecessor in the chain (64 zeros for seq 1).
CREATE TABLE audit.event (
    chain_id    text        NOT NULL,
    seq         bigint      NOT NULL,
    recorded_at timestamptz NOT NULL,
    event_text  text        NOT NULL,  -- the AuditEvent, canonical JSON text (hashed);
                                       -- as jsonb through the view audit.event_json
    action      text,                  -- AuditEvent.action (C R U D E)
    subtype     text,                  -- interaction: read, search-type, login, …
    outcome     text,                  -- AuditEvent.outcome (0 4 8 12)
    http_status integer,
    agent_user  text,                  -- who
    agent_role  text,
    agent_org   text,                  -- the member organization acting
    patient_ref text,                  -- whose record
    entities    text[],                -- what was returned or touched
    purpose     text,                  -- purpose of use (TREAT, ETREAT, …)
    break_glass boolean     NOT NULL,
    reason      text,                  -- break-the-glass or denial reason
    request_id  text,
    node        text,                  -- gateway node that served the request
    client_addr text,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    PRIMARY KEY (chain_id, seq, recorded_at)
) PARTITION BY RANGE (recorded_at);
ALTER TABLE audit.event OWNER TO fhirgate_owner;

CREATE INDEX event_time_idx ON audit.event (recorded_at);
CREATE INDEX event_patient_idx ON audit.event (patient_ref, recorded_at);
CREATE INDEX event_agent_idx ON audit.event (agent_user, recorded_at);
CREATE INDEX event_member_idx ON audit.event (agent_org, recorded_at);
CREATE INDEX event_entities_idx ON audit.event USING gin (entities);
CREATE INDEX event_request_idx ON audit.event (request_id);
CREATE INDEX event_break_glass_idx ON audit.event (recorded_at) WHERE break_glass;

-- The head of each chain: last sequence number and hash.  The writer locks
-- this row (SELECT … FOR UPDATE) for the length of each group-commit
-- transaction, which serializes writers of one chain (one node; or two
-- processes that were given the same chain by mistake) without touching
-- other chains.  Verification never trusts it: it only cross-checks it.
CREATE TABLE audit.chain (
    chain_id      text        PRIMARY KEY,
    last_seq      bigint      NOT NULL DEFAULT 0,
    last_hash     text        NOT NULL DEFAULT repeat('0', 64),
    last_recorded timestamptz NOT NULL DEFAULT '-infinity',
    created_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE audit.chain OWNER TO fhirgate_owner;

-- Signed checkpoints: ECDSA P-256 / SHA-256 over audit.checkpoint_canonical().
-- kind: interval (every N rows or T seconds), archive (at the last row of a
-- chain before an archived and dropped month), shutdown.
CREATE TABLE audit.checkpoint (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain_id  text        NOT NULL,
    seq       bigint      NOT NULL,
    hash      text        NOT NULL,
    row_time  timestamptz NOT NULL,   -- recorded_at of row seq
    signed_at timestamptz NOT NULL,
    kind      text        NOT NULL CHECK (kind IN ('interval', 'archive', 'shutdown')),
    key_id    text        NOT NULL,   -- SHA-256 (hex) of the public key, DER SubjectPublicKeyInfo
    signature bytea       NOT NULL    -- DER ECDSA-Sig-Value
);
ALTER TABLE audit.checkpoint OWNER TO fhirgate_owner;
CREATE INDEX checkpoint_chain_idx ON audit.checkpoint (chain_id, seq);

-- Public keys of the signing keys seen so far (for convenience: an auditor
-- should verify with a key obtained independently, `audit verify --key`).
CREATE TABLE audit.signing_key (
    key_id     text        PRIMARY KEY,
    public_pem text        NOT NULL,
    first_used timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE audit.signing_key OWNER TO fhirgate_owner;

-- Months archived and dropped (`fhirgate audit archive`).
CREATE TABLE audit.archive (
    month       date        PRIMARY KEY,
    partition   text        NOT NULL,
    row_count   bigint      NOT NULL,
    file_name   text,
    file_sha256 text,
    archived_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE audit.archive OWNER TO fhirgate_owner;

-- Defence in depth: even the owner cannot change or remove audit rows
-- through SQL; retention drops whole partitions after archiving them.
CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = '42501';
END
$$;
ALTER FUNCTION audit.refuse_change() OWNER TO fhirgate_owner;

CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON audit.event
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON audit.event
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER checkpoint_append_only BEFORE UPDATE OR DELETE ON audit.checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER checkpoint_no_truncate BEFORE TRUNCATE ON audit.checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- Monthly partitions (UTC months), created ahead of time by the gateway
-- through this function: the service role may not create tables itself.
CREATE FUNCTION audit.ensure_partitions(p_from timestamptz, p_months integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m    timestamp;
    part text;
    made integer := 0;
BEGIN
    IF p_from IS NULL OR p_months IS NULL OR p_months < 1 OR p_months > 24 THEN
        RAISE EXCEPTION 'months must be between 1 and 24' USING ERRCODE = '22023';
    END IF;
    -- one creator at a time, whichever node asks ("fhiraudp")
    PERFORM pg_advisory_xact_lock(7379496513839056240);
    m := date_trunc('month', p_from AT TIME ZONE 'UTC');
    FOR i IN 1 .. p_months LOOP
        part := 'event_' || to_char(m, 'YYYYMM');
        IF to_regclass('audit.' || part) IS NULL
           AND NOT EXISTS (SELECT FROM audit.archive a WHERE a.month = m::date) THEN
            EXECUTE format('CREATE TABLE audit.%I PARTITION OF audit.event '
                           'FOR VALUES FROM (%L) TO (%L)',
                           part, m AT TIME ZONE 'UTC', (m + interval '1 month') AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        m := m + interval '1 month';
    END LOOP;
    RETURN made;
END
$$;
ALTER FUNCTION audit.ensure_partitions(timestamptz, integer) OWNER TO fhirgate_owner;
REVOKE ALL ON FUNCTION audit.ensure_partitions(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.ensure_partitions(timestamptz, integer) TO fhirgate_service;

-- The events with their AuditEvent as jsonb, for ad-hoc queries.  The jsonb
-- is not stored: converting ~1 KB of FHIR JSON to jsonb costs about three
-- quarters of the server's work per audit row (docs/design/storage.md,
-- "Measurements"), and every search the gateway offers runs on the indexed
-- columns.
CREATE VIEW audit.event_json AS
    SELECT e.*, e.event_text::jsonb AS event FROM audit.event e;
ALTER VIEW audit.event_json OWNER TO fhirgate_owner;

-- Reference implementation of the canonical forms (docs/design/storage.md):
-- every field is "<byte length>:<bytes>\n", SQL NULL is "-\n".
CREATE FUNCTION audit.canon_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN E'-\n'
                ELSE octet_length(v)::text || ':' || v || E'\n' END
$$;
ALTER FUNCTION audit.canon_field(text) OWNER TO fhirgate_owner;

CREATE FUNCTION audit.canon_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;
ALTER FUNCTION audit.canon_time(timestamptz) OWNER TO fhirgate_owner;

CREATE FUNCTION audit.canonical(e audit.event) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'fhirgate-audit-v1' || E'\n'
        || audit.canon_field(e.chain_id)
        || audit.canon_field(e.seq::text)
        || audit.canon_field(audit.canon_time(e.recorded_at))
        || audit.canon_field(e.prev_hash)
        || audit.canon_field(e.action)
        || audit.canon_field(e.subtype)
        || audit.canon_field(e.outcome)
        || audit.canon_field(e.http_status::text)
        || audit.canon_field(e.agent_user)
        || audit.canon_field(e.agent_role)
        || audit.canon_field(e.agent_org)
        || audit.canon_field(e.patient_ref)
        || audit.canon_field(CASE WHEN e.entities IS NULL THEN NULL ELSE
               coalesce((SELECT string_agg(audit.canon_field(x), '' ORDER BY i)
                           FROM unnest(e.entities) WITH ORDINALITY AS u(x, i)), '') END)
        || audit.canon_field(e.purpose)
        || audit.canon_field(CASE WHEN e.break_glass THEN 'true' ELSE 'false' END)
        || audit.canon_field(e.reason)
        || audit.canon_field(e.request_id)
        || audit.canon_field(e.node)
        || audit.canon_field(e.client_addr)
        || audit.canon_field(e.event_text)
$$;
ALTER FUNCTION audit.canonical(audit.event) OWNER TO fhirgate_owner;

CREATE FUNCTION audit.checkpoint_canonical(c audit.checkpoint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'fhirgate-audit-checkpoint-v1' || E'\n'
        || audit.canon_field(c.chain_id)
        || audit.canon_field(c.seq::text)
        || audit.canon_field(c.hash)
        || audit.canon_field(audit.canon_time(c.row_time))
        || audit.canon_field(audit.canon_time(c.signed_at))
        || audit.canon_field(c.kind)
        || audit.canon_field(c.key_id)
$$;
ALTER FUNCTION audit.checkpoint_canonical(audit.checkpoint) OWNER TO fhirgate_owner;

REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM PUBLIC;
GRANT SELECT, INSERT ON audit.event, audit.checkpoint, audit.signing_key TO fhirgate_service;
GRANT SELECT, INSERT, UPDATE ON audit.chain TO fhirgate_service;
GRANT SELECT ON audit.archive, audit.event_json TO fhirgate_service;

-- This month and the next two exist from the start.
SELECT audit.ensure_partitions(now(), 3);
