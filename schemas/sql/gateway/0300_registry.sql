-- 0300_registry.sql — the member registry (gateway/registry,
-- docs/design/gateway.md): one row per member hospital (its Organization and
-- its one Endpoint, docs/design/region.md), the MPI pull cursor per member,
-- patients' consents, and regulators' reviews of break-the-glass accesses.

CREATE SCHEMA IF NOT EXISTS registry;

CREATE TABLE IF NOT EXISTS registry.member (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9_][a-z0-9._-]{0,63}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    base         text NOT NULL CHECK (base ~ '^https?://' AND length(base) <= 500),
    status       text NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    cert_sha256  text CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    cert_subject text CHECK (length(cert_subject) <= 500),
    source       text NOT NULL CHECK (source IN ('admin', 'config', 'self')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Where the identity pull stopped at each member (region.md "Identities"):
-- the meta.lastUpdated of the last Patient ingested, and the ids seen at
-- that instant (a page boundary may fall between equal timestamps).
CREATE TABLE IF NOT EXISTS registry.pull_cursor (
    member       text PRIMARY KEY REFERENCES registry.member (id),
    last_updated text NOT NULL DEFAULT '',
    pulled       bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    pulled_at    timestamptz
);

CREATE TABLE IF NOT EXISTS registry.consent (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person      text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    status      text NOT NULL,
    resource    jsonb NOT NULL,
    author      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS consent_person_idx ON registry.consent (person, updated_at);

CREATE TABLE IF NOT EXISTS registry.btg_review (
    chain_id    text NOT NULL,
    seq         bigint NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('justified', 'unjustified')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    reviewer    text NOT NULL,
    reviewed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, seq)
);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_owner') THEN
        ALTER SCHEMA registry OWNER TO fhirgate_owner;
        ALTER TABLE registry.member OWNER TO fhirgate_owner;
        ALTER TABLE registry.pull_cursor OWNER TO fhirgate_owner;
        ALTER TABLE registry.consent OWNER TO fhirgate_owner;
        ALTER TABLE registry.btg_review OWNER TO fhirgate_owner;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_service') THEN
        GRANT USAGE ON SCHEMA registry TO fhirgate_service;
        GRANT SELECT, INSERT, UPDATE ON registry.member, registry.pull_cursor,
            registry.consent TO fhirgate_service;
        -- A review is written once and never changed (it is audited too).
        GRANT SELECT, INSERT ON registry.btg_review TO fhirgate_service;
        -- The daemon ingests identities and answers PDQm/PIXm (gateway/mpi).
        GRANT USAGE ON SCHEMA mpi TO fhirgate_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA mpi TO fhirgate_service;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA mpi TO fhirgate_service;
    END IF;
END
$$;
