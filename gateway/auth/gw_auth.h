/*
 * gateway/auth/gw_auth.h — authentication: roles, SMART scopes, JWTs signed
 * and verified with OpenSSL, the gateway's key set and JWKS, access tokens,
 * passwords, and the OAuth2 token endpoint logic.
 *
 * Everything here is pure (no I/O, no global state) except the key-file
 * loader and the token endpoint, which reaches users, clients, lockout
 * state and the jti replay cache through `struct gw_auth_backend` (the
 * PostgreSQL implementation is in gw_auth_store.h).  HTTP wiring is not
 * here: the HTTP layer calls gw_auth_bearer_verify() for every request and
 * gw_auth_token_endpoint() for POST /auth/token.
 *
 * Errors: every failure is a negative BASE_E_* with a client-safe message in
 * `err->msg` and a stable location in `err->where` ("token.exp",
 * "token.header.kid", "scope[2]", …).  No message ever contains token,
 * password or claim values.  Token verification failures are BASE_E_AUTH;
 * gw_auth_http_status() and gw_auth_challenge() turn them into the HTTP
 * status and WWW-Authenticate header (RFC 6750 §3).
 *
 * Strings in result structs are NUL-terminated and live in the arena passed
 * to the function that produced them.
 */
#ifndef GATEWAY_AUTH_GW_AUTH_H
#define GATEWAY_AUTH_GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"

struct base_arena;

/* ======================================================================
 * Roles and purpose of use (the data model the policy engine builds on)
 * ====================================================================== */

enum gw_auth_role {
    GW_AUTH_ROLE_NONE = 0,
    GW_AUTH_ROLE_CLINICIAN,    /* a doctor of a member organization */
    GW_AUTH_ROLE_REGULATOR,    /* reads the audit trail and reports */
    GW_AUTH_ROLE_ADMIN,        /* manages members and users */
    GW_AUTH_ROLE_PATIENT,      /* sees their own record and who looked at it */
    GW_AUTH_ROLE_MEMBER_SYSTEM /* a member hospital's system (client_credentials) */
};

/* "clinician", "regulator", "admin", "patient", "member-system" ("none"). */
const char *gw_auth_role_name(enum gw_auth_role role);
/* Exact, case-sensitive role name; false when unknown. */
bool gw_auth_role_parse(struct base_str s, enum gw_auth_role *out);

/*
 * Purpose of use: HL7 v3 ActReason codes (value set v3-PurposeOfUse), the
 * vocabulary IHE BALP and XUA use in AuditEvent.purposeOfUse.
 */
#define GW_AUTH_POU_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-ActReason"

enum gw_auth_pou {
    GW_AUTH_POU_NONE = 0,
    GW_AUTH_POU_TREAT,     /* treatment */
    GW_AUTH_POU_ETREAT,    /* emergency treatment (break-the-glass) */
    GW_AUTH_POU_BTG,       /* break the glass */
    GW_AUTH_POU_ERTREAT,   /* emergency room treatment */
    GW_AUTH_POU_COC,       /* coordination of care */
    GW_AUTH_POU_CAREMGT,   /* care management */
    GW_AUTH_POU_PATRQT,    /* patient requested */
    GW_AUTH_POU_FAMRQT,    /* family requested */
    GW_AUTH_POU_PWATRNY,   /* power of attorney */
    GW_AUTH_POU_HOPERAT,   /* healthcare operations */
    GW_AUTH_POU_HSYSADMIN, /* system administration */
    GW_AUTH_POU_HCOMPL,    /* health compliance (regulatory oversight) */
    GW_AUTH_POU_HLEGAL,    /* legal */
    GW_AUTH_POU_HQUALIMP,  /* quality improvement */
    GW_AUTH_POU_PATSFTY,   /* patient safety */
    GW_AUTH_POU_PUBHLTH,   /* public health */
    GW_AUTH_POU_HRESCH,    /* healthcare research */
    GW_AUTH_POU_HPAYMT,    /* payment */
    GW_AUTH_POU_RECORDMGT  /* records management */
};

const char *gw_auth_pou_code(enum gw_auth_pou pou);    /* "TREAT"; "" for NONE */
const char *gw_auth_pou_display(enum gw_auth_pou pou); /* "treatment" */
/* Exact code (case-sensitive, as in the code system); false when unknown. */
bool gw_auth_pou_parse(struct base_str s, enum gw_auth_pou *out);
/* ETREAT, BTG, ERTREAT: the break-the-glass purposes. */
bool gw_auth_pou_is_emergency(enum gw_auth_pou pou);
/* The purpose a token of this role carries unless the request says otherwise. */
enum gw_auth_pou gw_auth_role_default_pou(enum gw_auth_role role);
/* May a principal of this role claim this purpose (header or token)? */
bool gw_auth_role_allows_pou(enum gw_auth_role role, enum gw_auth_pou pou);

/* ======================================================================
 * SMART scopes (SMART App Launch 2.x, §Scopes and Launch Context)
 * ====================================================================== */

enum gw_auth_scope_ctx {
    GW_AUTH_CTX_PATIENT = 1, /* patient/ */
    GW_AUTH_CTX_USER = 2,    /* user/ */
    GW_AUTH_CTX_SYSTEM = 4   /* system/ */
};

/* SMART v2 permissions; v1 "read" = r|s, "write" = c|u|d, "*" = all. */
enum gw_auth_perm {
    GW_AUTH_PERM_C = 1u << 0,
    GW_AUTH_PERM_R = 1u << 1,
    GW_AUTH_PERM_U = 1u << 2,
    GW_AUTH_PERM_D = 1u << 3,
    GW_AUTH_PERM_S = 1u << 4,
    GW_AUTH_PERM_ALL = 0x1fu
};

/* Non-resource scopes we understand (flags of struct gw_auth_scopes). */
enum gw_auth_scope_flag {
    GW_AUTH_SCOPE_OPENID = 1u << 0,
    GW_AUTH_SCOPE_FHIRUSER = 1u << 1,
    GW_AUTH_SCOPE_OFFLINE = 1u << 2, /* offline_access: a refresh token (app launch only) */
    GW_AUTH_SCOPE_ONLINE = 1u << 3,  /* online_access: a short-lived refresh token */
    /* launch/patient: the token response names the patient in context
     * (SMART App Launch 2.x standalone launch); granted to patient users
     * with a linked record, and listed in the granted scope so an app can
     * tell the context was given (RFC 6749 §5.1: scope is what was granted). */
    GW_AUTH_SCOPE_LAUNCH_PATIENT = 1u << 4
};

