-- 0101_auth_clients.sql — SMART Backend Services clients: member hospitals'
-- systems and regulators' reporting systems that obtain tokens with a signed
-- JWT client assertion (grant_type=client_credentials).
--
-- jwks is the client's public JWK Set; the gateway never fetches keys from
-- a URL.  allowed_scopes is the ceiling of what the client may be granted
-- (further narrowed by its role).

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.clients (
    client_id      text PRIMARY KEY
                   CHECK (client_id ~ '^[\x21-\x7e]+$' AND length(client_id) <= 256),
    display_name   text NOT NULL DEFAULT '' CHECK (length(display_name) <= 256),
    role           text NOT NULL CHECK (role IN ('member-system', 'regulator')),
    organization   text CHECK (length(organization) BETWEEN 1 AND 256),
    jwks           jsonb NOT NULL CHECK (jsonb_typeof(jwks -> 'keys') = 'array'),
    allowed_scopes text NOT NULL,
    status         text NOT NULL DEFAULT 'enabled'
                   CHECK (status IN ('enabled', 'disabled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'member-system' OR organization IS NOT NULL)
);
