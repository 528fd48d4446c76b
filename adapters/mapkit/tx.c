/*
 * Transaction Bundles with conditional updates keyed by business identifier.
 */
#include "adapters/mapkit/mapkit.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/buf.h"

int
adapter_tx_init(struct adapter_tx *tx, size_t max_entries, struct base_err *err)
{
    memset(tx, 0, sizeof(*tx));
    tx->max_entries = max_entries;
    tx->bundle = json_object();
    tx->entries = json_array();
    tx->index = json_object();
    if (tx->bundle == NULL || tx->entries == NULL || tx->index == NULL ||
        json_object_set_new(tx->bundle, "resourceType", json_string("Bundle")) != 0 ||
        json_object_set_new(tx->bundle, "type", json_string("transaction")) != 0 ||
        json_object_set(tx->bundle, "entry", tx->entries) != 0) {
        json_decref(tx->entries);
        adapter_tx_fini(tx);
        return base_err_set(err, BASE_E_NOMEM, "exception", "Bundle", "out of memory");
    }
    json_decref(tx->entries); /* the Bundle holds it now; tx->entries is borrowed */
    return BASE_OK;
}

void
adapter_tx_fini(struct adapter_tx *tx)
{
    json_decref(tx->bundle);
    json_decref(tx->index);
    tx->bundle = NULL;
    tx->entries = NULL;
    tx->index = NULL;
}

size_t
adapter_tx_count(const struct adapter_tx *tx)
{
    return tx->entries == NULL ? 0 : json_array_size(tx->entries);
}

json_t *
adapter_tx_take(struct adapter_tx *tx)
{
    json_t *b = tx->bundle;

    if (b != NULL && json_array_size(tx->entries) == 0)
        (void)json_object_del(b, "entry"); /* bdl-... an empty Bundle has no entry array */
    tx->bundle = NULL;
    tx->entries = NULL;
    json_decref(tx->index);
    tx->index = NULL;
    return b;
}

/* Key of the dedup index: Type NUL-free text "Type|system|value" with the
 * separators escaped so that no two keys collide. */
static int
index_key(struct base_buf *b, const char *type, const char *system, const char *value)
{
    const char *parts[3] = {type, system, value};

    for (size_t i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p != '\0'; p++) {
            if (*p == '|' || *p == '\\')
                TRY(base_buf_putc(b, '\\'));
            TRY(base_buf_putc(b, *p));
        }
        if (i < 2)
            TRY(base_buf_putc(b, '|'));
    }
    return BASE_OK;
}

const char *
adapter_tx_find(const struct adapter_tx *tx, const char *type, const char *system,
                const char *value)
{
    struct base_buf key;
    const char *url = NULL;

    if (tx->index == NULL)
        return NULL;
    base_buf_init(&key, 1u << 20);
    if (index_key(&key, type, system, value) == BASE_OK && key.data != NULL)
        url = json_string_value(json_object_get(tx->index, key.data));
    base_buf_fini(&key);
    return url;
}

int
adapter_url_encode(struct base_buf *b, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
                     (keep != NULL && strchr(keep, *p) != NULL);

        if (plain) {
            TRY(base_buf_putc(b, (char)*p));
            continue;
        }
        TRY(base_buf_putc(b, '%'));
        TRY(base_buf_putc(b, hex[*p >> 4]));
        TRY(base_buf_putc(b, hex[*p & 0x0f]));
    }
    return BASE_OK;
}

/* One search value: FHIR R4 search.html#escaping puts a backslash before
 * the characters that separate parameter parts (\ , $ |), then the URL
 * encoding; ':' and '/' stay readable. */
static int
put_escaped(struct base_buf *b, const char *s)
{
    char one[2] = {0, 0};

    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\\' || *p == ',' || *p == '$' || *p == '|')
            TRY(base_buf_append(b, "%5C", 3));
        one[0] = *p;
        TRY(adapter_url_encode(b, one, ":/"));
    }
    return BASE_OK;
}

json_t *
adapter_identifier_query(const char *type, const char *system, const char *value)
{
    struct base_buf b;
    json_t *s = NULL;

    base_buf_init(&b, 1u << 20);
    if (base_buf_append_cstr(&b, type) == BASE_OK &&
        base_buf_append_cstr(&b, "?identifier=") == BASE_OK && put_escaped(&b, system) == BASE_OK &&
        base_buf_putc(&b, '|') == BASE_OK && put_escaped(&b, value) == BASE_OK)
        s = json_stringn(b.data, b.len);
    base_buf_fini(&b);
    return s;
}

json_t *
adapter_reference(const char *ref, const char *display)
{
    json_t *r = json_object();

    if (r == NULL)
        return NULL;
    if ((ref != NULL && adapter_jset_str(r, "reference", ref) != BASE_OK) ||
        (display != NULL && adapter_jset_str(r, "display", display) != BASE_OK)) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *
new_entry(const char *full_url, json_t *res, const char *type, const char *system,
          const char *value)
{
    json_t *e = json_object();
    json_t *req = json_object();

    if (e == NULL || req == NULL || adapter_jset_str(e, "fullUrl", full_url) != BASE_OK ||
        adapter_jset(e, "resource", json_incref(res)) != BASE_OK ||
        adapter_jset_str(req, "method", "PUT") != BASE_OK ||
        adapter_jset(req, "url", adapter_identifier_query(type, system, value)) != BASE_OK ||
        adapter_jset(e, "request", req) != BASE_OK) {
        json_decref(e);
        return NULL;
    }
    return e;
}

int
adapter_tx_put(struct adapter_tx *tx, json_t *res, const char *system, const char *value,
               const char **full_url, struct base_err *err)
{
    const char *type = json_string_value(json_object_get(res, "resourceType"));
    char url[9 + ADAPTER_UUID_LEN + 1] = "urn:uuid:";
    struct base_buf key;
    json_t *entry;
    int rc = BASE_OK;

    base_buf_init(&key, 1u << 20);
    if (type == NULL || system == NULL || value == NULL || system[0] == '\0' || value[0] == '\0') {
        rc = base_err_set(err, BASE_E_INVALID, "required", type != NULL ? type : "Bundle.entry",
                          "resource has no business identifier");
        goto out;
    }
    if (index_key(&key, type, system, value) != BASE_OK || key.data == NULL) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", type, "out of memory");
        goto out;
    }
    const char *seen = json_string_value(json_object_get(tx->index, key.data));
    if (seen != NULL) {
        if (full_url != NULL)
            *full_url = seen;
        goto out;
    }
    if (tx->max_entries != 0 && json_array_size(tx->entries) >= tx->max_entries) {
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", type, "bundle exceeds %zu entries",
                          tx->max_entries);
        goto out;
    }
    adapter_uuid5(key.data, key.len, url + 9);
    entry = new_entry(url, res, type, system, value);
    if (entry == NULL || json_array_append_new(tx->entries, entry) != 0 ||
        json_object_set_new(tx->index, key.data, json_string(url)) != 0) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", type, "out of memory");
        goto out;
    }
    if (full_url != NULL)
        *full_url = json_string_value(json_object_get(
            json_array_get(tx->entries, json_array_size(tx->entries) - 1), "fullUrl"));
out:
    json_decref(res);
    base_buf_fini(&key);
    return rc;
}