/* FHIR RESTful interactions (FHIR R4 http.html) a scope must cover. */
enum gw_auth_interaction {
    GW_AUTH_READ,             /* r */
    GW_AUTH_VREAD,            /* r */
    GW_AUTH_HISTORY_INSTANCE, /* r */
    GW_AUTH_SEARCH,           /* s */
    GW_AUTH_HISTORY_TYPE,     /* s */
    GW_AUTH_CREATE,           /* c */
    GW_AUTH_UPDATE,           /* u */
    GW_AUTH_PATCH,            /* u */
    GW_AUTH_DELETE            /* d */
};

struct gw_auth_scope {
    enum gw_auth_scope_ctx ctx;
    const char *type; /* resource type, or "*" */
    unsigned perms;   /* enum gw_auth_perm bits, never 0 */
    bool is_v1;       /* written as .read/.write/.* */
    bool has_query;   /* v2 "?param=value" restriction: never grants (fail closed) */
};

struct gw_auth_scopes {
    struct gw_auth_scope *items; /* in the arena */
    size_t count;
    unsigned flags; /* enum gw_auth_scope_flag */
};

/*
 * Parse a space-separated scope string (RFC 6749 §3.3).  Resource scopes in
 * v1 (`user/Observation.read`, `patient/[*].*`) and v2 (`user/Observation.rs`,
 * `system/[*].cruds`, `patient/Observation.rs?category=laboratory`) syntax;
 * openid, fhirUser, offline_access, online_access become flags; other
 * well-formed scope tokens (launch, profile, …) are ignored — they are
 * simply never granted.  Errors: BASE_E_INVALID for a malformed scope
 * (where "scope[N]"), BASE_E_LIMIT past BASE_LIMIT_AUTH_MAX_SCOPES /
 * _SCOPE_LEN.  Duplicate resource scopes are merged.
 */
BASE_MUST_CHECK int gw_auth_scopes_parse(struct base_arena *a, struct base_str text,
                                         struct gw_auth_scopes *out, struct base_err *err);

/* Does any unrestricted scope grant `interaction` on `resource_type`? */
bool gw_auth_scope_allows(const struct gw_auth_scopes *s, const char *resource_type,
                          enum gw_auth_interaction interaction);

/* Scopes granted by both `a` and `b` (wildcards narrowed, permissions
 * and-ed, flags and-ed).  Query-restricted scopes never survive. */
BASE_MUST_CHECK int gw_auth_scopes_intersect(struct base_arena *a, const struct gw_auth_scopes *x,
                                             const struct gw_auth_scopes *y,
                                             struct gw_auth_scopes *out, struct base_err *err);

/* Does `s` ask for nothing beyond `ceiling` (every scope within one of
 * its scopes, no flag it lacks)?  A refresh may narrow, never widen
 * (RFC 6749 §6).  A restricted scope (`?param=value`) of `ceiling` covers
 * nothing, since its restriction is not kept (and it is never granted). */
bool gw_auth_scopes_within(const struct gw_auth_scopes *s, const struct gw_auth_scopes *ceiling);

/* Space-separated text: flags first, then each scope in the syntax it was
 * requested in (v1 when it was v1 and still expressible in v1). */
BASE_MUST_CHECK int gw_auth_scopes_format(const struct gw_auth_scopes *s, struct base_buf *out,
                                          struct base_err *err);

/*
 * Role x scope rules, enforced before any data is touched: each role has a
 * ceiling (patient: patient/ scopes only, read/search; clinician: user/
 * read/search; regulator: AuditEvent, Organization, Endpoint read/search;
 * admin: Organization and Endpoint; member system: system/ read/search).
 */
const char *gw_auth_role_scope_ceiling(enum gw_auth_role role); /* scope text */
/* The scopes a user of this role gets when the request names none. */
const char *gw_auth_role_default_scopes(enum gw_auth_role role);
/* `s` narrowed to what `role` may hold (into `out`). */
BASE_MUST_CHECK int gw_auth_scopes_restrict_to_role(struct base_arena *a,
                                                    const struct gw_auth_scopes *s,
                                                    enum gw_auth_role role,
                                                    struct gw_auth_scopes *out,
                                                    struct base_err *err);
/* BASE_OK when every scope of `s` lies within the role's ceiling, else
 * BASE_E_AUTH (issue "forbidden", where "scope[N]"). */
BASE_MUST_CHECK int gw_auth_scopes_check_role(const struct gw_auth_scopes *s,
                                              enum gw_auth_role role, struct base_err *err);

/* ======================================================================
 * Keys: the gateway's signing/verification keys and clients' JWKS
 * ====================================================================== */

/* JWS algorithms we accept (RFC 7518 §3.1).  Everything else — none, HS*,
 * PS*, ES512 — is refused.  Values are bits so a key can allow a set. */
enum gw_auth_alg {
    GW_AUTH_ALG_RS256 = 1u << 0,
    GW_AUTH_ALG_RS384 = 1u << 1,
    GW_AUTH_ALG_ES256 = 1u << 2,
    GW_AUTH_ALG_ES384 = 1u << 3
};

const char *gw_auth_alg_name(enum gw_auth_alg alg); /* "ES256" */
bool gw_auth_alg_parse(struct base_str s, enum gw_auth_alg *out);

/*
 * A set of keys, each pinned to its algorithm(s) (so an RS token can never
 * be checked against an EC key, nor any token against a key as an HMAC
 * secret).  At most one key is the signing key; every key verifies, which
 * is how keys rotate: add the new key as signing, keep the old ones until
 * their last token has expired.  Immutable after loading, then safe to
 * share between threads.  Heap-allocated.
 */
struct gw_auth_keyset;

