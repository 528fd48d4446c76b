/*
 * What the store maintains in a resource: its logical id (random UUIDs for
 * server-assigned ids), meta.versionId and meta.lastUpdated, and the
 * content hash that tells an identical update from a real one.
 */
#include "adapters/store/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "fhir/json/fhir_json.h"

const char *
st_new_id(struct base_arena *a)
{
    unsigned char u[16];
    size_t got = 0;
    char *out;

    while (got < sizeof(u)) {
        ssize_t n = getrandom(u + got, sizeof(u) - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        got += (size_t)n;
    }
    /* RFC 9562 §5.4: version 4, variant 10. */
    u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
    out = base_arena_alloc(a, 37);
    if (out == NULL)
        return NULL;
    st_hex(u, 4, out);
    out[8] = '-';
    st_hex(u + 4, 2, out + 9);
    out[13] = '-';
    st_hex(u + 6, 2, out + 14);
    out[18] = '-';
    st_hex(u + 8, 2, out + 19);
    out[23] = '-';
    st_hex(u + 10, 6, out + 24);
    return out;
}

static int
sha256_hex(const char *data, size_t len, char hex[65], struct base_err *err)
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "hashing failed");
    st_hex(md, 32, hex);
    return BASE_OK;
}

/* Text of the resource without meta + ',"meta":' + meta + '}'. */
static int
append_meta(struct base_buf *b, const json_t *meta, struct base_err *err)
{
    b->len--; /* the closing brace */
    if (b->len > 1)
        TRY(base_buf_putc(b, ','));
    TRY(base_buf_append_cstr(b, "\"meta\":"));
    TRY(fhir_json_dump(meta, FHIR_JSON_COMPACT, b, err));
    return base_buf_putc(b, '}');
}

static int
content_text(struct base_arena *a, json_t *resource, json_t **meta, uint32_t version, int64_t ts,
             char hex[65], const char **text, struct base_err *err)
{
    struct base_buf b;
    int rc;

    base_buf_init(&b, BASE_LIMIT_FHIR_MAX_DOC);
    rc = fhir_json_dump(resource, FHIR_JSON_COMPACT, &b, err);
    if (rc == BASE_OK)
        rc = sha256_hex(b.data, b.len, hex, err);
    if (rc == BASE_OK && version != 0) {
        if (*meta == NULL && (*meta = json_object()) == NULL)
            rc = BASE_E_NOMEM;
        if (rc == BASE_OK)
            rc = st_set_meta_object(*meta, version, ts);
        if (rc == BASE_OK)
            rc = append_meta(&b, *meta, err);
        if (rc == BASE_OK && (*text = base_buf_dup0(&b, a)) == NULL)
            rc = BASE_E_NOMEM;
    }
    base_buf_fini(&b);
    return rc;
}

int
st_content(struct base_arena *a, json_t *resource, uint32_t version, int64_t last_updated_us,
           char hex[65], const char **text, struct base_err *err)
{
    json_t *meta = json_object_get(resource, "meta");
    int rc;

    if (!json_is_object(meta))
        meta = NULL;
    json_incref(meta);
    (void)json_object_del(resource, "meta");
    rc = content_text(a, resource, &meta, version, last_updated_us, hex, text, err);
    /* the tree keeps its meta: the index reads _tag, _profile… from it */
    if (meta != NULL && json_object_set_new(resource, "meta", meta) != 0)
        rc = BASE_E_NOMEM;
    if (rc != BASE_OK && (err == NULL || err->rc == BASE_OK))
        rc = base_err_set(err, rc, "too-costly", NULL, "resource too large to store");
    return rc;
}

size_t
adapter_store_format_instant(int64_t us, char *buf, size_t cap)
{
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int64_t frac = us - secs * 1000000;
    time_t t = (time_t)secs;
    struct tm tm;
    int n;

    if (cap < 32 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return 0;
    n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int
st_set_meta_object(json_t *meta, uint32_t version, int64_t last_updated_us)
{
    char ver[16];
    char when[40];

    if (adapter_store_format_instant(last_updated_us, when, sizeof(when)) == 0)
        return BASE_E_INTERNAL;
    snprintf(ver, sizeof(ver), "%" PRIu32, version);
    if (json_object_set_new(meta, "versionId", json_string(ver)) != 0 ||
        json_object_set_new(meta, "lastUpdated", json_string(when)) != 0)
        return BASE_E_NOMEM;
    return BASE_OK;
}

int
st_set_meta(json_t *resource, uint32_t version, int64_t last_updated_us)
{
    json_t *meta = json_object_get(resource, "meta");

    if (!json_is_object(meta)) {
        meta = json_object();
        if (meta == NULL || json_object_set_new(resource, "meta", meta) != 0)
            return BASE_E_NOMEM;
    }
    return st_set_meta_object(meta, version, last_updated_us);
}

bool
adapter_store_id_ok(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

bool
st_type_ok(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > 64 || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    }
    return true;
}

const char *
adapter_store_action_name(enum adapter_store_action a)
{
    switch (a) {
    case ADAPTER_STORE_CREATED:
        return "created";
    case ADAPTER_STORE_UPDATED:
        return "updated";
    case ADAPTER_STORE_UNCHANGED:
        return "unchanged";
    case ADAPTER_STORE_DELETED:
        return "deleted";
    case ADAPTER_STORE_MATCHED:
        return "matched";
    default:
        return "unknown";
    }
}
