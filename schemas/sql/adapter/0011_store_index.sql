-- 0011_store_index.sql — search index tables (adapters/store).
--
-- One row per index value that fhir_search_extract() finds for a search
-- parameter of the resource's type (fhir/search: the same values the
-- in-memory matcher compares), one table per parameter type.  `_id` and
-- `_lastUpdated` are served from store.resource itself.  Rows are replaced
-- whenever a resource gets a new version and removed when it is deleted,
-- so they always describe current, live content.
--
-- Every table has an index by resource (res_pk, param) for the per-resource
-- checks of a search and for sorting, and one by value for the selective
-- conditions.  Text is COLLATE "C": byte order, which is what the matcher's
-- strcmp() sorts by.

CREATE TABLE IF NOT EXISTS store.idx_token (
    res_pk    bigint NOT NULL,
    res_type  text COLLATE "C" NOT NULL,
    param     text COLLATE "C" NOT NULL,
    system    text COLLATE "C",
    code      text COLLATE "C",            -- NULL: text only (CodeableConcept.text)
    text_norm text COLLATE "C",            -- normalized display / text, for :text
    text_raw  text COLLATE "C",            -- the text itself when there is no code (_sort)
    of_type   jsonb                        -- Identifier.type.coding [[system, code], …], for :of-type
);
CREATE INDEX IF NOT EXISTS idx_token_value ON store.idx_token (res_type, param, left(code, 100))
    INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS idx_token_res ON store.idx_token (res_pk, param);

CREATE TABLE IF NOT EXISTS store.idx_string (
    res_pk   bigint NOT NULL,
    res_type text COLLATE "C" NOT NULL,
    param    text COLLATE "C" NOT NULL,
    value    text COLLATE "C" NOT NULL,    -- as in the resource, for :exact
    norm     text COLLATE "C" NOT NULL     -- fhir_search_normalize(value)
);
-- Prefix searches scan a range of the first 25 characters (at most 100
-- bytes, so long texts such as descriptions can be indexed) and recheck
-- the whole value.
CREATE INDEX IF NOT EXISTS idx_string_value ON store.idx_string (res_type, param, left(norm, 25))
    INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS idx_string_res ON store.idx_string (res_pk, param);

CREATE TABLE IF NOT EXISTS store.idx_date (
    res_pk   bigint NOT NULL,
    res_type text COLLATE "C" NOT NULL,
    param    text COLLATE "C" NOT NULL,
    low      bigint NOT NULL,              -- [low, high) in microseconds (UTC);
    high     bigint NOT NULL               -- open ends are the int64 extremes
);
CREATE INDEX IF NOT EXISTS idx_date_low ON store.idx_date (res_type, param, low) INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS idx_date_high ON store.idx_date (res_type, param, high) INCLUDE (res_pk);
-- Covers the sort keys (min low, max high) of the hot "patient + date" query.
CREATE INDEX IF NOT EXISTS idx_date_res ON store.idx_date (res_pk, param) INCLUDE (low, high);

CREATE TABLE IF NOT EXISTS store.idx_reference (
    res_pk      bigint NOT NULL,
    res_type    text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ref_type    text COLLATE "C",          -- "Patient"; NULL when unknown
    ref_id      text COLLATE "C",          -- NULL for canonicals, URNs, identifier-only
    ref_version text COLLATE "C",
    ref_url     text COLLATE "C",          -- absolute URL, URN or canonical
    id_system   text COLLATE "C",          -- Reference.identifier, for :identifier
    id_value    text COLLATE "C"
);
-- The hot path: everything that points at Patient/<id> (patient=, subject=,
-- $everything).
CREATE INDEX IF NOT EXISTS idx_reference_id ON store.idx_reference (left(ref_id, 100), res_type, param)
    INCLUDE (ref_type, res_pk);
CREATE INDEX IF NOT EXISTS idx_reference_url ON store.idx_reference (left(ref_url, 100))
    WHERE ref_url IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_reference_ident ON store.idx_reference (left(id_value, 100))
    WHERE id_value IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_reference_res ON store.idx_reference (res_pk, param);

-- Quantities and numbers: [low, high] with open ends (Range without a
-- bound, Quantity.comparator); exact decimals.
CREATE TABLE IF NOT EXISTS store.idx_quantity (
    res_pk    bigint NOT NULL,
    res_type  text COLLATE "C" NOT NULL,
    param     text COLLATE "C" NOT NULL,
    low       numeric NOT NULL,
    high      numeric NOT NULL,
    low_open  boolean NOT NULL,
    high_open boolean NOT NULL,
    system    text COLLATE "C",
    code      text COLLATE "C",
    unit      text COLLATE "C"
);
CREATE INDEX IF NOT EXISTS idx_quantity_low ON store.idx_quantity (res_type, param, low)
    INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS idx_quantity_res ON store.idx_quantity (res_pk, param) INCLUDE (low, high);

CREATE TABLE IF NOT EXISTS store.idx_uri (
    res_pk   bigint NOT NULL,
    res_type text COLLATE "C" NOT NULL,
    param    text COLLATE "C" NOT NULL,
    value    text COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_uri_value ON store.idx_uri (res_type, param, left(value, 100))
    INCLUDE (res_pk);
CREATE INDEX IF NOT EXISTS idx_uri_res ON store.idx_uri (res_pk, param);