BASE_MUST_CHECK int gw_auth_keyset_new(struct gw_auth_keyset **out, struct base_err *err);
void gw_auth_keyset_free(struct gw_auth_keyset *ks); /* NULL is a no-op; key material wiped */
/* Free `ks` when the arena is freed. */
BASE_MUST_CHECK int gw_auth_keyset_tie(struct base_arena *a, struct gw_auth_keyset *ks);

/*
 * Add a PEM key: a private key (PKCS#8 or traditional, unencrypted) or a
 * public key (SubjectPublicKeyInfo).  `alg` NULL infers it (P-256 → ES256,
 * P-384 → ES384, RSA → RS256); RSA keys must have >= 2048 bits.  `kid` NULL
 * uses the RFC 7638 JWK thumbprint.  `is_signing` needs a private key and
 * makes it the signing key.  Errors: BASE_E_INVALID (not a usable key,
 * wrong curve, alg/key mismatch), BASE_E_CONFLICT (duplicate kid, second
 * signing key), BASE_E_LIMIT (more than BASE_LIMIT_AUTH_MAX_KEYS).
 */
BASE_MUST_CHECK int gw_auth_keyset_add_pem(struct gw_auth_keyset *ks, const char *pem, size_t len,
                                           const char *kid, const char *alg, bool is_signing,
                                           struct base_err *err);
/* The same from a file (read, parsed, and the buffer wiped).  BASE_E_IO
 * when unreadable. */
BASE_MUST_CHECK int gw_auth_keyset_load_file(struct gw_auth_keyset *ks, const char *path,
                                             const char *kid, const char *alg, bool is_signing,
                                             struct base_err *err);
/*
 * Add the public keys of a JWK Set (RFC 7517), e.g. a registered client's.
 * EC P-256/P-384 and RSA (>= 2048 bits) keys with "use":"sig" (or no use)
 * are added; other key types are skipped (RFC 7517 §5); private members
 * ("d", "p", …) are refused.  Errors: BASE_E_PARSE/BASE_E_INVALID/
 * BASE_E_LIMIT (where "jwks.keys[N].x").
 */
BASE_MUST_CHECK int gw_auth_keyset_add_jwks(struct gw_auth_keyset *ks, const char *json, size_t len,
                                            struct base_err *err);
/* The public JWK Set of every key, for GET /.well-known/jwks.json. */
BASE_MUST_CHECK int gw_auth_keyset_jwks(const struct gw_auth_keyset *ks, struct base_buf *out,
                                        struct base_err *err);
size_t gw_auth_keyset_count(const struct gw_auth_keyset *ks);
/* kid of the signing key, or NULL. */
const char *gw_auth_keyset_signing_kid(const struct gw_auth_keyset *ks);

/* ======================================================================
 * JWT (RFC 7519) in JWS compact serialization (RFC 7515)
 * ====================================================================== */

struct gw_auth_jwt {
    enum gw_auth_alg alg;
    const char *kid;               /* NULL when absent */
    const char *typ;               /* NULL when absent */
    json_t *header;                /* owned by the arena */
    json_t *claims;                /* owned by the arena; NOT trusted until verified */
    struct base_str signing_input; /* "header.payload", borrowed from the token */
    const unsigned char *sig;      /* decoded signature, in the arena */
    size_t sig_len;
};

/*
 * Split, decode and check the framing of a compact JWS: exactly three
 * segments, base64url without padding and canonical trailing bits, header
 * and claims JSON objects within the BASE_LIMIT_AUTH_* limits, a supported
 * `alg`, no `crit`.  Nothing is trusted yet.  Errors are BASE_E_AUTH with
 * a distinct message per reason (too large, JWE, segments, base64url, JSON,
 * alg none, unsupported alg, crit).
 */
BASE_MUST_CHECK int gw_auth_jwt_parse(struct base_arena *a, const char *token, size_t len,
                                      struct gw_auth_jwt **out, struct base_err *err);

/*
 * Verify the signature with the key named by `kid` (required), refusing an
 * unknown kid and a key that is not pinned to the token's alg.  ES*
 * signatures are the raw r||s of RFC 7518 §3.4 (not DER).  BASE_E_AUTH.
 */
BASE_MUST_CHECK int gw_auth_jwt_verify(const struct gw_auth_jwt *jwt,
                                       const struct gw_auth_keyset *ks, struct base_err *err);

/* Registered claims a check may require. */
enum gw_auth_claim {
    GW_AUTH_CLAIM_ISS = 1u << 0,
    GW_AUTH_CLAIM_SUB = 1u << 1,
    GW_AUTH_CLAIM_AUD = 1u << 2,
    GW_AUTH_CLAIM_EXP = 1u << 3,
    GW_AUTH_CLAIM_NBF = 1u << 4,
    GW_AUTH_CLAIM_IAT = 1u << 5,
    GW_AUTH_CLAIM_JTI = 1u << 6
};

struct gw_auth_jwt_expect {
    const char *issuer;   /* iss must equal this (NULL: any) */
    const char *audience; /* must equal aud or be one of its elements (NULL: any) */
    int64_t now;          /* seconds since the epoch */
    int64_t leeway;       /* clock skew tolerated on exp, nbf, iat */
    int64_t max_lifetime; /* exp must be <= now + this (+ leeway); 0: unbounded */
    unsigned required;    /* enum gw_auth_claim bits that must be present */
};

/* Check registered claims (RFC 7519 §4.1): types, presence, iss, aud, exp,
 * nbf, iat.  Call only after gw_auth_jwt_verify().  BASE_E_AUTH; an expired
 * token has issue code "expired". */
BASE_MUST_CHECK int gw_auth_jwt_check_claims(const struct gw_auth_jwt *jwt,
                                             const struct gw_auth_jwt_expect *expect,
                                             struct base_err *err);

/* A string claim, or NULL when absent or not a string. */
const char *gw_auth_jwt_claim_str(const struct gw_auth_jwt *jwt, const char *name);

/*
 * Sign `claims` with the key `kid` of `ks` (NULL: the signing key) and its
 * algorithm; header {"alg","kid","typ"} (typ omitted when NULL).  The token
 * is NUL-terminated in the arena.  BASE_E_NOTFOUND (no such key),
 * BASE_E_INVALID (public key only), BASE_E_INTERNAL (OpenSSL failure).
 */
