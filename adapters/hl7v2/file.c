/*
 * Whole files: split into messages, convert each, and return one Bundle
 * (the message's transaction Bundle, or for several messages a collection
 * Bundle whose entries are the transaction Bundles, in file order).
 */
#include <stdio.h>
#include <string.h>

#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/arena.h"

static int
convert_one(const struct hl7v2_file_msg *fm, size_t index, const struct hl7v2_file_opts *o,
            json_t **out, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct hl7v2_bundle *b = NULL;
    struct base_err e = {0};
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = hl7v2_convert(a, fm->data.ptr, fm->data.len, o->lim, o->parse, o->map, &b, &e);
    if (rc == BASE_OK)
        rc = hl7v2_bundle_tree(b, out, &e);
    if (rc == BASE_OK && o->on_warning != NULL) {
        for (size_t i = 0; i < b->nwarnings; i++)
            o->on_warning(o->ctx, index, fm->line, b->warnings[i].where, b->warnings[i].msg);
    }
    if (rc != BASE_OK) {
        char where[sizeof(err->where)];

        snprintf(where, sizeof(where), "message %zu (line %u)%s%.90s", index + 1,
                 (unsigned)fm->line, e.where[0] != '\0' ? ": " : "", e.where);
        base_err_set(err, rc, e.issue_code, where, "%s", e.msg);
    }
    base_arena_free(a);
    return rc;
}

int
hl7v2_convert_file(const char *data, size_t len, const struct hl7v2_file_opts *o, json_t **out,
                   struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct hl7v2_file f;
    json_t *coll = NULL;
    json_t *entries = NULL;
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = hl7v2_file_split(a, data, len, o->lim, &f, err);
    if (rc == BASE_OK && f.nmsgs == 1) {
        rc = convert_one(&f.msgs[0], 0, o, out, err);
        goto out;
    }
    if (rc == BASE_OK) {
        coll =
            json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "collection", "entry");
        entries = coll != NULL ? json_object_get(coll, "entry") : NULL;
        if (entries == NULL)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    for (size_t i = 0; rc == BASE_OK && i < f.nmsgs; i++) {
        json_t *bundle = NULL;

        rc = convert_one(&f.msgs[i], i, o, &bundle, err);
        if (rc == BASE_OK &&
            json_array_append_new(entries, json_pack("{s:o}", "resource", bundle)) != 0)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    if (rc == BASE_OK) {
        *out = coll;
        coll = NULL;
    }
out:
    json_decref(coll);
    base_arena_free(a);
    return rc;
}
