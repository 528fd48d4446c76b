-- 0100_auth_users.sql — portal users of the gateway (gateway/auth,
-- docs/design/auth.md).
--
-- User names are stored normalized (ASCII lower case) so that sign-in is
-- case-insensitive and a name can never exist twice in two spellings.
-- password_hash is a PHC string ($scrypt$… or $pbkdf2-sha256$…): the
-- parameters travel with the hash, so they can be raised over time and old
-- hashes are upgraded at the next successful sign-in.

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.users (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL UNIQUE
                        CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
    display_name        text NOT NULL DEFAULT '' CHECK (length(display_name) <= 256),
    role                text NOT NULL
                        CHECK (role IN ('clinician', 'regulator', 'admin', 'patient')),
    organization        text CHECK (length(organization) BETWEEN 1 AND 256),
    patient             text CHECK (length(patient) BETWEEN 1 AND 256),
    status              text NOT NULL DEFAULT 'enabled'
                        CHECK (status IN ('enabled', 'disabled')),
    password_hash       text NOT NULL CHECK (password_hash LIKE '$%'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    -- a clinician belongs to a member organization; only patients have a
    -- patient link (their regional person id)
    CHECK (role <> 'clinician' OR organization IS NOT NULL),
    CHECK ((role = 'patient') = (patient IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS users_role_idx ON auth.users (role);