BASE_MUST_CHECK int gw_auth_jwt_sign(struct base_arena *a, const struct gw_auth_keyset *ks,
                                     const char *kid, const char *typ, const json_t *claims,
                                     char **out, size_t *out_len, struct base_err *err);

/* ======================================================================
 * Access tokens issued by the gateway (RFC 9068 JWT access tokens)
 * ====================================================================== */

/* Who is calling: the result of verifying an access token. */
struct gw_auth_principal {
    enum gw_auth_role role;
    const char *subject;      /* sub: user name, or client id for systems */
    const char *client_id;    /* the OAuth client that obtained the token */
    const char *organization; /* member organization id (clinician, member system), or NULL */
    const char *patient;      /* regional person id (patient role), or NULL */
    const char *display_name; /* for audit and the portal, or NULL */
    const char *token_id;     /* jti */
    enum gw_auth_pou purpose; /* default purpose of use */
    struct gw_auth_scopes scopes;
    int64_t issued_at;  /* iat */
    int64_t expires_at; /* exp */
};

struct gw_auth_token_config {
    const char *issuer;      /* iss of our tokens (the gateway's base URL) */
    const char *audience;    /* aud of our tokens (the FHIR base URL) */
    int64_t user_lifetime;   /* seconds; portal users */
    int64_t system_lifetime; /* seconds; client_credentials */
    int64_t leeway;          /* clock skew tolerated */
};

#define GW_AUTH_USER_LIFETIME_DEFAULT   900 /* 15 min: portal sessions re-authenticate */
#define GW_AUTH_SYSTEM_LIFETIME_DEFAULT 300 /* SMART Backend Services recommends <= 5 min */

/* Defaults for lifetimes and leeway; issuer and audience are left NULL. */
void gw_auth_token_config_default(struct gw_auth_token_config *cfg);

/*
 * Issue an access token for `p` (typ "at+jwt"; claims iss, sub, aud, exp,
 * iat, nbf, jti, scope, client_id, role, organization, patient,
 * purpose_of_use, name).  The lifetime follows the role (member systems:
 * system_lifetime).  `p->scopes` must satisfy the role rules, and a
 * clinician or member system needs an organization, a patient a patient
 * link (BASE_E_INVALID otherwise).  `out_expires_in` may be NULL.
 */
BASE_MUST_CHECK int gw_auth_token_issue(struct base_arena *a, const struct gw_auth_keyset *ks,
                                        const struct gw_auth_token_config *cfg,
                                        const struct gw_auth_principal *p, int64_t now,
                                        char **out_token, int64_t *out_expires_in,
                                        struct base_err *err);

/*
 * Verify one of our access tokens: framing, typ at+jwt, kid/alg/signature,
 * iss, aud, exp/nbf/iat with leeway, required claims, then the role rules
 * (scopes within the role's ceiling, organization / patient present,
 * purpose allowed).  BASE_E_AUTH on any failure.
 */
BASE_MUST_CHECK int gw_auth_token_verify(struct base_arena *a, const struct gw_auth_keyset *ks,
                                         const struct gw_auth_token_config *cfg, const char *token,
                                         size_t len, int64_t now, struct gw_auth_principal **out,
                                         struct base_err *err);

/* ======================================================================
 * Authorization header framing (RFC 7235, RFC 6750 §2.1, RFC 7617)
 * ====================================================================== */

enum gw_auth_scheme { GW_AUTH_SCHEME_BEARER = 1, GW_AUTH_SCHEME_BASIC = 2 };

struct gw_auth_credentials {
    enum gw_auth_scheme scheme;
    struct base_str token; /* Bearer: the token68, borrowed from the header */
    const char *user;      /* Basic: decoded user-id (arena) */
    const char *password;  /* Basic: decoded password (arena; wiped when it is freed) */
};

/*
 * Parse an Authorization header value: scheme (case-insensitive), one or
 * more spaces, credentials.  Bearer: b64token syntax (RFC 6750).  Basic:
 * base64 of user-id ":" password, UTF-8, no control characters.  Errors:
 * BASE_E_AUTH (empty, unknown scheme, bad syntax, longer than
 * BASE_LIMIT_AUTH_MAX_HEADER) — all mean 401.
 */
BASE_MUST_CHECK int gw_auth_header_parse(struct base_arena *a, const char *value, size_t len,
                                         struct gw_auth_credentials *out, struct base_err *err);

/*
 * What the HTTP layer calls for every protected request: parse the
 * Authorization header (`value` NULL when absent → "missing token") and
 * verify the Bearer token.  BASE_E_AUTH on any failure.
 */
BASE_MUST_CHECK int gw_auth_bearer_verify(struct base_arena *a, const struct gw_auth_keyset *ks,
                                          const struct gw_auth_token_config *cfg, const char *value,
                                          size_t len, int64_t now, struct gw_auth_principal **out,
                                          struct base_err *err);

/* 401 for authentication failures, 403 for "forbidden" (scope, role), 429
 * for "throttled", 503 for BASE_E_IO, else 400/500 by rc. */
unsigned gw_auth_http_status(const struct base_err *err);

/*
 * The WWW-Authenticate value for a failed request (RFC 6750 §3):
 * `Bearer realm="fhirgate"` plus error="invalid_request" | "invalid_token" |
 * "insufficient_scope" and error_description from err->msg (client-safe).
 * A missing token gets no error attribute (§3.1).
 */
BASE_MUST_CHECK int gw_auth_challenge(const struct base_err *err, struct base_buf *out);

/* ======================================================================
 * Passwords
 * ====================================================================== */

enum gw_auth_pw_alg {
    GW_AUTH_PW_SCRYPT = 1, /* RFC 7914 */
    GW_AUTH_PW_PBKDF2 = 2  /* PBKDF2-HMAC-SHA256, RFC 8018 */
};

struct gw_auth_pw_params {
    enum gw_auth_pw_alg alg;
    unsigned log2_n;     /* scrypt: N = 2^log2_n */
    unsigned r;          /* scrypt block size */
    unsigned p;          /* scrypt parallelism */
    unsigned iterations; /* PBKDF2 */
};

