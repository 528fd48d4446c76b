-- 0015_store_code_uses.sql — the code-map report, kept with the data.
--
-- Issue #3: "an unmapped code keeps its local system and is counted in a
-- report the adapter exposes".  The counts used to live in the adapter's
-- memory: a restart lost them, and a message sent twice was counted twice
-- although it changes nothing else.  They are now added in the transaction
-- that commits the message (adapters/store/codes.c), only for a message that
-- changed the store, so they are as durable and as exact as the data.

-- Per local code system: uses of codes the maps translated, uses of codes
-- they did not, and uses of unmapped codes not listed below (the list is
-- bounded per system, so a feed sending free text as codes cannot grow it
-- without limit).
CREATE TABLE IF NOT EXISTS store.code_use_system (
    system       text PRIMARY KEY CHECK (octet_length(system) BETWEEN 1 AND 4096),
    mapped       bigint NOT NULL DEFAULT 0,
    unmapped     bigint NOT NULL DEFAULT 0,
    unlisted     bigint NOT NULL DEFAULT 0,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now()
);

-- Each unmapped code, with how often and when it was seen: what a code-map
-- author works through, most used first.
CREATE TABLE IF NOT EXISTS store.code_use_unmapped (
    system       text NOT NULL,
    code         text NOT NULL CHECK (octet_length(code) BETWEEN 1 AND 4096),
    uses         bigint NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system, code)
);

-- Add one batch's counts.  Rows of the arrays: (system, code, mapped, uses);
-- code NULL with mapped = true is the system's mapped uses, code NULL with
-- mapped = false unmapped uses the converter did not list.  A code not yet
-- listed is listed while its system has fewer than p_max codes; past that
-- its uses count as unlisted.  Writers hold store.take_clock()'s lock, so
-- batches do not interleave here.
CREATE OR REPLACE FUNCTION store.note_code_uses(
    p_system text[], p_code text[], p_mapped boolean[], p_uses bigint[], p_max integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    listed bigint;
BEGIN
    FOR r IN SELECT u.system,
                    COALESCE(sum(u.uses) FILTER (WHERE u.mapped), 0) AS mapped,
                    COALESCE(sum(u.uses) FILTER (WHERE NOT u.mapped), 0) AS unmapped,
                    COALESCE(sum(u.uses) FILTER (WHERE NOT u.mapped AND u.code IS NULL), 0)
                        AS unlisted
               FROM unnest(p_system, p_code, p_mapped, p_uses) AS u(system, code, mapped, uses)
              GROUP BY u.system ORDER BY u.system LOOP
        INSERT INTO store.code_use_system AS s (system, mapped, unmapped, unlisted)
             VALUES (r.system, r.mapped, r.unmapped, r.unlisted)
        ON CONFLICT (system) DO UPDATE
               SET mapped = s.mapped + EXCLUDED.mapped,
                   unmapped = s.unmapped + EXCLUDED.unmapped,
                   unlisted = s.unlisted + EXCLUDED.unlisted,
                   last_seen = now();
    END LOOP;
    FOR r IN SELECT u.system, u.code, sum(u.uses) AS uses
               FROM unnest(p_system, p_code, p_mapped, p_uses) AS u(system, code, mapped, uses)
              WHERE NOT u.mapped AND u.code IS NOT NULL
              GROUP BY u.system, u.code ORDER BY u.system, u.code LOOP
        UPDATE store.code_use_unmapped
           SET uses = uses + r.uses, last_seen = now()
         WHERE system = r.system AND code = r.code;
        CONTINUE WHEN FOUND;
        SELECT count(*) INTO listed FROM store.code_use_unmapped WHERE system = r.system;
        IF listed < p_max THEN
            INSERT INTO store.code_use_unmapped (system, code, uses) VALUES (r.system, r.code, r.uses);
        ELSE
            UPDATE store.code_use_system SET unlisted = unlisted + r.uses WHERE system = r.system;
        END IF;
    END LOOP;
END
$$;

ALTER TABLE store.code_use_system OWNER TO fhirgate_adapter_owner;
ALTER TABLE store.code_use_unmapped OWNER TO fhirgate_adapter_owner;
ALTER FUNCTION store.note_code_uses(text[], text[], boolean[], bigint[], integer)
    OWNER TO fhirgate_adapter_owner;
GRANT SELECT, INSERT, UPDATE ON store.code_use_system, store.code_use_unmapped
    TO fhirgate_adapter_service;
GRANT EXECUTE ON FUNCTION store.note_code_uses(text[], text[], boolean[], bigint[], integer)
    TO fhirgate_adapter_service;
