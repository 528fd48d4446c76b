-- 0104_auth_grants.sql — what the gateway's service role may do with the
-- auth tables.  The service role comes from the roles migration; when it is
-- absent (a database without roles) nothing is granted.

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhirgate_service') THEN
        GRANT USAGE ON SCHEMA auth TO fhirgate_service;
        GRANT SELECT, INSERT, UPDATE ON auth.users, auth.clients TO fhirgate_service;
        GRANT USAGE ON SEQUENCE auth.users_id_seq TO fhirgate_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON auth.login_throttle, auth.jti_seen
            TO fhirgate_service;
    END IF;
END
$$;