/* Longest encoded hash, with the NUL. */
#define GW_AUTH_PW_HASH_MAX 160

/* scrypt N=2^15, r=8, p=3 (OWASP's 32 MiB profile). */
void gw_auth_pw_params_default(struct gw_auth_pw_params *p);

/*
 * Hash a password with a random 16-byte salt into the self-describing PHC
 * string `$scrypt$ln=15,r=8,p=3$SALT$HASH` or `$pbkdf2-sha256$i=600000$SALT$HASH`
 * (B64 without padding) in `out` (cap >= GW_AUTH_PW_HASH_MAX).
 * BASE_E_INVALID for parameters out of range (PBKDF2 < 600,000 iterations).
 */
BASE_MUST_CHECK int gw_auth_password_hash(const char *pw, size_t len,
                                          const struct gw_auth_pw_params *p, char *out, size_t cap,
                                          struct base_err *err);
/*
 * Check `pw` against an encoded hash in constant time.  *out_match tells
 * the result; the return value is BASE_E_INVALID only when `encoded` is not
 * a hash we can read (bounded parameters, so a stored value cannot make us
 * burn unbounded memory or time).
 */
BASE_MUST_CHECK int gw_auth_password_verify(const char *pw, size_t len, const char *encoded,
                                            bool *out_match, struct base_err *err);
/* True when `encoded` uses another algorithm or weaker parameters than `p`. */
bool gw_auth_password_needs_rehash(const char *encoded, const struct gw_auth_pw_params *p);
/* Burn the same time as a verify against a hash with `p` (unknown users). */
void gw_auth_password_dummy_verify(const char *pw, size_t len, const struct gw_auth_pw_params *p);
/*
 * Policy for new passwords (NIST SP 800-63B §5.1.1.2): at least
 * BASE_LIMIT_AUTH_MIN_PASSWORD characters, at most
 * BASE_LIMIT_AUTH_MAX_PASSWORD bytes, valid UTF-8 without control
 * characters, not the user name.  BASE_E_INVALID.
 */
BASE_MUST_CHECK int gw_auth_password_check_policy(const char *pw, size_t len, const char *username,
                                                  struct base_err *err);

/* ======================================================================
 * Users, clients, lockout (records the stores return)
 * ====================================================================== */

struct gw_auth_user {
    int64_t id;
    const char *username; /* lower case, [a-z0-9._@-], 1..64 */
    const char *display_name;
    enum gw_auth_role role;   /* clinician | regulator | admin | patient */
    const char *organization; /* member organization id; required for clinicians */
    const char *patient;      /* regional person id; required for patients */
    bool is_enabled;
    const char *password_hash; /* PHC string; never leaves the auth module */
};

/* A SMART Backend Services client (a member system or a regulator's system). */
struct gw_auth_client {
    const char *client_id;
    const char *display_name;
    enum gw_auth_role role;     /* member-system | regulator */
    const char *organization;   /* member organization id (member systems) */
    const char *jwks;           /* the client's public JWK Set (JSON text) */
    const char *allowed_scopes; /* ceiling for this client, scope text */
    bool is_enabled;
};

/* A SMART App Launch app: a public client (RFC 6749 §2.1; no secret — PKCE
 * S256 protects its codes) run by a user in a browser or as a native app. */
struct gw_auth_app_client {
    const char *client_id;
    const char *display_name;
    const char **redirect_uris; /* exact, as registered */
    size_t redirect_count;      /* 1..BASE_LIMIT_AUTH_MAX_REDIRECT_URIS */
    const char *allowed_scopes; /* ceiling for this app, scope text */
    bool is_enabled;
};

/* One issued authorization code, as stored (RFC 6749 §4.1.2: bound to the
 * client, the redirect URI, the PKCE challenge, the user and the scopes). */
struct gw_auth_code {
    const char *code_hash; /* base64url SHA-256 of the code (43 chars) */
    const char *client_id;
    const char *redirect_uri;
    const char *code_challenge; /* S256, base64url (43 chars) */
    const char *username;
    const char *scope; /* granted scope text */
    const char *nonce; /* OpenID Connect nonce, or NULL */
    int64_t expires_at;
};

/* One refresh token, as stored (RFC 6749 §6; rotated as OAuth 2.1 §4.3.1
 * and RFC 9700 §4.14.2 require: each use spends it and issues the next of
 * the same family; presenting a spent one revokes the family). */
struct gw_auth_refresh {
    const char *token_hash; /* base64url SHA-256 of the token (43 chars) */
    const char *family_id;  /* shared by every rotation of one sign-in */
    const char *client_id;  /* the app it was issued to */
    const char *username;
    const char *scope;  /* the sign-in's granted scope: a refresh may only narrow it */
    int64_t expires_at; /* the family's absolute end */
};

/* Normalize and check a user name: ASCII lower case, [a-z0-9._@-], starts
 * with a letter or digit, 1..BASE_LIMIT_AUTH_MAX_USERNAME bytes.  Writes the
 * normalized name into `out` (cap > BASE_LIMIT_AUTH_MAX_USERNAME).
 * BASE_E_INVALID. */
BASE_MUST_CHECK int gw_auth_username_normalize(const char *name, size_t len, char *out, size_t cap,
                                               struct base_err *err);

/* Check a user record before it is stored (role allowed for users,
 * organization for clinicians, patient link for patients).  BASE_E_INVALID. */
BASE_MUST_CHECK int gw_auth_user_check(const struct gw_auth_user *u, struct base_err *err);

/* ----------------------------------------------------------------------
 * The user's FHIR resource (SMART App Launch 2.x §fhirUser)
 * ---------------------------------------------------------------------- */

/* The system of Practitioner.identifier: the user's sign-in name. */
#define GW_AUTH_USER_SYSTEM "urn:fhirgate:user"

/* Clinicians, regulators and administrators are persons acting for an
 * organization of the region: each is a Practitioner.  Patients are their
 * Patient; member systems are no person. */
bool gw_auth_role_has_practitioner(enum gw_auth_role role);
/*
 * The Practitioner id of a user name: the name itself, with '_' written
 * 'U' and '@' written 'A' (a FHIR id holds [A-Za-z0-9.-]; user names are
 * lower case, so the mapping is one to one).  cap > the name's length.
 * BASE_E_INVALID for a name that is not one.
 */
