-- 0010_store_resources.sql — the adapter's FHIR store: current versions,
-- history and business identifiers (adapters/store, docs/design/store.md).
--
-- One adapter per database.  Every resource has a surrogate key `pk` that
-- the index tables point at; (res_type, id) is the FHIR logical identity.
-- Writers serialize on the single row of store.clock (taken first in every
-- write transaction): meta.lastUpdated values are then unique, increase in
-- commit order, and a reader that pulls "changed since <cursor>" can never
-- miss a row committed later with an earlier time.  Readers never block.

CREATE SCHEMA IF NOT EXISTS store;

-- The writers' clock: last meta.lastUpdated handed out, in microseconds
-- since 1970-01-01T00:00:00Z.  Never goes backwards, even if the system
-- clock does.
CREATE TABLE IF NOT EXISTS store.clock (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_us bigint NOT NULL
);
INSERT INTO store.clock (one, last_us) VALUES (true, 0) ON CONFLICT DO NOTHING;

CREATE SEQUENCE IF NOT EXISTS store.resource_pk_seq;

-- Current version of every resource (soft-deleted ones too: a delete is a
-- new version with deleted = true and no content).
CREATE TABLE IF NOT EXISTS store.resource (
    pk           bigint PRIMARY KEY,
    res_type     text COLLATE "C" NOT NULL,  -- [A-Z][A-Za-z]*, checked by the writer
    id           text COLLATE "C" NOT NULL,  -- [A-Za-z0-9.-]{1,64} (FHIR id), likewise
    version      integer NOT NULL CHECK (version > 0),
    last_updated bigint NOT NULL,            -- meta.lastUpdated, microseconds (UTC)
    deleted      boolean NOT NULL DEFAULT false,
    content_hash bytea NOT NULL,             -- SHA-256 of the content without meta
    content      jsonb,                      -- NULL exactly when deleted
    CHECK ((content IS NULL) = deleted),
    CONSTRAINT resource_type_id UNIQUE (res_type, id)
);
-- _lastUpdated searches and the gateway's identity pull
-- (Patient?_lastUpdated=gt…&_sort=_lastUpdated).
CREATE INDEX IF NOT EXISTS resource_type_updated ON store.resource (res_type, last_updated);

-- Earlier versions (the current one lives in store.resource only).
CREATE TABLE IF NOT EXISTS store.resource_history (
    pk           bigint NOT NULL,
    version      integer NOT NULL,
    last_updated bigint NOT NULL,
    deleted      boolean NOT NULL,
    content      jsonb,
    PRIMARY KEY (pk, version)
);

-- Exact-match text columns are indexed by their first 100 characters
-- (at most 400 bytes: a B-tree entry must stay under a third of a page, and
-- a value in a resource can be longer), and searches recheck the whole
-- value: left(col, 100) = left($v, 100) AND col = $v.

-- Business identifiers (Identifier system|value) of every resource, for
-- conditional create/update by identifier on any resource type.
CREATE TABLE IF NOT EXISTS store.identifier (
    res_pk   bigint NOT NULL,
    res_type text COLLATE "C" NOT NULL,
    system   text COLLATE "C",
    value    text COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS identifier_value ON store.identifier (res_type, left(value, 100))
    INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS identifier_res ON store.identifier (res_pk);
