-- 0106_auth_refresh.sql — refresh tokens for SMART apps granted
-- offline_access or online_access (RFC 6749 §6; SMART App Launch 2.x
-- permission-offline / permission-online).
--
-- A token is stored as the SHA-256 of its text (base64url), never the token
-- itself.  Tokens rotate (OAuth 2.1 §4.3.1): each use sets used_at and a new
-- row of the same family_id is inserted; presenting a used token revokes the
-- whole family (RFC 9700 §4.14.2).  expires_at is the family's absolute end,
-- copied to every rotation, so use never extends it.  Disabling the user or
-- the app revokes their families (revoked_at), so enabling them again does
-- not bring old grants back.

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    token_hash text PRIMARY KEY CHECK (length(token_hash) = 43),
    family_id  text NOT NULL CHECK (length(family_id) BETWEEN 1 AND 64),
    client_id  text NOT NULL,
    username   text NOT NULL,
    scope      text NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);

CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx ON auth.refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_username_idx ON auth.refresh_tokens (username);
CREATE INDEX IF NOT EXISTS refresh_tokens_client_idx ON auth.refresh_tokens (client_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_idx ON auth.refresh_tokens (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_owner') THEN
        ALTER TABLE auth.refresh_tokens OWNER TO fhirgate_owner;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_service') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON auth.refresh_tokens TO fhirgate_service;
    END IF;
END
$$;