BASE_MUST_CHECK int gw_auth_practitioner_id(const char *username, char *out, size_t cap,
                                            struct base_err *err);
/* The reverse: the user name a Practitioner id names.  BASE_E_NOTFOUND
 * ("no such practitioner", never quoting the id) when it names none. */
BASE_MUST_CHECK int gw_auth_practitioner_username(const char *id, char *out, size_t cap,
                                                  struct base_err *err);
/* "Patient/<person>" for a patient with a record, "Practitioner/<id>" for
 * a clinician, regulator or administrator, NULL for anyone else (member
 * systems): what the id_token's fhirUser and /me name, relative to the
 * FHIR base. */
const char *gw_auth_fhir_user(struct base_arena *a, const struct gw_auth_principal *p);
/* The FHIR R4 Practitioner of a user (new reference; NULL for a role with
 * none, or out of memory).  Never carries the password hash. */
json_t *gw_auth_practitioner(const struct gw_auth_user *u);

struct gw_auth_lockout_policy {
    unsigned user_max_failures; /* failures within `window` that lock a user name */
    unsigned addr_max_failures; /* failures within `window` that block an address */
    int64_t window;             /* seconds */
    int64_t lock_duration;      /* seconds a lock lasts */
};

/* 5 per user, 20 per address, within 15 minutes; locks last 15 minutes. */
void gw_auth_lockout_policy_default(struct gw_auth_lockout_policy *p);

struct gw_auth_throttle {
    bool is_locked;
    bool by_address;     /* the address (not the user name) is blocked */
    int64_t retry_after; /* seconds until the lock ends */
};

/* ======================================================================
 * OAuth2 token endpoint (RFC 6749 §4.3, §4.4; RFC 7523; SMART Backend
 * Services) and discovery documents
 * ====================================================================== */

/* application/x-www-form-urlencoded body, decoded. */
struct gw_auth_form_field {
    const char *name;
    const char *value; /* NUL-terminated; wiped when the arena is freed */
    size_t value_len;
};

struct gw_auth_form {
    struct gw_auth_form_field *fields;
    size_t count;
};

/*
 * Decode a form body (WHATWG urlencoded: '&' separated, '+' is space,
 * %XX).  Refuses repeated fields (RFC 6749 §3.2), malformed escapes,
 * invalid UTF-8, control characters, empty names; limits
 * BASE_LIMIT_AUTH_MAX_FORM / _FORM_FIELDS.  BASE_E_PARSE / BASE_E_LIMIT.
 */
BASE_MUST_CHECK int gw_auth_form_parse(struct base_arena *a, const char *body, size_t len,
                                       struct gw_auth_form *out, struct base_err *err);
/* Value of a field, or NULL. */
const char *gw_auth_form_get(const struct gw_auth_form *f, const char *name);

/*
 * Storage the token endpoint needs.  Each function returns BASE_OK or a
 * negative BASE_E_*; BASE_E_IO means the store is unavailable (503).
 * Strings returned live in the arena passed in.
 */
typedef int (*gw_auth_client_get_fn)(void *ctx, struct base_arena *a, const char *client_id,
                                     struct gw_auth_client **out, struct base_err *err);
typedef int (*gw_auth_user_get_fn)(void *ctx, struct base_arena *a, const char *username,
                                   struct gw_auth_user **out, struct base_err *err);
typedef int (*gw_auth_user_rehash_fn)(void *ctx, const char *username, const char *hash,
                                      struct base_err *err);
/* BASE_E_CONFLICT when (issuer, jti) was already seen and not expired. */
typedef int (*gw_auth_jti_claim_fn)(void *ctx, const char *issuer, const char *jti,
                                    int64_t expires_at, int64_t now, struct base_err *err);
typedef int (*gw_auth_throttle_check_fn)(void *ctx, const char *username, const char *addr,
                                         int64_t now, struct gw_auth_throttle *out,
                                         struct base_err *err);
typedef int (*gw_auth_throttle_fail_fn)(void *ctx, const char *username, const char *addr,
                                        const struct gw_auth_lockout_policy *policy, int64_t now,
                                        struct gw_auth_throttle *out, struct base_err *err);
typedef int (*gw_auth_throttle_success_fn)(void *ctx, const char *username, struct base_err *err);
/* BASE_E_NOTFOUND when unknown. */
typedef int (*gw_auth_app_client_get_fn)(void *ctx, struct base_arena *a, const char *client_id,
                                         struct gw_auth_app_client **out, struct base_err *err);
typedef int (*gw_auth_code_put_fn)(void *ctx, const struct gw_auth_code *code,
                                   struct base_err *err);
/* Mark the code used and return it; BASE_E_NOTFOUND when unknown, already
 * used, or expired at `now` (all the same to the caller: invalid_grant). */
typedef int (*gw_auth_code_take_fn)(void *ctx, struct base_arena *a, const char *code_hash,
                                    int64_t now, struct gw_auth_code **out, struct base_err *err);
typedef int (*gw_auth_refresh_put_fn)(void *ctx, const struct gw_auth_refresh *r, int64_t now,
                                      struct base_err *err);
/* Mark the refresh token used and return it.  BASE_E_NOTFOUND when unknown,
 * expired or revoked; BASE_E_CONFLICT when it was already used — the store
 * has then revoked its whole family (RFC 9700 §4.14.2: one of the two
 * holders is an attacker, and we cannot tell which). */
typedef int (*gw_auth_refresh_take_fn)(void *ctx, struct base_arena *a, const char *token_hash,
                                       int64_t now, struct gw_auth_refresh **out,
                                       struct base_err *err);

