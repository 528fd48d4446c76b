-- 0105_auth_codes.sql — SMART App Launch 2.0 standalone launch: registered
-- public app clients and their one-time authorization codes.
--
-- App clients are public (RFC 6749 §2.1): no secret, so every code they
-- redeem is bound to a PKCE S256 challenge (RFC 7636; SMART 2.0 requires
-- it).  Redirect URIs are compared exactly (RFC 6749 §3.1.2.2, RFC 9700
-- §4.1.3), so they are stored as registered.
--
-- A code is stored as the SHA-256 of its text (base64url), never the code
-- itself: reading this table gives nothing to redeem.  used_at makes
-- redemption single-use across every gateway node (one UPDATE … WHERE
-- used_at IS NULL decides).

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.app_clients (
    client_id      text PRIMARY KEY
                   CHECK (client_id ~ '^[\x21-\x7e]+$' AND length(client_id) <= 256),
    display_name   text NOT NULL DEFAULT '' CHECK (length(display_name) <= 256),
    redirect_uris  text[] NOT NULL
                   CHECK (cardinality(redirect_uris) BETWEEN 1 AND 16),
    allowed_scopes text NOT NULL,
    status         text NOT NULL DEFAULT 'enabled'
                   CHECK (status IN ('enabled', 'disabled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.codes (
    code_hash      text PRIMARY KEY CHECK (length(code_hash) = 43),
    client_id      text NOT NULL,
    redirect_uri   text NOT NULL CHECK (length(redirect_uri) <= 1024),
    code_challenge text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    username       text NOT NULL,
    scope          text NOT NULL,
    nonce          text CHECK (length(nonce) <= 256),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);

CREATE INDEX IF NOT EXISTS codes_expires_idx ON auth.codes (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_owner') THEN
        ALTER TABLE auth.app_clients OWNER TO fhirgate_owner;
        ALTER TABLE auth.codes OWNER TO fhirgate_owner;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_service') THEN
        GRANT SELECT ON auth.app_clients TO fhirgate_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON auth.codes TO fhirgate_service;
    END IF;
END
$$;
