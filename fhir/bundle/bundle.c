/*
 * Bundle trees: searchset / collection / responses, entries, paging links
 * (FHIR R4 §2.36 Bundle, §3.1.1.6 paging).
 */
#include "fhir/bundle/fhir_bundle.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"

const char *
fhir_bundle_type_code(enum fhir_bundle_type t)
{
    switch (t) {
    case FHIR_BUNDLE_SEARCHSET:
        return "searchset";
    case FHIR_BUNDLE_COLLECTION:
        return "collection";
    case FHIR_BUNDLE_TRANSACTION_RESPONSE:
        return "transaction-response";
    case FHIR_BUNDLE_BATCH_RESPONSE:
        return "batch-response";
    case FHIR_BUNDLE_HISTORY:
        return "history";
    default:
        return "collection";
    }
}

static const char *
mode_code(enum fhir_bundle_mode m)
{
    return m == FHIR_BUNDLE_MODE_INCLUDE   ? "include"
           : m == FHIR_BUNDLE_MODE_OUTCOME ? "outcome"
                                           : "match";
}

/* Bundle members in the order of the R4 definition, so that the JSON
 * reads like the spec's examples and converts to XML in order. */
static const char *const member_order[] = {"resourceType", "id",         "meta",  "implicitRules",
                                           "language",     "identifier", "type",  "timestamp",
                                           "total",        "link",       "entry", "signature"};

/* Set key = value (stolen), then move every member that must follow it to
 * the end, keeping the definition order. */