struct gw_auth_backend {
    void *ctx; /* passed to every function (a PGconn for the PostgreSQL stores) */
    gw_auth_client_get_fn client_get;
    gw_auth_user_get_fn user_get;
    gw_auth_user_rehash_fn user_rehash;
    gw_auth_jti_claim_fn jti_claim;
    gw_auth_throttle_check_fn throttle_check;
    gw_auth_throttle_fail_fn throttle_fail;
    gw_auth_throttle_success_fn throttle_success;
    /* SMART App Launch (NULL: the authorization-code flow is refused) */
    gw_auth_app_client_get_fn app_client_get;
    gw_auth_code_put_fn code_put;
    gw_auth_code_take_fn code_take;
    /* Refresh tokens (NULL: offline_access / online_access never granted) */
    gw_auth_refresh_put_fn refresh_put;
    gw_auth_refresh_take_fn refresh_take;
    /* RFC 7009: revoke the family of the refresh token with this hash, if it
     * was issued to `client_id` (otherwise nothing happens). */
    int (*refresh_revoke)(void *ctx, const char *token_hash, const char *client_id,
                          struct base_err *err);
    /* Revoke a whole family by its id (a family started by a code is named
     * by the code's hash, so a replayed code ends it: RFC 6749 §4.1.2). */
    int (*refresh_revoke_family)(void *ctx, const char *family_id, struct base_err *err);
};

struct gw_auth_endpoint_config {
    const struct gw_auth_keyset *keys;  /* the gateway's keys (signing key required) */
    struct gw_auth_token_config tokens; /* issuer, audience, lifetimes */
    const char *token_url;              /* absolute URL of POST /auth/token */
    const char *jwks_url;               /* absolute URL of /.well-known/jwks.json */
    const char *authorize_url;          /* absolute URL of /auth/authorize (NULL: no
                                         * authorization-code flow advertised) */
    const char *revocation_url;         /* absolute URL of POST /auth/revoke, or NULL */
    const char *fhir_base;              /* FHIR base URL, prefix of fhirUser (NULL:
                                         * tokens.audience, which defaults to it) */
    bool password_grant;                /* allow grant_type=password (portal users) */
    const char *portal_client_id;       /* client_id of password-grant tokens */
    struct gw_auth_lockout_policy lockout;
    struct gw_auth_pw_params pw_params; /* current parameters; older hashes are upgraded */
    const struct gw_auth_backend *backend;
};

/* What happened, for the audit trail (failed sign-ins included). */
struct gw_auth_event {
    bool is_success;
    const char *grant_type;   /* "password", "client_credentials", "authorization_code",
                               * "refresh_token",
                               * "authorize" (the sign-in page), or NULL */
    const char *subject;      /* user name or client id as presented (never a password) */
    const char *reason;       /* stable code: "granted", "bad-password", "unknown-user",
                               * "user-disabled", "locked", "bad-assertion",
                               * "unknown-client", "client-disabled", "assertion-replayed",
                               * "scope-denied", "unsupported-grant", "invalid-request",
                               * "bad-code", "bad-verifier", "access-denied",
                               * "bad-refresh-token", "refresh-token-reused",
                               * "client-auth-unsupported", "revoked",
                               * "store-unavailable", "internal" */
    enum gw_auth_role role;   /* when known */
    const char *organization; /* when known */
    const char *token_id;     /* jti of the issued token */
};

struct gw_auth_token_response {
    unsigned status; /* 200, 400, 401, 429, 500, 503 */
    char *body;      /* JSON, NUL-terminated, in the arena */
    size_t body_len;
    int64_t retry_after; /* seconds (Retry-After) when status is 429 */
    const char *www_authenticate; /* WWW-Authenticate value to send, or NULL */
    struct gw_auth_event event;
};

/*
 * POST /auth/token.  `form` is the decoded body; `client_addr` the caller's
 * address (throttling).  Always fills `out` (a token response, or an OAuth2
 * error {"error":"invalid_client","error_description":…}); the HTTP layer
 * sends out->body with out->status, Content-Type application/json,
 * Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1), and
 * Retry-After on 429.  Returns BASE_OK when `out` is filled, BASE_E_NOMEM
 * when not even an error body could be built.
 */
BASE_MUST_CHECK int gw_auth_token_endpoint(const struct gw_auth_endpoint_config *cfg,
                                           struct base_arena *a, const struct gw_auth_form *form,
                                           const char *client_addr, int64_t now,
                                           struct gw_auth_token_response *out);
/*
 * A token or revocation request that carries an Authorization header tried
 * HTTP client authentication (client_secret_basic, RFC 6749 §2.3.1), which
 * no client here uses (apps are public, systems sign JWT assertions).
 * RFC 6749 §5.2 then requires 401 invalid_client with a WWW-Authenticate
 * naming the scheme the client used: fills `out` so (out->www_authenticate
 * = `Basic realm="fhirgate"`; an unusable scheme name becomes Basic).
 * The header's value is never echoed beyond its scheme name.
 */
BASE_MUST_CHECK int gw_auth_token_refuse_http_auth(struct base_arena *a, const char *authorization,
                                                   struct gw_auth_token_response *out);
/* Same, from the raw body (a malformed body becomes invalid_request). */
BASE_MUST_CHECK int gw_auth_token_endpoint_body(const struct gw_auth_endpoint_config *cfg,
                                                struct base_arena *a, const char *body, size_t len,
                                                const char *client_addr, int64_t now,
                                                struct gw_auth_token_response *out);

/*
 * POST /auth/revoke (RFC 7009 §2): an app (public client: `client_id`)
 * revokes one of its refresh tokens, which ends the token's family.  200
 * with an empty body whether or not the token was known (§2.2: an invalid
 * token is no error); 401 invalid_client for an unknown or disabled app;
 * 400 invalid_request without `token` or `client_id`; 400
 * unsupported_token_type for an access token (a JWT: self-contained, it
 * cannot be revoked before its at most 15 minutes end); 503 when the
 * store is down.  Sent and audited like the token endpoint's answers
 * (event grant type "revoke").
 */
BASE_MUST_CHECK int gw_auth_revoke_endpoint_body(const struct gw_auth_endpoint_config *cfg,
                                                 struct base_arena *a, const char *body, size_t len,
                                                 int64_t now, struct gw_auth_token_response *out);

/* GET /.well-known/smart-configuration (SMART App Launch 2.x §Conformance):
 * a new JSON object (caller owns the reference), NULL when out of memory. */
json_t *gw_auth_smart_configuration(const struct gw_auth_endpoint_config *cfg);
/* GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0 §3),
 * when the authorization-code flow is configured; NULL otherwise or when
 * out of memory. */
