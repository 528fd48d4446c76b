-- 0103_auth_jti.sql — the replay cache for client assertion ids (RFC 7523
-- §3 item 7; SMART Backend Services: a jti is accepted once).  A row lives
-- until the assertion could no longer be accepted anyway (exp + leeway).

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.jti_seen (
    issuer     text NOT NULL,
    jti        text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, jti)
);

CREATE INDEX IF NOT EXISTS jti_seen_expires_idx ON auth.jti_seen (expires_at);
