-- 0200_mpi.sql — the master patient index (gateway/mpi, docs/design/mpi.md).
--
-- person: a regional person.  record: one member's Patient (member id +
-- local identifier), linked to exactly one person at any time; the link's
-- history is kept in link_history, merges in merge/merge_record so that an
-- unmerge restores the previous links.  review: possible matches waiting
-- for (or given) a human decision.  block and name_freq serve the matcher.

CREATE SCHEMA IF NOT EXISTS mpi;

CREATE TABLE IF NOT EXISTS mpi.person (
    id          bigserial PRIMARY KEY,
    public_id   uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged')),
    merged_into bigint REFERENCES mpi.person (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'merged') = (merged_into IS NOT NULL))
);

CREATE TABLE IF NOT EXISTS mpi.record (
    id              bigserial PRIMARY KEY,
    member_id       text NOT NULL,
    local_system    text NOT NULL,
    local_value     text NOT NULL,
    person_id       bigint NOT NULL REFERENCES mpi.person (id),
    link_type       text NOT NULL
                    CHECK (link_type IN ('deterministic', 'probabilistic', 'manual', 'sole')),
    link_score      double precision NOT NULL DEFAULT 0,
    linked_at       timestamptz NOT NULL DEFAULT now(),
    resident_id     text,           -- a valid GB 11643 number, normalized; never an invalid one
    name_han        text NOT NULL DEFAULT '',
    name_py         text NOT NULL DEFAULT '',
    name_py_family  text NOT NULL DEFAULT '',
    name_py_given   text NOT NULL DEFAULT '',
    name_latin_only boolean NOT NULL DEFAULT false,
    birth_year      smallint NOT NULL DEFAULT 0,
    birth_month     smallint NOT NULL DEFAULT 0,
    birth_day       smallint NOT NULL DEFAULT 0,
    sex             smallint NOT NULL DEFAULT 0,   -- enum gw_mpi_sex
    phones          text[] NOT NULL DEFAULT '{}',
    addr_province   text NOT NULL DEFAULT '',
    addr_city       text NOT NULL DEFAULT '',
    addr_district   text NOT NULL DEFAULT '',
    addr_detail     text NOT NULL DEFAULT '',
    resource        jsonb,          -- the Patient as the member reported it
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (member_id, local_system, local_value)
);
CREATE INDEX IF NOT EXISTS record_person_idx ON mpi.record (person_id);
CREATE INDEX IF NOT EXISTS record_resident_idx ON mpi.record (resident_id)
    WHERE resident_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS record_name_py_idx ON mpi.record (name_py);
CREATE INDEX IF NOT EXISTS record_name_han_idx ON mpi.record (name_han text_pattern_ops);
CREATE INDEX IF NOT EXISTS record_family_idx ON mpi.record (name_py_family);

-- Every local identifier of a record (its key included), for resolve.
CREATE TABLE IF NOT EXISTS mpi.identifier (
    system    text NOT NULL,
    value     text NOT NULL,
    record_id bigint NOT NULL REFERENCES mpi.record (id) ON DELETE CASCADE,
    PRIMARY KEY (system, value, record_id)
);
CREATE INDEX IF NOT EXISTS identifier_record_idx ON mpi.identifier (record_id);

-- Blocking keys: candidates for a new record are the records sharing a key.
CREATE TABLE IF NOT EXISTS mpi.block (
    key       text NOT NULL,
    record_id bigint NOT NULL REFERENCES mpi.record (id) ON DELETE CASCADE,
    PRIMARY KEY (key, record_id)
);
CREATE INDEX IF NOT EXISTS block_record_idx ON mpi.block (record_id);

-- Records per Han name ('h:'), per pinyin ('p:') and in all ('*').
CREATE TABLE IF NOT EXISTS mpi.name_freq (
    key text PRIMARY KEY,
    n   bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS mpi.merge (
    id          bigserial PRIMARY KEY,
    survivor    bigint NOT NULL REFERENCES mpi.person (id),
    merged      bigint NOT NULL REFERENCES mpi.person (id),
    actor       text NOT NULL,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now(),
    undone_at   timestamptz,
    undone_by   text,
    undo_reason text
);

-- The records a merge moved, with the link they had before it.
CREATE TABLE IF NOT EXISTS mpi.merge_record (
    merge_id   bigint NOT NULL REFERENCES mpi.merge (id),
    record_id  bigint NOT NULL REFERENCES mpi.record (id),
    link_type  text NOT NULL,
    link_score double precision NOT NULL,
    PRIMARY KEY (merge_id, record_id)
);

CREATE TABLE IF NOT EXISTS mpi.link_history (
    id          bigserial PRIMARY KEY,
    record_id   bigint NOT NULL REFERENCES mpi.record (id),
    action      text NOT NULL
                CHECK (action IN ('link', 'merge', 'unmerge', 'split', 'update')),
    from_person bigint REFERENCES mpi.person (id),
    to_person   bigint REFERENCES mpi.person (id),
    link_type   text,
    score       double precision,
    actor       text NOT NULL,
    reason      text,
    merge_id    bigint REFERENCES mpi.merge (id),
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS history_to_idx ON mpi.link_history (to_person);
CREATE INDEX IF NOT EXISTS history_from_idx ON mpi.link_history (from_person);

CREATE TABLE IF NOT EXISTS mpi.review (
    id               bigserial PRIMARY KEY,
    record_id        bigint NOT NULL REFERENCES mpi.record (id),
    candidate_person bigint NOT NULL REFERENCES mpi.person (id),
    score            double precision NOT NULL,
    fields           jsonb NOT NULL,  -- [{field, level, weight}]
    reason           text NOT NULL,   -- 'score', 'twin-guard', 'ambiguous', 'resident-id'
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'same', 'not-same', 'superseded')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz,
    decided_by       text,
    note             text,
    UNIQUE (record_id, candidate_person)
);
CREATE INDEX IF NOT EXISTS review_open_idx ON mpi.review (id) WHERE status = 'open';
