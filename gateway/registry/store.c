/*
 * gateway/registry/store.c — registry.member in PostgreSQL.
 */
#include "gateway/registry/gw_registry.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/str.h"
#include "gateway/config/gw_config.h"
#include "gateway/db/gw_db.h"

#define MAX_MEMBERS 10000

static const char *const status_names[] = {"pending", "active", "disabled"};

const char *
gw_registry_status_name(enum gw_registry_status s)
{
    return (unsigned)s < BASE_ARRAY_LEN(status_names) ? status_names[s] : "unknown";
}

bool
gw_registry_status_parse(const char *s, enum gw_registry_status *out)
{
    for (size_t i = 0; s != NULL && i < BASE_ARRAY_LEN(status_names); i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum gw_registry_status)i;
            return true;
        }
    }
    return false;
}

static bool
text_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > max || !base_utf8_valid(s, n, NULL))
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    }
    return true;
}

int
gw_registry_member_check(const struct gw_registry_member *m, bool allow_http,
                         struct base_err *err)
{
    size_t n;

    ENSURE(gw_config_member_id_ok(m->id), err, BASE_E_INVALID, "value", "member",
           "member id must be 1 to 64 of a-z, 0-9, '.', '_' and '-'");
    ENSURE(text_ok(m->name, 200), err, BASE_E_INVALID, "value", "name",
           "name must be 1 to 200 characters of text");
    n = m->base != NULL ? strlen(m->base) : 0;
    ENSURE(n > 10 && n <= 500 &&
               (strncmp(m->base, "https://", 8) == 0 ||
                (allow_http && strncmp(m->base, "http://", 7) == 0)) &&
               strpbrk(m->base, "?# \t\"<>\\") == NULL && text_ok(m->base, 500) &&
               m->base[n - 1] != '/',
           err, BASE_E_INVALID, "value", "base",
           "base must be an absolute https URL without query, fragment or trailing slash");
    ENSURE(m->cert_sha256 == NULL ||
               (strlen(m->cert_sha256) == 64 && strspn(m->cert_sha256, "0123456789abcdef") == 64),
           err, BASE_E_INVALID, "value", "cert_sha256",
           "cert_sha256 must be 64 lower-case hex digits");
    ENSURE(m->cert_subject == NULL || text_ok(m->cert_subject, 500), err, BASE_E_INVALID, "value",
           "cert_subject", "certificate subject is not usable text");
    return BASE_OK;
}

#define COLS                                                                                       \
    "id, name, base, status, cert_sha256, cert_subject, source, "                                 \
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                 \
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char *
dup_val(struct base_arena *a, const PGresult *res, int row, int col)
{
    const char *v = gw_db_val(res, row, col);

    return v != NULL ? base_arena_strdup(a, v) : NULL;
}

static int
row_to_member(struct base_arena *a, const PGresult *res, int row, struct gw_registry_member *m,
              struct base_err *err)
{
    memset(m, 0, sizeof(*m));
    m->id = dup_val(a, res, row, 0);
    m->name = dup_val(a, res, row, 1);
    m->base = dup_val(a, res, row, 2);
    if (!gw_registry_status_parse(gw_db_val(res, row, 3), &m->status))
        m->status = GW_REGISTRY_DISABLED;
    m->cert_sha256 = dup_val(a, res, row, 4);
    m->cert_subject = dup_val(a, res, row, 5);
    m->source = dup_val(a, res, row, 6);
    m->created = dup_val(a, res, row, 7);
    m->updated = dup_val(a, res, row, 8);
    if (m->id == NULL || m->name == NULL || m->base == NULL || m->source == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    return BASE_OK;
}

int
gw_registry_put(struct gw_db_conn *c, const struct gw_registry_member *m, struct base_err *err)
{
    const char *v[7] = {m->id,          m->name,         m->base,
                        gw_registry_status_name(m->status), m->cert_sha256, m->cert_subject,
                        m->source != NULL ? m->source : "admin"};

    return gw_db_exec(c, "registry.put",
                      "INSERT INTO registry.member (id, name, base, status, cert_sha256, "
                      "cert_subject, source) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                      "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, base = EXCLUDED.base, "
                      "status = EXCLUDED.status, cert_sha256 = EXCLUDED.cert_sha256, "
                      "cert_subject = EXCLUDED.cert_subject, updated_at = now()",
                      7, v, NULL, err);
}

int
gw_registry_seed(struct gw_db_conn *c, const struct gw_registry_member *m, struct base_err *err)
{
    const char *v[5] = {m->id, m->name, m->base, gw_registry_status_name(m->status),
                        m->cert_sha256};

    return gw_db_exec(c, "registry.seed",
                      "INSERT INTO registry.member (id, name, base, status, cert_sha256, source) "
                      "VALUES ($1, $2, $3, $4, $5, 'config') ON CONFLICT (id) DO UPDATE SET "
                      "name = EXCLUDED.name, base = EXCLUDED.base, cert_sha256 = "
                      "COALESCE(EXCLUDED.cert_sha256, registry.member.cert_sha256), "
                      "updated_at = now()",
                      5, v, NULL, err);
}

int
gw_registry_get(struct gw_db_conn *c, struct base_arena *a, const char *id,
                struct gw_registry_member *out, struct base_err *err)
{
    PGresult *res = NULL;
    int rc;

