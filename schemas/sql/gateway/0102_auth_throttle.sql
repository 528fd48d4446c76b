-- 0102_auth_throttle.sql — failed sign-in counters and lockouts, per user
-- name and per client address (docs/design/auth.md, "Throttling").
--
-- One row per (kind, key).  failures counts the failures since
-- window_start; when it reaches the policy's maximum, locked_until is set.
-- Rows are kept for unknown user names too, so a lockout never tells
-- whether a name exists; gw_auth_throttle_purge() removes stale rows.

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.login_throttle (
    kind         text NOT NULL CHECK (kind IN ('user', 'addr')),
    key          text NOT NULL CHECK (length(key) BETWEEN 0 AND 256),
    failures     integer NOT NULL CHECK (failures >= 0),
    window_start timestamptz NOT NULL,
    locked_until timestamptz,
    PRIMARY KEY (kind, key)
);

CREATE INDEX IF NOT EXISTS login_throttle_window_idx ON auth.login_throttle (window_start);