static int
put_in_order(json_t *bundle, const char *key, json_t *value)
{
    size_t k = 0;

    if (value == NULL || json_object_set_new(bundle, key, value) != 0)
        return BASE_E_NOMEM;
    while (k < BASE_ARRAY_LEN(member_order) && strcmp(member_order[k], key) != 0)
        k++;
    for (k++; k < BASE_ARRAY_LEN(member_order); k++) {
        json_t *v = json_object_get(bundle, member_order[k]);

        if (v == NULL)
            continue;
        json_incref(v);
        if (json_object_del(bundle, member_order[k]) != 0 ||
            json_object_set_new(bundle, member_order[k], v) != 0)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

json_t *
fhir_bundle_new(enum fhir_bundle_type type, const char *id, const char *timestamp)
{
    json_t *b = json_object();

    if (b == NULL || json_object_set_new(b, "resourceType", json_string("Bundle")) != 0 ||
        (id != NULL && json_object_set_new(b, "id", json_string(id)) != 0) ||
        json_object_set_new(b, "type", json_string(fhir_bundle_type_code(type))) != 0 ||
        (timestamp != NULL && json_object_set_new(b, "timestamp", json_string(timestamp)) != 0)) {
        json_decref(b);
        return NULL;
    }
    return b;
}

int
fhir_bundle_set_total(json_t *bundle, uint64_t total)
{
    if (total > (uint64_t)INT64_MAX)
        return BASE_E_INVALID;
    return put_in_order(bundle, "total", json_integer((json_int_t)total));
}

static json_t *
array_member(json_t *bundle, const char *key)
{
    json_t *arr = json_object_get(bundle, key);

    if (arr != NULL)
        return arr;
    return put_in_order(bundle, key, json_array()) == BASE_OK ? json_object_get(bundle, key) : NULL;
}

int
fhir_bundle_add_link(json_t *bundle, const char *relation, const char *url)
{
    json_t *links = array_member(bundle, "link");

    if (links == NULL || relation == NULL || url == NULL)
        return links == NULL ? BASE_E_NOMEM : BASE_E_INVALID;
    return json_array_append_new(links,
                                 json_pack("{s:s, s:s}", "relation", relation, "url", url)) == 0
               ? BASE_OK
               : BASE_E_NOMEM;
}

static int
search_member(json_t *entry, enum fhir_bundle_mode mode, const char *score)
{
    json_t *search;

    if (mode == FHIR_BUNDLE_MODE_NONE)
        return score == NULL ? BASE_OK : BASE_E_INVALID;
    search = json_pack("{s:s}", "mode", mode_code(mode));
    if (search == NULL)
        return BASE_E_NOMEM;
    if (score != NULL) {
        json_t *d = fhir_json_decimal(score, strlen(score));

        if (d == NULL) {
            json_decref(search);
            return BASE_E_INVALID;
        }
        if (json_object_set_new(search, "score", d) != 0) {
            json_decref(search);
            return BASE_E_NOMEM;
        }
    }
    return json_object_set_new(entry, "search", search) == 0 ? BASE_OK : BASE_E_NOMEM;
}

static int
append_entry(json_t *bundle, json_t *entry)
{
    json_t *entries = array_member(bundle, "entry");

    if (entries == NULL) {
        json_decref(entry);
        return BASE_E_NOMEM;
    }
    return json_array_append_new(entries, entry) == 0 ? BASE_OK : BASE_E_NOMEM;
}

int
fhir_bundle_add_entry(json_t *bundle, const char *full_url, json_t *resource,
                      enum fhir_bundle_mode mode, const char *score)
{
    json_t *entry = json_object();
    int rc = BASE_E_NOMEM;

    if (entry == NULL || resource == NULL)
        goto fail;
    if (full_url != NULL && json_object_set_new(entry, "fullUrl", json_string(full_url)) != 0)
        goto fail;
    if (json_object_set(entry, "resource", resource) != 0)
        goto fail;
    rc = search_member(entry, mode, score);
    if (rc != BASE_OK)
        goto fail;
    json_decref(resource);
    return append_entry(bundle, entry);
fail:
    json_decref(entry);
    json_decref(resource);
    return rc;
}

int
fhir_bundle_add_outcome(json_t *bundle, json_t *oo)
{
    return fhir_bundle_add_entry(bundle, NULL, oo, FHIR_BUNDLE_MODE_OUTCOME, NULL);
}

static int
set_opt_str(json_t *o, const char *key, const char *v)
{
    return v == NULL || json_object_set_new(o, key, json_string(v)) == 0 ? BASE_OK : BASE_E_NOMEM;
}

int
fhir_bundle_add_response(json_t *bundle, json_t *resource, const struct fhir_bundle_response *r)
{
    json_t *entry = json_object();
    json_t *resp = json_object();
    int rc = BASE_E_NOMEM;

    if (entry == NULL || resp == NULL || r == NULL || r->status == NULL) {
        rc = r == NULL || r->status == NULL ? BASE_E_INVALID : BASE_E_NOMEM;
        goto fail;
    }
    if (resource != NULL && json_object_set(entry, "resource", resource) != 0)
        goto fail;
    if (set_opt_str(resp, "status", r->status) != BASE_OK ||
        set_opt_str(resp, "location", r->location) != BASE_OK ||
        set_opt_str(resp, "etag", r->etag) != BASE_OK ||
        set_opt_str(resp, "lastModified", r->last_modified) != BASE_OK ||
        (r->outcome != NULL && json_object_set(resp, "outcome", r->outcome) != 0) ||
        json_object_set(entry, "response", resp) != 0)
        goto fail;
    json_decref(resp);
    json_decref(resource);
    json_decref(r->outcome);
    return append_entry(bundle, entry);
fail:
    json_decref(resp);
    json_decref(entry);
    json_decref(resource);
    if (r != NULL)
        json_decref(r->outcome);
    return rc;
}

/* ---- URLs ------------------------------------------------------------------ */

static size_t
base_len(const char *base)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return n;
}

char *
fhir_bundle_full_url(struct base_arena *a, const char *base_url, const char *type, const char *id)
{
    if (base_url == NULL || type == NULL || id == NULL)
        return NULL;
    return base_arena_sprintf(a, "%.*s/%s/%s", (int)base_len(base_url), base_url, type, id);
}

char *
fhir_bundle_page_url(struct base_arena *a, const char *base_url, const char *type,
                     const char *query, const char *cursor)
{
    struct base_buf b;
    char *out = NULL;
    bool has_query = query != NULL && query[0] != '\0';
    int rc;

    if (base_url == NULL || type == NULL)
        return NULL;
    base_buf_init(&b, 64u << 10);
    rc = base_buf_appendf(&b, "%.*s/%s", (int)base_len(base_url), base_url, type);
    if (rc == BASE_OK && (has_query || cursor != NULL))
        rc = base_buf_putc(&b, '?');
    if (rc == BASE_OK && has_query)
        rc = base_buf_append_cstr(&b, query);
    if (rc == BASE_OK && cursor != NULL)
        rc = base_buf_append_cstr(&b, has_query ? "&_cursor=" : "_cursor=");
    for (const char *c = cursor; rc == BASE_OK && c != NULL && *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';

        rc = plain ? base_buf_putc(&b, (char)ch) : base_buf_appendf(&b, "%%%02X", ch);
    }
    if (rc == BASE_OK)
        out = base_buf_dup0(&b, a);
    base_buf_fini(&b);
    return out;
}

static int
push_link(struct base_arena *a, json_t *links, const char *rel, const struct fhir_bundle_paging *p,
          const char *cursor)
{
    char *url = fhir_bundle_page_url(a, p->base_url, p->resource_type, p->query, cursor);

    if (url == NULL)
        return BASE_E_NOMEM;
    return json_array_append_new(links, json_pack("{s:s, s:s}", "relation", rel, "url", url)) == 0
               ? BASE_OK
               : BASE_E_NOMEM;
}

json_t *
fhir_bundle_paging_links(struct base_arena *a, const struct fhir_bundle_paging *p)
{
    json_t *links = json_array();
    int rc;

    if (links == NULL || p == NULL) {
        json_decref(links);
        return NULL;
    }
    rc = push_link(a, links, "self", p, p->self_cursor);
    if (rc == BASE_OK && p->first)
        rc = push_link(a, links, "first", p, NULL);
    if (rc == BASE_OK && p->prev_cursor != NULL)
        rc = push_link(a, links, "previous", p, p->prev_cursor[0] != '\0' ? p->prev_cursor : NULL);
    if (rc == BASE_OK && p->next_cursor != NULL)
        rc = push_link(a, links, "next", p, p->next_cursor);
    if (rc != BASE_OK) {
        json_decref(links);
        return NULL;
    }
    return links;
}

int
fhir_bundle_add_paging_links(struct base_arena *a, json_t *bundle,
                             const struct fhir_bundle_paging *p)
{
    json_t *links = fhir_bundle_paging_links(a, p);
    json_t *have;

    if (links == NULL)
        return BASE_E_NOMEM;
    have = json_object_get(bundle, "link");
    if (have == NULL)
        return put_in_order(bundle, "link", links);
    if (json_array_extend(have, links) != 0) {
        json_decref(links);
        return BASE_E_NOMEM;
    }
    json_decref(links);
    return BASE_OK;
}