    TRY(gw_db_exec(c, "registry.get", "SELECT " COLS " FROM registry.member WHERE id = $1", 1,
                   &id, &res, err));
    if (PQntuples(res) == 0)
        rc = base_err_set(err, BASE_E_NOTFOUND, "not-found", "member", "no such member");
    else
        rc = row_to_member(a, res, 0, out, err);
    PQclear(res);
    return rc;
}

int
gw_registry_list(struct gw_db_conn *c, struct base_arena *a, struct gw_registry_member **out,
                 size_t *n, struct base_err *err)
{
    PGresult *res = NULL;
    int rows;
    int rc = BASE_OK;

    *out = NULL;
    *n = 0;
    TRY(gw_db_exec(c, "registry.list",
                   "SELECT " COLS " FROM registry.member ORDER BY id LIMIT 10000", 0, NULL, &res,
                   err));
    rows = PQntuples(res);
    *out = BASE_NEW_N(a, struct gw_registry_member, (size_t)rows + 1);
    if (*out == NULL)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", "registry", "out of memory");
    for (int i = 0; rc == BASE_OK && i < rows && i < MAX_MEMBERS; i++)
        rc = row_to_member(a, res, i, &(*out)[i], err);
    if (rc == BASE_OK)
        *n = (size_t)rows;
    PQclear(res);
    return rc;
}

int
gw_registry_set_status(struct gw_db_conn *c, const char *id, enum gw_registry_status s,
                       struct base_err *err)
{
    const char *v[2] = {id, gw_registry_status_name(s)};
    PGresult *res = NULL;
    int rc = BASE_OK;

    TRY(gw_db_exec(c, "registry.status",
                   "UPDATE registry.member SET status = $2, updated_at = now() WHERE id = $1", 2,
                   v, &res, err));
    if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = base_err_set(err, BASE_E_NOTFOUND, "not-found", "member", "no such member");
    PQclear(res);
    return rc;
}

int
gw_registry_register(struct gw_db_conn *c, struct base_arena *a,
                     const struct gw_registry_member *m, bool auto_approve,
                     struct gw_registry_member *out, bool *created, struct base_err *err)
{
    struct gw_registry_member cur;
    struct gw_registry_member next = *m;
    struct base_err nf = {0};
    int rc;

    *created = false;
    TRY(gw_db_begin(c, NULL, err));
    rc = gw_db_exec(c, "registry.lock", "SELECT pg_advisory_xact_lock(hashtext('registry.' || $1))",
                    1, &m->id, NULL, err);
    if (rc == BASE_OK)
        rc = gw_registry_get(c, a, m->id, &cur, &nf);
    if (rc == BASE_E_NOTFOUND) {
        next.status = auto_approve ? GW_REGISTRY_ACTIVE : GW_REGISTRY_PENDING;
        next.source = "self";
        *created = true;
        rc = gw_registry_put(c, &next, err);
    } else if (rc == BASE_OK) {
        /* Only the certificate that registered a member may change it. */
        if (cur.cert_sha256 == NULL || m->cert_sha256 == NULL ||
            strcmp(cur.cert_sha256, m->cert_sha256) != 0) {
            rc = base_err_set(err, BASE_E_CONFLICT, "conflict", "member",
                              "member is registered with another certificate");
        } else {
            next.status = cur.status;
            next.source = cur.source;
            rc = gw_registry_put(c, &next, err);
        }
    } else {
        *err = nf;
    }
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    if (rc != BASE_OK) {
        gw_db_rollback(c);
        return rc;
    }
    return gw_registry_get(c, a, m->id, out, err);
}