json_t *gw_auth_openid_configuration(const struct gw_auth_endpoint_config *cfg);

/* ======================================================================
 * SMART App Launch 2.0 standalone launch: authorization code + PKCE
 * (RFC 6749 §4.1, RFC 7636, RFC 8252; SMART App Launch 2.x)
 * ====================================================================== */

/* RFC 7636 §4.1/§4.2: a verifier is 43-128 unreserved characters; an S256
 * challenge is exactly 43 base64url characters (32 bytes). */
bool gw_auth_pkce_verifier_ok(const char *verifier, size_t len);
bool gw_auth_pkce_challenge_ok(const char *challenge, size_t len);
/* BASE64URL(SHA256(ASCII(verifier))) == challenge (constant time). */
bool gw_auth_pkce_s256_matches(const char *verifier, size_t len, const char *challenge);

/*
 * May `uri` be registered as a redirect URI?  An absolute URI without
 * fragment or user info (RFC 6749 §3.1.2), no control characters or
 * spaces, at most BASE_LIMIT_AUTH_MAX_REDIRECT_URI bytes, and either
 * https:// with a host, or http:// to a loopback host (127.0.0.1, [::1],
 * localhost) for native apps (RFC 8252 §7.3, §8.3).  BASE_E_INVALID with a
 * message naming the rule (never quoting the URI).
 */
BASE_MUST_CHECK int gw_auth_redirect_uri_check(const char *uri, struct base_err *err);
/* Does `presented` equal `registered`?  Exact string comparison
 * (RFC 9700 §4.1.3), except that for a loopback http URI the port may
 * differ (RFC 8252 §7.3: native apps get an ephemeral port). */
bool gw_auth_redirect_uri_matches(const char *registered, const char *presented);
/* The origin ("https://host:port") of a checked redirect URI, for the
 * sign-in page's CSP form-action; NULL when out of memory or malformed. */
char *gw_auth_redirect_origin(struct base_arena *a, const char *uri);

/*
 * `uri` with the (name, value) pairs appended to its query, each
 * percent-encoded (RFC 3986 unreserved kept); `?` or `&` as the URI
 * already has a query.  `pairs` ends with a NULL name; a NULL value skips
 * the pair.  NULL when out of memory.
 */
char *gw_auth_redirect_build(struct base_arena *a, const char *uri, const char *const *pairs);

/* Append `s` HTML-escaped (& < > " ' → entities) for text and quoted
 * attribute values (HTML Living Standard §13.1.2.3 / OWASP rule #1, #2). */
BASE_MUST_CHECK int gw_auth_html_escape(struct base_buf *out, const char *s);

/* An authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, SMART 2.0
 * "aud"), syntax-checked; strings in the arena. */
struct gw_auth_authz_request {
    const char *response_type;
    const char *client_id;
    const char *redirect_uri;
    const char *scope;
    const char *state; /* NULL when absent */
    const char *aud;
    const char *code_challenge;
    const char *code_challenge_method;
    const char *nonce;          /* OpenID Connect, echoed in the id_token; NULL when absent */
};

/*
 * Read the authorize parameters from a decoded form (the GET query).
 * Fails only on what must NOT be answered by a redirect: client_id or
 * redirect_uri missing or malformed (BASE_E_INVALID, where = the
 * parameter).  The other parameters are copied as given (length-capped:
 * a longer value becomes BASE_E_LIMIT naming it) and judged by
 * gw_auth_authz_request_check().
 */
BASE_MUST_CHECK int gw_auth_authz_request_read(struct base_arena *a, const struct gw_auth_form *f,
                                               struct gw_auth_authz_request *out,
                                               struct base_err *err);
/*
 * The checks answered by an error redirect (RFC 6749 §4.1.2.1):
 * response_type=code, PKCE S256 with a well-formed challenge (plain
 * refused), aud equal to `fhir_base` (one trailing '/' tolerated), a scope
 * that parses.  Returns NULL when the request is acceptable, else the
 * OAuth2 error code ("invalid_request", "unsupported_response_type",
 * "invalid_scope") with *out_description set (static text).
 */
const char *gw_auth_authz_request_check(struct base_arena *a,
                                        const struct gw_auth_authz_request *rq,
                                        const char *fhir_base, const char **out_description);

/* The answer of GET/POST /auth/authorize. */
struct gw_auth_authorize_response {
    unsigned status;      /* 200 page, 302 redirect, 400/429 page, 500, 503 */
    const char *location; /* 302: where to (the client's redirect URI) */
    char *body;           /* text/html; charset=utf-8 (NULL for a 302) */
    size_t body_len;
    const char *csp; /* the page's Content-Security-Policy */
    bool is_sign_in; /* a sign-in was attempted: audit `event` */
    struct gw_auth_event event;
};

/*
 * GET /auth/authorize?… (`query`: the raw query string).  Unknown client
 * or an unregistered redirect URI: a 400 page, never a redirect.  Other
 * errors: 302 to the redirect URI with error, error_description, state.
 * Otherwise the sign-in and approval page, carrying the request signed
 * with the gateway's key (so the POST cannot alter it).  BASE_OK when
 * `out` is filled; BASE_E_NOMEM otherwise.
 */
BASE_MUST_CHECK int gw_auth_authorize_get(const struct gw_auth_endpoint_config *cfg,
                                          struct base_arena *a, const char *query, size_t len,
                                          int64_t now, struct gw_auth_authorize_response *out);
/*
 * POST /auth/authorize (the page's form).  Verifies the signed request
 * (and that it is recent), then: "deny" → 302 error=access_denied;
 * otherwise the user name and password are checked exactly as the
 * password grant checks them (lockout, throttling, hashing), a failure
 * re-renders the page (400, or 429 when locked), and a success issues a
 * code (BASE_LIMIT_AUTH_CODE_LIFE s, single use) → 302 with code and state.
 */
BASE_MUST_CHECK int gw_auth_authorize_post(const struct gw_auth_endpoint_config *cfg,
                                           struct base_arena *a, const char *body, size_t len,
                                           const char *client_addr, int64_t now,
                                           struct gw_auth_authorize_response *out);

#endif /* GATEWAY_AUTH_GW_AUTH_H */
